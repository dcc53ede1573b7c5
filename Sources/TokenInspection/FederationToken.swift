import ExtrasBase64
import TenantPolicy

/// A SAML assertion an Entra STS hands over outside OAuth: SAML-P's `SAMLResponse` form field (base64 of the
/// response), WS-Federation's `wresult` form field (the security token response as HTML-escaped XML), or the body of
/// a WS-Trust answer (`RequestSecurityTokenResponse`, `extSTS.srf`, `rst2.srf`). Entra names the tenant that issued it
/// as a v1 token's `iss` does (`https://sts.windows.net/<tid>/`), in the response's and the assertion's `Issuer`.
///
/// Every issuer the XML names must be Entra's and name the same tenant; anything else (an encrypted or compressed
/// token, a ticket that names no issuer, issuers that disagree) is a token whose tenant cannot be read, and is judged
/// as one.
package enum FederationToken: Sendable, Equatable {
    case issued(EntraIssuer.Parsed)
    case unreadable(String)

    /// The most issuers read: a response names two or three.
    private static let maximumIssuers = 64

    /// A `SAMLResponse` field's value: base64 (line breaks allowed) of the response's XML.
    static func read(samlResponse value: [UInt8]) -> FederationToken {
        let text = value.filter { !ByteText.isWhiteSpace($0) }
        guard let xml = try? Base64.decode(bytes: text) else {
            return .unreadable("a SAMLResponse that is not base64 (a compressed redirect binding, or damaged)")
        }
        return read(xml: xml)
    }

    /// A `wresult` field's value as written in the page: XML with HTML's character references.
    static func read(escapedXML value: [UInt8]) -> FederationToken {
        read(xml: HTMLText.unescaped(value))
    }

    /// The XML of a SAML response or a WS-Trust / WS-Federation security token response.
    ///
    /// Every `<` starts a tag, even inside a comment or CDATA: an issuer there counts too, so none can be hidden from
    /// this reader. A tag reaches at most to the next `<` (which XML allows in no tag), so each byte is read at most
    /// twice, whatever the input.
    static func read(xml: [UInt8]) -> FederationToken {
        var issuers: [[UInt8]] = []
        var index = xml.startIndex
        while let open = xml[index...].firstIndex(of: UInt8(ascii: "<")), issuers.count <= maximumIssuers {
            index = open + 1
            let next = xml[index...].firstIndex(of: UInt8(ascii: "<")) ?? xml.endIndex
            let tag = xml[index..<next]
            guard let first = tag.first, first != UInt8(ascii: "/"), first != UInt8(ascii: "?") else { continue }
            let nameEnd =
                tag.firstIndex {
                    ByteText.isWhiteSpace($0) || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ">")
                } ?? tag.endIndex
            let name = tag[..<nameEnd]
            let localName = name.lastIndex(of: UInt8(ascii: ":")).map { name[($0 + 1)...] } ?? name
            if localName.elementsEqual("Issuer".utf8), let close = tag[nameEnd...].firstIndex(of: UInt8(ascii: ">")) {
                let text = tag[(close + 1)...].drop(while: ByteText.isWhiteSpace)
                let end = text.lastIndex { !ByteText.isWhiteSpace($0) }.map { $0 + 1 } ?? text.startIndex
                issuers.append(Array(text[..<end]))
            }
            // SAML 1.1 (WS-Federation, WS-Trust) names it as the assertion's attribute.
            if let value = issuerAttribute(in: tag[nameEnd...]) { issuers.append(value) }
        }
        guard !issuers.isEmpty else { return .unreadable("a SAML or WS-Trust token that names no issuer") }
        guard issuers.count <= maximumIssuers else { return .unreadable("a token naming more than 64 issuers") }
        var parsed: EntraIssuer.Parsed?
        for issuer in issuers {
            let text = String(decoding: issuer, as: UTF8.self)
            guard let entra = EntraIssuer.parse(text) else {
                return .unreadable("a SAML or WS-Trust token issued by '\(text.prefix(100))', not an Entra tenant")
            }
            guard parsed == nil || parsed?.tenant == entra.tenant else {
                return .unreadable("a SAML or WS-Trust token whose issuers name different tenants")
            }
            parsed = entra
        }
        return parsed.map(FederationToken.issued) ?? .unreadable("a SAML or WS-Trust token that names no issuer")
    }

    /// The value of an `Issuer="…"` (or `'…'`) attribute among a tag's attributes.
    private static func issuerAttribute(in attributes: ArraySlice<UInt8>) -> [UInt8]? {
        let key = Array("Issuer".utf8)
        var index = attributes.startIndex
        while index < attributes.endIndex {
            guard let found = attributes[index...].firstIndex(of: key[0]) else { return nil }
            index = found + 1
            guard found > attributes.startIndex, ByteText.isWhiteSpace(attributes[found - 1]),
                attributes[found...].starts(with: key)
            else { continue }
            var cursor = found + key.count
            while cursor < attributes.endIndex, ByteText.isWhiteSpace(attributes[cursor]) { cursor += 1 }
            guard cursor < attributes.endIndex, attributes[cursor] == UInt8(ascii: "=") else { continue }
            cursor += 1
            while cursor < attributes.endIndex, ByteText.isWhiteSpace(attributes[cursor]) { cursor += 1 }
            guard cursor < attributes.endIndex,
                attributes[cursor] == UInt8(ascii: "\"") || attributes[cursor] == UInt8(ascii: "'")
            else { continue }
            let quote = attributes[cursor]
            let end = attributes[(cursor + 1)...].firstIndex(of: quote) ?? attributes.endIndex
            return Array(attributes[(cursor + 1)..<end])
        }
        return nil
    }
}

/// HTML's character references in an attribute's value: the five named ones XML escapes with, and numeric ones.
enum HTMLText {
    private static let named: [(name: [UInt8], byte: UInt8)] = [
        (Array("lt;".utf8), UInt8(ascii: "<")), (Array("gt;".utf8), UInt8(ascii: ">")),
        (Array("amp;".utf8), UInt8(ascii: "&")), (Array("quot;".utf8), UInt8(ascii: "\"")),
        (Array("apos;".utf8), UInt8(ascii: "'")),
    ]

    static func unescaped(_ value: [UInt8]) -> [UInt8] {
        guard value.contains(UInt8(ascii: "&")) else { return value }
        var result: [UInt8] = []
        result.reserveCapacity(value.count)
        var index = 0
        while index < value.count {
            let byte = value[index]
            index += 1
            guard byte == UInt8(ascii: "&") else {
                result.append(byte)
                continue
            }
            let rest = value[index...]
            if let match = named.first(where: { rest.starts(with: $0.name) }) {
                result.append(match.byte)
                index += match.name.count
            } else if let (scalar, length) = numericReference(rest), let ascii = UInt8(exactly: scalar), ascii < 0x80 {
                result.append(ascii)
                index += length
            } else {
                result.append(byte)
            }
        }
        return result
    }

    /// `#NN;` or `#xHH;` naming an ASCII character, and the bytes it spans.
    private static func numericReference(_ text: ArraySlice<UInt8>) -> (UInt32, Int)? {
        guard text.first == UInt8(ascii: "#") else { return nil }
        let hexadecimal = text.dropFirst().first.map { $0 | 0x20 == UInt8(ascii: "x") } ?? false
        let digits = text.dropFirst(hexadecimal ? 2 : 1).prefix(while: { $0 != UInt8(ascii: ";") })
        guard !digits.isEmpty, digits.count <= 6, text.count > (hexadecimal ? 2 : 1) + digits.count else { return nil }
        var value: UInt32 = 0
        for digit in digits {
            guard let parsed = hexadecimal ? ByteText.hexValue(digit) : ByteText.decimalValue(digit) else {
                return nil
            }
            value = value * (hexadecimal ? 16 : 10) + UInt32(parsed)
        }
        return (value, (hexadecimal ? 2 : 1) + digits.count + 1)
    }
}

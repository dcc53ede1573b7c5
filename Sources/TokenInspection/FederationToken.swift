import ExtrasBase64
import TenantPolicy

/// A SAML assertion an Entra STS hands over outside OAuth: SAML-P's `SAMLResponse` form field (base64 of the
/// response), WS-Federation's `wresult` form field (the security token response as HTML-escaped XML), or the body of
/// a WS-Trust answer (`RequestSecurityTokenResponse`, `extSTS.srf`, `rst2.srf`). Entra names the tenant that issued it
/// as a v1 token's `iss` does (`https://sts.windows.net/<tid>/`), in the response's and the assertion's `Issuer`.
///
/// Every issuer the XML names must be Entra's and name the same tenant, as must its `tenantid` attribute; anything
/// else (an encrypted or compressed token, a ticket that names no issuer, issuers that disagree) is a token whose
/// tenant cannot be read, and is judged as one.
package enum FederationToken: Sendable, Equatable {
    case issued(Claims)
    case unreadable(String)

    /// What the assertion says of the sign-in, as a JWT's claims would: the cross-tenant access settings ask who the
    /// user is and where they come from.
    package struct Claims: Sendable, Equatable {
        package var issuer: EntraIssuer.Parsed
        /// `identityprovider`: a guest's home, as a JWT's `idp`.
        package var identityProvider: String?
        /// `objectidentifier`, as a JWT's `oid`.
        package var objectID: String?
        package var groupIDs: [String] = []
        /// False when the assertion links to the groups instead of listing them (`groups.link`, Entra's overage past
        /// 150) or lists more than are kept: the user is then in groups nobody here can see.
        package var groupsListedInFull = true
    }

    /// The most issuers read: a response names two or three.
    private static let maximumIssuers = 64
    private static let maximumGroups = 256
    private static let claimNamespace = "http://schemas.microsoft.com/identity/claims/"
    private static let groupsClaim = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
    private static let groupsLinkClaim = "http://schemas.microsoft.com/claims/groups.link"

    /// A `SAMLResponse` field's value: base64 (line breaks allowed) of the response's XML. Nil when the response
    /// carries no assertion (a logout response).
    static func read(samlResponse value: [UInt8]) -> FederationToken? {
        let text = value.filter { !ByteText.isWhiteSpace($0) }
        guard let xml = try? Base64.decode(bytes: text) else {
            return .unreadable("a SAMLResponse that is not base64")
        }
        return read(xml: xml)
    }

    /// A `wresult` field's value as written in the page: XML with HTML's character references.
    static func read(escapedXML value: [UInt8]) -> FederationToken? {
        read(xml: HTMLText.unescaped(value))
    }

    /// The XML of a SAML response or a WS-Trust / WS-Federation security token response; nil when it carries no
    /// token (no assertion, encrypted assertion or requested security token: a logout response).
    ///
    /// Every `<` starts a tag, even inside a comment or CDATA: an issuer there counts too, so none can be hidden from
    /// this reader. A tag reaches at most to the next `<` (which XML allows in no tag), so each byte is read a bounded
    /// number of times, whatever the input. User-influenced text (an attribute's value) cannot make an element, as
    /// its `<` is escaped; at most it adds an issuer, which then disagrees and makes the token unreadable.
    static func read(xml: [UInt8]) -> FederationToken? {
        var issuers: [[UInt8]] = []
        var carriesToken = false
        var attributeName: String?
        var attributes: [String: [String]] = [:]
        var index = xml.startIndex
        while let open = xml[index...].firstIndex(of: UInt8(ascii: "<")), issuers.count <= maximumIssuers {
            index = open + 1
            let next = xml[index...].firstIndex(of: UInt8(ascii: "<")) ?? xml.endIndex
            let tag = XMLTag(xml[index..<next])
            if tag.isClosing {
                if tag.localName.elementsEqual("Attribute".utf8) { attributeName = nil }
                continue
            }
            switch String(decoding: tag.localName, as: UTF8.self) {
            case "Assertion", "EncryptedAssertion", "RequestedSecurityToken":
                carriesToken = true
                // SAML 1.1 (WS-Federation, WS-Trust) names the issuer as the assertion's attribute.
                if let value = tag.attribute("Issuer") { issuers.append(value) }
            case "Issuer":
                if let text = tag.text { issuers.append(text) }
            case "Attribute":
                // SAML 2.0: Name="http://…/claims/tenantid"; SAML 1.1: AttributeNamespace and AttributeName.
                attributeName =
                    (tag.attribute("Name")
                    ?? tag.attribute("AttributeNamespace").map { namespace in
                        namespace + Array("/".utf8) + (tag.attribute("AttributeName") ?? [])
                    }).map { String(decoding: $0, as: UTF8.self) }
            case "AttributeValue":
                // One more than are kept, so that a list past the limit shows as one.
                if let attributeName, let text = tag.text,
                    attributes[attributeName, default: []].count <= maximumGroups
                {
                    attributes[attributeName, default: []].append(String(decoding: text, as: UTF8.self))
                }
            default:
                continue
            }
        }
        guard carriesToken else { return nil }
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
        guard let parsed else { return .unreadable("a SAML or WS-Trust token that names no issuer") }
        let tenantIDs = attributes[claimNamespace + "tenantid", default: []]
        guard tenantIDs.allSatisfy({ TenantID($0) == parsed.tenant }) else {
            return .unreadable("a SAML or WS-Trust token whose tenantid is not its issuer's tenant")
        }
        let groups = attributes[groupsClaim, default: []]
        return .issued(
            Claims(
                issuer: parsed,
                identityProvider: attributes[claimNamespace + "identityprovider"]?.first,
                objectID: attributes[claimNamespace + "objectidentifier"]?.first.map { String($0.prefix(64)) },
                groupIDs: Array(groups.prefix(maximumGroups)),
                groupsListedInFull: groups.count <= maximumGroups && attributes[groupsLinkClaim] == nil
            )
        )
    }
}

/// One tag as `FederationToken` reads it: the bytes from after its `<` to the next `<`.
private struct XMLTag {
    let localName: ArraySlice<UInt8>
    let isClosing: Bool
    /// Its attributes: up to the first `>` outside quotes.
    private let attributes: ArraySlice<UInt8>
    /// What follows its `>` up to the next tag; nil when the tag does not end.
    private let following: ArraySlice<UInt8>?

    init(_ bytes: ArraySlice<UInt8>) {
        isClosing = bytes.first == UInt8(ascii: "/")
        let nameStart = isClosing ? bytes.index(after: bytes.startIndex) : bytes.startIndex
        let nameEnd =
            bytes[nameStart...].firstIndex {
                ByteText.isWhiteSpace($0) || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ">")
            } ?? bytes.endIndex
        let name = bytes[nameStart..<nameEnd]
        localName = name.lastIndex(of: UInt8(ascii: ":")).map { name[($0 + 1)...] } ?? name
        var quote: UInt8?
        var end = nameEnd
        while end < bytes.endIndex {
            let byte = bytes[end]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                break
            }
            end += 1
        }
        attributes = bytes[nameEnd..<end]
        following = end < bytes.endIndex ? bytes[(end + 1)...] : nil
    }

    /// The element's text up to the next tag, without surrounding white space.
    var text: [UInt8]? {
        guard let following else { return nil }
        let start = following.drop(while: ByteText.isWhiteSpace)
        let end = start.lastIndex { !ByteText.isWhiteSpace($0) }.map { $0 + 1 } ?? start.startIndex
        return Array(start[..<end])
    }

    /// The value of the attribute `name` (quoted with `"` or `'`).
    func attribute(_ name: String) -> [UInt8]? {
        let key = Array(name.utf8)
        var index = attributes.startIndex
        while let found = attributes[index...].firstIndex(of: key[0]) {
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

    /// `#NN;` or `#xHH;` naming an ASCII character, and the bytes it spans. At most six digits are looked at, so
    /// that a run of `&#` without `;` costs no more than its length.
    private static func numericReference(_ text: ArraySlice<UInt8>) -> (UInt32, Int)? {
        guard text.first == UInt8(ascii: "#") else { return nil }
        let hexadecimal = text.dropFirst().first.map { $0 | 0x20 == UInt8(ascii: "x") } ?? false
        let prefixLength = hexadecimal ? 2 : 1
        let digits = text.dropFirst(prefixLength).prefix(7).prefix { $0 != UInt8(ascii: ";") }
        guard !digits.isEmpty, digits.count <= 6, digits.endIndex < text.endIndex,
            text[digits.endIndex] == UInt8(ascii: ";")
        else { return nil }
        var value: UInt32 = 0
        for digit in digits {
            guard let parsed = hexadecimal ? ByteText.hexValue(digit) : ByteText.decimalValue(digit) else {
                return nil
            }
            value = value * (hexadecimal ? 16 : 10) + UInt32(parsed)
        }
        return (value, prefixLength + digits.count + 1)
    }
}

/// JSON Web Tokens a request carries outside the carriers `ResourceCredentials` reads by name: in a query parameter
/// or a header of the resource's own (SharePoint's `tempauth=`, `X-MS-Authorization`), a cookie, a form field. A
/// resource may authenticate by any of them, so each is judged as a bearer token is; else a decoy token of an
/// allowed tenant in a named carrier let a blocked tenant's token ride beside it unjudged (review 34).
///
/// A JWS or JWE in its compact form: `eyJ` (the base64url of `{"`), then three or five base64url segments parted by
/// periods, after anything but a letter, digit, `-` or `_` (SharePoint writes `tempauth=v1.eyJ…`). Read after
/// percent-decoding (`%XX`, `%uXXXX`), as a server would decode a parameter before reading it.
package enum EmbeddedTokens {
    /// Shorter runs are not tokens: a header and a payload of any token take more.
    private static let minimumLength = 20
    /// At most this many are read of one value: one more than a request may carry, so that a caller can tell
    /// (`ResourceCredentials.maximumTokens`) and refuse, rather than judge some of them.
    private static let maximumCount = ResourceCredentials.maximumTokens + 1

    /// The tokens in `text` (decoded first, when it holds an escape), each once, in order of appearance.
    package static func find(in text: String) -> [String] {
        var text = text
        return text.withUTF8 { find(inBuffer: $0) }
    }

    package static func find(in bytes: [UInt8]) -> [String] {
        bytes.withUnsafeBufferPointer { find(inBuffer: $0) }
    }

    /// Most values hold no escape: they are searched where they lie, with nothing allocated (every header of every
    /// resource request is searched).
    private static func find(inBuffer text: UnsafeBufferPointer<UInt8>) -> [String] {
        guard text.contains(UInt8(ascii: "%")) else { return find(inDecoded: text) }
        let decoded = FormText.decodedBytes(FormText.decodedUnicodeEscapes(text), limit: .max, plusIsSpace: false)
        return decoded.withUnsafeBufferPointer { find(inDecoded: $0) }
    }

    private static func find(inDecoded bytes: UnsafeBufferPointer<UInt8>) -> [String] {
        var tokens: [String] = []
        var index = 0
        while index + 3 <= bytes.count, tokens.count < maximumCount {
            guard bytes[index] == UInt8(ascii: "e"), bytes[index + 1] == UInt8(ascii: "y"),
                bytes[index + 2] == UInt8(ascii: "J"),
                index == 0 || bytes[index - 1] == UInt8(ascii: ".") || !isTokenByte(bytes[index - 1])
            else {
                index += 1
                continue
            }
            var end = index
            var periods = 0
            while end < bytes.count, isTokenByte(bytes[end]) {
                if bytes[end] == UInt8(ascii: ".") { periods += 1 }
                end += 1
            }
            if periods == 2 || periods == 4, end - index >= minimumLength {
                let token = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
                if !tokens.contains(token) { tokens.append(token) }
            }
            index = end
        }
        return tokens
    }

    /// Whether `text` may hold a token in any spelling, the judge's or not (`x<JWT>`, `<JWT>.json`, `=` padding, two
    /// joined by a period, double percent-encoding): a JWS header's start (`eyJ`) and ten or more base64url bytes up
    /// to a period, after up to three rounds of percent-decoding. Looser than `find`: it says what an audit line must
    /// not hold (review 55 F4 found each of those spellings whole in a `resource_access` line's path).
    package static func mightHold(_ text: Substring) -> Bool {
        var bytes = Array(text.utf8)
        for _ in 0..<3 {
            if holdsTokenStart(bytes) { return true }
            guard bytes.contains(UInt8(ascii: "%")) else { return false }
            let decoded = FormText.decodedBytes(FormText.decodedUnicodeEscapes(bytes), limit: .max, plusIsSpace: false)
            guard decoded != bytes else { return false }
            bytes = decoded
        }
        return holdsTokenStart(bytes)
    }

    private static func holdsTokenStart(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index + 3 <= bytes.count {
            defer { index += 1 }
            guard bytes[index] == UInt8(ascii: "e"), bytes[index + 1] == UInt8(ascii: "y"),
                bytes[index + 2] == UInt8(ascii: "J")
            else { continue }
            var end = index + 3
            while end < bytes.count, bytes[end] != UInt8(ascii: "."),
                isTokenByte(bytes[end]) || bytes[end] == UInt8(ascii: "=")
            {
                end += 1
            }
            if end - index >= 13, end < bytes.count, bytes[end] == UInt8(ascii: ".") { return true }
        }
        return false
    }

    /// base64url's alphabet and the period between segments.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default: false
        }
    }
}

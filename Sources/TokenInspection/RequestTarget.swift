/// A request target in its one canonical spelling: what every path decision inside an intercepted session reads.
///
/// Path rules compare text, and a client can spell one path many ways (`/a/../b`, `//b`, `/%62`, `/b;x`); a rule
/// that sees one spelling while the STS reads another is walked around (CVE-2019-9901, CVE-2021-29492;
/// HARDENING-FACTS 6). Deciding on, and forwarding, this canonical form closes that gap.
package struct CanonicalTarget: Sendable, Equatable {
    /// Starts with `/`; no empty, `.` or `..` segment, no `;params`, unreserved characters decoded.
    package let path: String
    /// The query exactly as sent, without its `?`; nil when there was no `?`.
    package let query: String?

    /// The target to forward: `path`, then `?` and `query` when there is one.
    package var originForm: String {
        guard let query else { return path }
        return path + "?" + query
    }
}

/// Why a request target was refused. `description` quotes at most the first bytes of the target's path, escaped,
/// and never its query (which can carry codes or tokens).
package struct RequestTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Reason: Sendable, Equatable {
        /// Longer than `RequestTarget.maximumLength`.
        case tooLong
        /// A control byte, space, DEL, non-ASCII byte or `\`.
        case forbiddenByte
        /// A `#` fragment, which a client never sends.
        case fragment
        /// `*`, `http://` absolute form, or anything that is neither origin nor `https://` absolute form.
        case unsupportedForm
        /// An authority with `user@`.
        case userinfo
        /// An absolute form naming another host or port than the session's, or an unreadable authority.
        case otherAuthority
        /// `%2F`, `%5C`, an encoded control byte or an encoded non-ASCII byte in the path, or a segment that decodes
        /// to nothing, or to dots and spaces, but is not empty, `.` or `..` as written (`%3B`, `..%3B`, `.%20`, `...`):
        /// readers disagree on them.
        case ambiguousEncoding
        /// `%` not followed by two hexadecimal digits.
        case malformedPercent
    }

    package let reason: Reason
    package let description: String

    /// Longest quoted excerpt of the target, in characters: at most that many bytes of input are quoted, and the
    /// whole description stays under 200 characters even when every byte needs escaping.
    private static let excerptLength = 64

    init(_ reason: Reason, target: UnsafeBufferPointer<UInt8>) {
        self.reason = reason
        let why =
            switch reason {
            case .tooLong: "is longer than \(RequestTarget.maximumLength) bytes"
            case .forbiddenByte: "contains a control, space, non-ASCII or backslash byte"
            case .fragment: "contains a fragment"
            case .unsupportedForm: "is neither an origin-form path nor an https absolute URL"
            case .userinfo: "carries user information"
            case .otherAuthority: "names another host or port than the session's"
            case .ambiguousEncoding:
                "encodes a slash, backslash, control or non-ASCII byte, or has a segment servers decode to "
                    + "nothing, . or .."
            case .malformedPercent: "has a malformed percent escape"
            }
        description = "Request target \(Self.excerpt(target)) \(why)."
    }

    /// The start of the target up to its query or fragment, without user information (`https://user:password@`
    /// shows as `https://…@`), quoted, with every byte outside printable ASCII (and `"`, `\`) as `\xNN` so that a
    /// log line cannot be forged, cut at `excerptLength` characters. What it leaves out is where a password, code or
    /// token travels, and the line goes to every sink (review 37 F2).
    private static func excerpt(_ target: UnsafeBufferPointer<UInt8>) -> String {
        let end = target.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? target.count
        var text = ""
        var quoted = 0
        var index = 0
        let userinfo = userinfoRange(target[..<end])
        while index < end {
            let piece: String
            let byte = target[index]
            if let userinfo, index == userinfo.lowerBound {
                piece = "…"
                index = userinfo.upperBound
            } else {
                piece =
                    byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
                    ? String(Unicode.Scalar(byte))
                    : "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                index += 1
            }
            guard text.utf8.count + piece.utf8.count <= excerptLength else { break }
            text += piece
            quoted = index
        }
        return "\"" + text + (quoted < end ? "…\"" : "\"")
    }

    /// The user information of an absolute target (after `//`, up to the authority's last `@`), if any.
    private static func userinfoRange(_ target: Slice<UnsafeBufferPointer<UInt8>>) -> Range<Int>? {
        let slash = UInt8(ascii: "/")
        guard let colon = target.firstIndex(of: UInt8(ascii: ":")), colon + 2 < target.endIndex,
            target[colon + 1] == slash, target[colon + 2] == slash
        else { return nil }
        let authority = target[(colon + 3)...]
        let authorityEnd = authority.firstIndex(of: slash) ?? target.endIndex
        guard let at = target[(colon + 3)..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) else { return nil }
        return (colon + 3)..<at
    }
}

/// Reads the request target of a request inside an intercepted TLS session (RFC 9112 3.2) into its canonical form.
package enum RequestTarget {
    /// Longest target accepted; token endpoints have short paths and their parameters travel in the body.
    package static let maximumLength = 8192

    /// The canonical form of `raw`, sent inside a TLS session to `sessionHost` (canonical, see `HostName`) on
    /// `sessionPort`, or why it is refused.
    ///
    /// Accepted: origin form (`/path?query`) and `https://host[:port]/path?query` naming the session's own host and
    /// port (a proxy must accept absolute form, RFC 9112 3.2.2, but it must not let the target name another server
    /// than the one the decision was made for). In the path, `%`-encoded unreserved characters are decoded and other
    /// escapes upper-cased (once: `%252F` stays), `;params` are dropped, repeated slashes merged and dot segments
    /// removed (RFC 3986 5.2.4, `..` stops at the root); encoded `/`, `\`, control and non-ASCII bytes are refused
    /// because servers disagree on them. The query is kept as sent.
    package static func canonicalize(
        _ raw: String,
        sessionHost: String,
        sessionPort: Int
    ) -> Result<CanonicalTarget, RequestTargetError> {
        var raw = raw
        return raw.withUTF8 { canonicalize(bytes: $0, sessionHost: sessionHost, sessionPort: sessionPort) }
    }

    private static func canonicalize(
        bytes: UnsafeBufferPointer<UInt8>,
        sessionHost: String,
        sessionPort: Int
    ) -> Result<CanonicalTarget, RequestTargetError> {
        func refuse(_ reason: RequestTargetError.Reason) -> Result<CanonicalTarget, RequestTargetError> {
            .failure(RequestTargetError(reason, target: bytes))
        }
        guard bytes.count <= maximumLength else { return refuse(.tooLong) }
        for byte in bytes {
            guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return refuse(.forbiddenByte) }
            guard byte != UInt8(ascii: "#") else { return refuse(.fragment) }
        }
        var pathStart = 0
        if bytes.first != UInt8(ascii: "/") {
            let authorityStart = "https://".utf8.count
            guard bytes.count > authorityStart, bytes[..<authorityStart].equalsIgnoringASCIICase("https://") else {
                return refuse(.unsupportedForm)
            }
            let authorityEnd =
                bytes[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
                ?? bytes.count
            let authority = UnsafeBufferPointer(rebasing: bytes[authorityStart..<authorityEnd])
            guard !authority.contains(UInt8(ascii: "@")) else { return refuse(.userinfo) }
            guard isSessionAuthority(authority, host: sessionHost, port: sessionPort) else {
                return refuse(.otherAuthority)
            }
            pathStart = authorityEnd
        }
        let queryMark = bytes[pathStart...].firstIndex(of: UInt8(ascii: "?"))
        let path = UnsafeBufferPointer(rebasing: bytes[pathStart..<(queryMark ?? bytes.count)])
        var query: String?
        if let queryMark {
            let queryBytes = UnsafeBufferPointer(rebasing: bytes[(queryMark + 1)...])
            guard hasWellFormedEscapes(queryBytes) else { return refuse(.malformedPercent) }
            query = String(decoding: queryBytes, as: UTF8.self)
        }
        return canonicalPath(path, of: bytes).map { CanonicalTarget(path: $0, query: query) }
    }

    /// Whether an absolute form's `host[:port]` names the session's host and port (no port: 443, https's).
    private static func isSessionAuthority(_ authority: UnsafeBufferPointer<UInt8>, host: String, port: Int) -> Bool {
        // An IPv6 literal keeps its colons inside brackets; otherwise the first colon starts the port.
        let hostEnd =
            authority.first == UInt8(ascii: "[")
            ? (authority.firstIndex(of: UInt8(ascii: "]")).map { $0 + 1 } ?? authority.count)
            : (authority.firstIndex(of: UInt8(ascii: ":")) ?? authority.count)
        guard HostName.canonical(bytes: UnsafeBufferPointer(rebasing: authority[..<hostEnd])) == host else {
            return false
        }
        guard hostEnd < authority.count else { return port == 443 }
        let digits = authority[(hostEnd + 1)...]
        guard authority[hostEnd] == UInt8(ascii: ":"), (1...5).contains(digits.count) else { return false }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value == port
    }

    /// Whether every `%` is followed by two hexadecimal digits.
    private static func hasWellFormedEscapes(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, ByteText.hexValue(bytes[index + 1]) != nil,
                    ByteText.hexValue(bytes[index + 2]) != nil
                else { return false }
                index += 3
            } else {
                index += 1
            }
        }
        return true
    }

    /// The canonical spelling of `target`'s path (empty or starting with `/`); the path itself, without a copy, when
    /// it is already canonical, as nearly every real one is.
    private static func canonicalPath(
        _ path: UnsafeBufferPointer<UInt8>,
        of target: UnsafeBufferPointer<UInt8>
    ) -> Result<String, RequestTargetError> {
        var previous = UInt8(ascii: "/")
        var isCanonical = !path.isEmpty
        for byte in path.dropFirst() {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: ";"): isCanonical = false
            case UInt8(ascii: "/"), UInt8(ascii: "."): if previous == UInt8(ascii: "/") { isCanonical = false }
            default: break
            }
            previous = byte
        }
        if isCanonical { return .success(String(decoding: path, as: UTF8.self)) }

        // Each segment is written as `/` and its bytes, then taken back if it is empty or a dot segment.
        var out: [UInt8] = []
        out.reserveCapacity(path.count + 1)
        var endsInDirectory = true
        var start = path.isEmpty ? 0 : 1
        while start <= path.count {
            let end = path[start...].firstIndex(of: UInt8(ascii: "/")) ?? path.count
            let segmentStart = out.count
            out.append(UInt8(ascii: "/"))
            if let reason = appendSegment(UnsafeBufferPointer(rebasing: path[start..<end]), to: &out) {
                return .failure(RequestTargetError(reason, target: target))
            }
            let segment = out[(segmentStart + 1)...]
            endsInDirectory = true
            if segment.isEmpty || segment.elementsEqual(".".utf8) {
                out.removeSubrange(segmentStart...)
            } else if segment.elementsEqual("..".utf8) {
                out.removeSubrange((out[..<segmentStart].lastIndex(of: UInt8(ascii: "/")) ?? segmentStart)...)
            } else {
                endsInDirectory = false
            }
            start = end + 1
        }
        if endsInDirectory { out.append(UInt8(ascii: "/")) }
        return .success(String(decoding: out, as: UTF8.self))
    }

    /// Appends one path segment up to its `;params`, with unreserved escapes decoded and others upper-cased, or
    /// says why the segment is refused. Escapes in the dropped parameters are checked too.
    ///
    /// A segment that a server decoding every escape, cutting at `;` or dropping trailing dots and spaces (as IIS
    /// does) would read as empty, `.` or `..`, but this form keeps as a name (`%3B`, `..%3B`, `.%20`, `...`), is
    /// refused: that server would step to another place (an Azure DevOps organisation, a tenant) than the one judged.
    private static func appendSegment(
        _ segment: UnsafeBufferPointer<UInt8>,
        to out: inout [UInt8]
    ) -> RequestTargetError.Reason? {
        let keptStart = out.count
        var keeping = true
        // The segment as the most decoding reader sees it, up to a `;` whether written or encoded.
        var decodedCut = true
        var decodedIsDotsAndSpaces = true
        var decodedCount = 0
        func seeDecoded(_ byte: UInt8) {
            guard decodedCut else { return }
            if byte == UInt8(ascii: ";") {
                decodedCut = false
                return
            }
            decodedCount += 1
            if byte != UInt8(ascii: "."), byte != UInt8(ascii: " ") { decodedIsDotsAndSpaces = false }
        }
        var index = 0
        while index < segment.count {
            let byte = segment[index]
            index += 1
            guard byte == UInt8(ascii: "%") else {
                seeDecoded(byte)
                if byte == UInt8(ascii: ";") { keeping = false }
                if keeping { out.append(byte) }
                continue
            }
            guard index + 1 < segment.count, let high = ByteText.hexValue(segment[index]),
                let low = ByteText.hexValue(segment[index + 1])
            else { return .malformedPercent }
            let decoded = high << 4 | low
            index += 2
            switch decoded {
            case 0..<0x20, 0x7F..., UInt8(ascii: "/"), UInt8(ascii: "\\"): return .ambiguousEncoding
            default: break
            }
            seeDecoded(decoded)
            guard keeping else { continue }
            if isUnreserved(decoded) {
                out.append(decoded)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHexDigit(high))
                out.append(upperHexDigit(low))
            }
        }
        if decodedIsDotsAndSpaces {
            let kept = out[keptStart...]
            guard kept.isEmpty || kept.elementsEqual(".".utf8) || kept.elementsEqual("..".utf8) else {
                return .ambiguousEncoding
            }
        }
        return nil
    }

    /// RFC 3986 2.3: `ALPHA DIGIT - . _ ~`, whose escapes mean the same as the characters themselves.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// The upper-case hexadecimal digit of a value below 16: escapes are kept in one case (RFC 3986 6.2.2.1).
    private static func upperHexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}

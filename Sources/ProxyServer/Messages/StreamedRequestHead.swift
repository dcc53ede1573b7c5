import Foundation
import NIOCore
import NIOHTTP1
import TokenInspection

/// The head of a request whose body streams (resource hosts), as it goes upstream and as the proxy reads it.
enum StreamedRequestHead {
    /// What the judge sent on (`judged`: canonical target, the target's Host, no proxy headers) with the client's
    /// own framing, content codings and upgrade put back: the body is not read here, so its framing is the
    /// client's, and the answer is not inspected, so any coding the client accepts will do. `Expect` goes when the
    /// proxy answers 100 Continue itself.
    static func upstream(judged: HTTPRequestHead, client: HTTPRequestHead) -> HTTPRequestHead {
        var head = judged
        for name in ["content-length", "transfer-encoding", "accept-encoding", "expect"] {
            head.headers.remove(name: name)
        }
        if let length = client.headers.first(name: "content-length") {
            head.headers.add(name: "content-length", value: length)
        } else if isChunked(client) {
            head.headers.add(name: "transfer-encoding", value: "chunked")
        }
        for coding in client.headers["accept-encoding"] { head.headers.add(name: "accept-encoding", value: coding) }
        if isWebSocketUpgrade(client) {
            head.headers.add(name: "connection", value: "upgrade")
            head.headers.add(name: "upgrade", value: "websocket")
        }
        return head
    }

    /// Whether the client waits for 100 Continue before it sends the body (RFC 9110 10.1.1).
    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.version == .http1_1
            && head.headers["expect"].contains { $0.utf8.equalsIgnoringASCIICase("100-continue") }
    }

    /// Whether a request asks to switch protocols (`Upgrade` named by `Connection`): the decoder then reads no
    /// further request on the connection, whatever the answer.
    static func asksUpgrade(_ head: HTTPRequestHead) -> Bool {
        // llhttp reads `Proxy-Connection` as it reads `Connection`.
        let asks = { (name: String) in
            head.headers[canonicalForm: name].contains { $0.utf8.equalsIgnoringASCIICase("upgrade") }
        }
        return head.headers.contains(name: "upgrade") && (asks("connection") || asks("proxy-connection"))
    }

    /// Whether the connection may carry another request after this one: not after one that asks to switch protocols
    /// (`Upgrade`, CONNECT), whatever its answer, as the decoder parses nothing after it.
    static func keepsConnection(_ head: HTTPRequestHead) -> Bool {
        head.isKeepAlive && head.method != .CONNECT && !asksUpgrade(head)
    }

    /// Whether the switch asked for is to a WebSocket, the one upgrade passed on: its frames carry no further
    /// requests. Any other (`h2c`) would carry requests past the judge once spliced, so it goes upstream as a plain
    /// request.
    static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
        asksUpgrade(head)
            && head.headers["upgrade"].count == 1
            && head.headers[canonicalForm: "upgrade"].elementsEqual(["websocket"]) { $0.lowercased() == $1 }
    }

    /// Whether a body may follow the head (a length above zero, or chunks).
    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if let length = head.headers.first(name: "content-length") { return length != "0" }
        return isChunked(head)
    }

    /// A form body may carry `access_token`, so it is read before the request is judged.
    static func isForm(_ head: HTTPRequestHead) -> Bool {
        head.headers.first(name: "content-type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
    }

    /// A form body follows the head: it is read whole before the request is judged.
    static func carriesForm(_ head: HTTPRequestHead) -> Bool {
        isForm(head) && hasBody(head)
    }

    /// Why a body that may carry `access_token` cannot be read as the resource would read it, if it cannot: it is
    /// refused, not guessed at. Two `Content-Type`s leave open which one the resource honours; a compressed form or
    /// one in a charset that is not ASCII's superset (UTF-16, say, which ASP.NET Core's form reader decodes) hides
    /// the field from a byte reader.
    static func unreadableForm(_ head: HTTPRequestHead) -> String? {
        // Counted, not gathered: this runs on every request of a resource host.
        let types = head.headers.reduce(0) { $0 + ($1.name.utf8.equalsIgnoringASCIICase("content-type") ? 1 : 0) }
        guard types <= 1 else {
            return "the request carries \(types) Content-Type headers; which one the resource reads is ambiguous"
        }
        guard isForm(head), let type = head.headers.first(name: "content-type") else { return nil }
        if let coding = contentCoding(head) {
            return "the form body is encoded (\(coding.prefix(40))), so a token it may carry cannot be read"
        }
        // Most forms name no parameter: nothing to split (a Character split costs a percent of an exchange).
        guard type.utf8.contains(UInt8(ascii: ";")) else { return nil }
        let parameters = type.lowercased().split(separator: ";").dropFirst()
        let charsets = parameters.compactMap { parameter -> Substring? in
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "charset" else { return nil }
            return Substring(parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: ["\""]))
        }
        guard charsets.count <= 1, charsets.allSatisfy(isASCIICompatible) else {
            return
                "the form's charset (\(charsets.joined(separator: ", ").prefix(40))) is not one a token can be read in"
        }
        return nil
    }

    /// The body's content coding other than `identity` (an empty value names none), if it has one.
    static func contentCoding(_ head: HTTPRequestHead) -> Substring? {
        guard head.headers.contains(name: "content-encoding") else { return nil }
        return head.headers[canonicalForm: "content-encoding"].first { !$0.isEmpty && $0.lowercased() != "identity" }
    }

    /// Whether `access_token=` and a token are the same bytes in `charset` (lower case) as in ASCII: ASCII by any of
    /// its registered names (`ANSI_X3.4-1968` is what Python and Java report under a C locale), UTF-8, and the
    /// single- and multi-byte sets that keep ASCII as is (ISO 8859, Windows 125x, the East Asian EUC and GB sets).
    /// Not UTF-16, UTF-32, UTF-7 or EBCDIC, which hide the field from a byte reader.
    static func isASCIICompatible(_ charset: Substring) -> Bool {
        if asciiCompatibleCharsets.contains(charset) { return true }
        return asciiCompatibleFamilies.contains { charset.hasPrefix($0) }
    }

    private static let asciiCompatibleCharsets: Set<Substring> = [
        "utf-8", "utf8", "unicode-1-1-utf-8", "us-ascii", "ascii", "ansi_x3.4-1968", "ansi_x3.4-1986", "iso646-us",
        "iso_646.irv:1991", "us", "ibm367", "cp367", "csascii", "koi8-r", "koi8-u", "cp437", "ibm437", "cp850",
        "ibm850", "cp866", "ibm866", "gbk", "gb2312", "gb18030", "big5", "euc-jp", "euc-kr", "tis-620", "macintosh",
        // The ISO-IR registrations of ASCII and of ISO 8859 parts (not every ISO-IR set keeps ASCII: iso-ir-87
        // does not).
        "iso-ir-6", "iso-ir-100", "iso-ir-101", "iso-ir-109", "iso-ir-110", "iso-ir-126", "iso-ir-127", "iso-ir-138",
        "iso-ir-144", "iso-ir-148", "iso-ir-157", "iso-ir-199", "iso-ir-226",
        // ISO 8859-1's IBM names, and the IANA short names of the Latin parts (l1 is ISO 8859-1, l6 ISO 8859-10).
        "ibm819", "cp819", "l1", "l2", "l3", "l4", "l5", "l6", "l8", "l10",
    ]
    /// ISO 8859 parts and their Latin aliases, Windows 125x.
    private static let asciiCompatibleFamilies = [
        "iso-8859-", "iso8859-", "iso_8859-", "latin", "csisolatin", "windows-125", "cp125", "x-cp125",
    ]

    private static func isChunked(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "transfer-encoding"].contains { $0.utf8.equalsIgnoringASCIICase("chunked") }
    }
}

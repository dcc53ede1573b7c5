import NIOHTTP1
import TokenInspection

/// How a request's body is delimited, checked before any of it is read.
enum RequestFraming {
    /// Why the request's transfer codings cannot be honoured, if they cannot: anything but one final `chunked`, which
    /// is all the proxy decodes (RFC 9112 6.1: 501). llhttp refuses a list that does not end in `chunked` and reads
    /// `gzip, chunked` as chunked, so the body it hands on is still gzip: the proxy would read it as a form, or send
    /// it on as plain chunks, as something it is not.
    static func unsupportedTransferCoding(_ headers: HTTPHeaders) -> String? {
        guard headers.contains(name: "transfer-encoding") else { return nil }
        let codings = headers[canonicalForm: "transfer-encoding"]
        if codings.count == 1, codings[0].utf8.equalsIgnoringASCIICase("chunked") { return nil }
        let named = codings.joined(separator: ", ").prefix(60)
        return "the request's transfer coding (\(named)) is not one the proxy decodes: send the body with chunked alone"
    }

    /// The declared `Content-Length`, with `Int.max` for one too large for an `Int`: llhttp accepts lengths up to
    /// 2^64 − 1, and such a body is larger than any limit, not one without a length.
    static func declaredLength(_ headers: HTTPHeaders) -> Int? {
        guard let value = headers.first(name: "content-length"), !value.isEmpty,
            value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return Int(value) ?? Int.max
    }
}

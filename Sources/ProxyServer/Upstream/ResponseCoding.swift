import NIOHTTP1

/// How an intercepted answer's body reached the handler: the upstream pipeline decodes a single `gzip` or
/// `deflate` coding (within the inspection limit); any other coding (`br`, `zstd`, stacked codings) is left as it
/// is and so cannot be read.
enum ResponseCoding: Equatable {
    case plain
    /// Decoded by `NIOHTTPResponseDecompressor`; its `Content-Encoding` must not be passed on.
    case decoded
    case undecodable(String)

    init(_ headers: HTTPHeaders) {
        let codings = headers[canonicalForm: "content-encoding"].map { $0.lowercased() }.filter { $0 != "identity" }
        switch codings {
        case []: self = .plain
        case ["gzip"], ["deflate"]: self = .decoded
        default: self = .undecodable(String(codings.joined(separator: ", ").prefix(64)))
        }
    }
}

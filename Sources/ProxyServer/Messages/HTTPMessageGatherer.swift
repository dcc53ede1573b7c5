import NIOCore
import NIOHTTP1

/// Heads whose headers the gatherer reads (`Content-Length`) and completes (the `Trailer` field dropped).
protocol HTTPMessageHead: Equatable {
    var headers: HTTPHeaders { get set }
}

extension HTTPRequestHead: HTTPMessageHead {}
extension HTTPResponseHead: HTTPMessageHead {}

/// Gathers one HTTP message at a time from its parts, within a body limit.
struct HTTPMessageGatherer<Head: HTTPMessageHead> {
    enum Progress {
        /// More parts are needed (or the part belonged to a message already refused).
        case incomplete
        case complete(Head, body: ByteBuffer?)
        /// The body exceeds the limit; the rest of this message is ignored.
        case tooLarge
    }

    let limit: Int
    private var receiving: (head: Head, body: BoundedBody)?

    init(limit: Int) {
        self.limit = limit
    }

    mutating func receive(_ part: HTTPPart<Head, ByteBuffer>) -> Progress {
        switch part {
        case .head(let head):
            let body = BoundedBody(limit: limit)
            guard !body.refuses(declaredLength: head.headers) else { return .tooLarge }
            receiving = (head, body)
        case .body(let part):
            guard case (let head, var body)? = receiving else { return .incomplete }
            // Let go of the stored body first, so that appending to it copies nothing.
            receiving = nil
            guard body.append(part) else { return .tooLarge }
            receiving = (head, body)
        case .end(let trailers):
            guard case (var head, let body)? = receiving else { return .incomplete }
            receiving = nil
            if trailers != nil {
                // The message goes on whole, with a length: its trailer fields are discarded (RFC 9112 7.1.2 allows
                // that, and forbids merging a field into the header section unless its definition says how). Merged,
                // an answer's `x-ms-token` or `set-cookie` trailer reached the client as a header.
                head.headers.remove(name: "trailer")
            }
            return .complete(head, body: body.buffer)
        }
        return .incomplete
    }

    /// Forgets a message in progress (its exchange ended early).
    mutating func reset() {
        receiving = nil
    }
}

import NIOHTTP1

/// Turns a client-side protocol failure into a clear 4xx: malformed HTTP, oversized headers.
enum ClientProtocolError {
    static func classify(_ error: any Error) -> (HTTPResponseStatus, String) {
        switch error as? HTTPParserError {
        case .headerOverflow?:
            (.requestHeaderFieldsTooLarge, "the request headers exceed the size limit (80 KiB)")
        case let parserError?:
            (.badRequest, "the request is not valid HTTP/1.1 (\(parserError))")
        case nil:
            (.badRequest, "the request could not be processed (\(error))")
        }
    }
}

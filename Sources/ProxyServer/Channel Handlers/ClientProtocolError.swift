import NIOHTTP1

/// Turns a client-side protocol failure into a clear 4xx: malformed HTTP, oversized headers, oversized body.
enum ClientProtocolError {
    static func classify(_ error: any Error) -> (HTTPResponseStatus, String) {
        if let error = error as? HTTPParserError {
            switch error {
            case .headerOverflow:
                return (.requestHeaderFieldsTooLarge, "the request headers exceed the size limit (80 KiB)")
            default:
                return (.badRequest, "the request is not valid HTTP/1.1 (\(error))")
            }
        }
        if let error = error as? NIOHTTPObjectAggregatorError, error == .frameTooLong {
            return (.payloadTooLarge, "the request body exceeds the inspection limit")
        }
        return (.badRequest, "the request could not be processed (\(error))")
    }
}

import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix
import NIOSSL

/// Why talking to the real server failed; each maps to a 502 or 504 with a readable sentence.
struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case connectFailed
        case certificateRejected
        case tlsFailed
        case timedOut
        case connectionClosed
        case connectionBusy
        case responseTooLarge
        case malformedResponse
        /// The destination policy refuses the address (403, not a gateway failure).
        case destinationRefused
        /// A compressed body that could not be decoded within the inspection limit.
        case undecodableBody
        /// A pooled connection was gone before any byte of the request was written: safe to try a fresh one.
        case notSent
        /// The proxy holds its budget of bodies in memory (503).
        case overloaded
        /// The parent proxy (`--parent-proxy`) could not be reached, or refused or botched the CONNECT (502).
        case parentFailed
    }

    let code: Code
    let detail: String

    static let connectionClosed = UpstreamError(
        code: .connectionClosed,
        detail: "the upstream server closed the connection before answering"
    )
    static let connectionBusy = UpstreamError(
        code: .connectionBusy,
        detail: "internal: upstream connection already has a request in flight"
    )
    static let timedOut = UpstreamError(code: .timedOut, detail: "the upstream server did not answer in time")
    static let responseTooLarge = UpstreamError(
        code: .responseTooLarge,
        detail: "the upstream response is larger than the inspection limit"
    )
    static let notSent = UpstreamError(
        code: .notSent,
        detail: "the upstream connection closed before the request was sent"
    )
    static let overloaded = UpstreamError(
        code: .overloaded,
        detail: BodyMemoryBudget.refusal
    )
    static let handshakeTimedOut = UpstreamError(
        code: .timedOut,
        detail: "the TLS handshake with the upstream server did not complete in time"
    )

    /// 504 for time-outs, 403 for refused destinations, 503 when the proxy is full, 502 for everything else.
    var httpStatus: HTTPResponseStatus {
        switch code {
        case .timedOut: .gatewayTimeout
        case .overloaded: .serviceUnavailable
        case .destinationRefused: .forbidden
        case .connectFailed, .certificateRejected, .tlsFailed, .connectionClosed, .connectionBusy, .responseTooLarge,
            .malformedResponse, .undecodableBody, .notSent, .parentFailed:
            .badGateway
        }
    }

    var description: String { detail }

    static func from(_ error: any Error) -> UpstreamError {
        if let error = error as? UpstreamError { return error }
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed(let inner):
                let text = "\(inner)"
                if text.contains("CERTIFICATE") || text.contains("certificate") {
                    return UpstreamError(
                        code: .certificateRejected,
                        detail: "the upstream server's certificate could not be verified (\(text))"
                    )
                }
                return UpstreamError(
                    code: .tlsFailed,
                    detail: "the TLS handshake with the upstream server failed (\(text))"
                )
            default:
                return UpstreamError(code: .tlsFailed, detail: "TLS with the upstream server failed (\(error))")
            }
        }
        if let error = error as? NIOSSLExtraError {
            return UpstreamError(
                code: .certificateRejected,
                detail: "the upstream server's certificate does not match its name (\(error))"
            )
        }
        if error is ChannelError, case ChannelError.connectTimeout = error {
            return UpstreamError(code: .timedOut, detail: "connecting to the upstream server timed out")
        }
        if error is NIOConnectionError || error is IOError {
            return UpstreamError(code: .connectFailed, detail: "the upstream server could not be reached (\(error))")
        }
        if error is NIOHTTPDecompression.DecompressionError || error is NIOHTTPDecompression.ExtraDecompressionError {
            return UpstreamError(
                code: .undecodableBody,
                detail:
                    "the upstream response's compressed body could not be decoded within the inspection limit (\(error))"
            )
        }
        if error is HTTPParserError {
            return UpstreamError(code: .malformedResponse, detail: "the upstream server sent malformed HTTP (\(error))")
        }
        return UpstreamError(code: .connectFailed, detail: "upstream failure (\(error))")
    }
}

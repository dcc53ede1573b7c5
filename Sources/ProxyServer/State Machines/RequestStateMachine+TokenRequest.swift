import NIOCore
import NIOHTTP1
import TokenInspection

/// A token request's form, read as the STS reads it, before it is judged.
extension RequestStateMachine {
    enum TokenRequestReading {
        case read(TokenRequestSummary)
        case refused(AuditedAnswer)
    }

    /// The request's fields, or its refusal (400, audited) when they cannot be read as the STS reads them: a form
    /// that is encoded or in a charset a byte reader cannot read would be audited (and its `client_id` judged) by
    /// bytes the STS never sees, such as a decoy in a gzip header's file name; a field named twice, or too many.
    func readTokenRequest(
        _ request: NIOHTTPServerRequestFull,
        at stamp: EventStamp
    ) -> TokenRequestReading {
        let path = request.head.uri
        if let problem = StreamedRequestHead.unreadableForm(request.head) ?? Self.encodedBody(request.head) {
            return .refused(refusal("the token request: \(problem)", path: path, at: stamp))
        }
        let summary = TokenRequestSummary(
            formBody: request.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView
        )
        if let repeated = summary.repeatedField {
            let reason = "the token request names \(repeated) more than once, so which one the STS uses is ambiguous"
            return .refused(refusal(reason, path: path, at: stamp))
        }
        if summary.truncated {
            return .refused(refusal("the token request has too many form fields to inspect", path: path, at: stamp))
        }
        return .read(summary)
    }

    /// A body sent with a content coding, whatever its type claims.
    private static func encodedBody(_ head: HTTPRequestHead) -> String? {
        guard let coding = StreamedRequestHead.contentCoding(head) else { return nil }
        return "the body is encoded (\(coding.prefix(40))), so its fields cannot be read"
    }
}

import HTTPTypes
import Hummingbird
import PolicyFiles

/// One of the admin API's two error shapes, Power Platform's (`PowerPlatformError`) and Graph's (`GraphError`), so
/// that existing clients of each API read its refusals. What a failed policy edit says is written once, in
/// `init(_ failure:)`; a dialect gives only its own codes, and where it puts a list of diagnostics.
protocol AdminErrorDialect: HTTPResponseError, Encodable {
    var headers: HTTPFields { get }

    /// `details` are the sentences of a validation, each naming file, field and what is wrong.
    init(_ status: HTTPResponse.Status, code: String, message: String, details: [String], headers: HTTPFields)

    static var badRequestCode: String { get }
    static var preconditionFailedCode: String { get }
    /// What a stale `If-Match` is told: each API names the thing it serves.
    static var preconditionFailedMessage: String { get }
    static var storeUnavailableCode: String { get }
    static var auditUnavailableCode: String { get }
}

extension AdminErrorDialect {
    init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.init(status, code: code, message: message, details: [], headers: headers)
    }

    /// A policy edit that did not happen, and why.
    init(_ failure: PolicyWriter.Failure) {
        switch failure {
        case .preconditionFailed(let current):
            self.init(
                .preconditionFailed,
                code: Self.preconditionFailedCode,
                message: Self.preconditionFailedMessage,
                headers: current.map { [.lowercaseETag: $0] } ?? [:]
            )
        case .rejected(let status, let code, let message):
            self.init(HTTPResponse.Status(code: status), code: code, message: message)
        case .invalid(let diagnostics, let elsewhere):
            let others =
                elsewhere == 0
                ? []
                : [
                    "\(elsewhere) error\(elsewhere == 1 ? "" : "s") in other policy files, which the operator sees "
                        + "(tenantgate validate) and must fix first"
                ]
            self.init(
                .badRequest,
                code: Self.badRequestCode,
                message: "the change would make the policies invalid; nothing was changed",
                details: diagnostics.map(\.description) + others,
                headers: [:]
            )
        case .storage(let message):
            self.init(.internalServerError, code: "InternalServerError", message: "nothing was changed: \(message)")
        case .storeUnavailable(let message):
            self.init(
                .serviceUnavailable,
                code: Self.storeUnavailableCode,
                message: "nothing was changed: \(message); the policy in force stays, try again",
                headers: [.lowercaseRetryAfter: "5"]
            )
        case .storeUnconfirmed(let message):
            // No Retry-After: a change sent again blindly might be made twice.
            self.init(
                .serviceUnavailable,
                code: Self.storeUnavailableCode,
                message: "the change may or may not have been made: \(message); read the policy before trying again"
            )
        case .auditUnavailable(let message):
            self.init(
                .serviceUnavailable,
                code: Self.auditUnavailableCode,
                message: "the change's audit line could not be written, so nothing was changed: \(message)"
            )
        }
    }

    /// The error as an answer; the routes answer it rather than throw it on, as a session is saved only with an
    /// answer (`SessionMiddleware`).
    var response: Response {
        get throws { try AdminJSON.response(status, self, headers: headers) }
    }

    func response(from _: Request, context _: some RequestContext) throws -> Response {
        try response
    }
}

import Foundation
import HTTPTypes
import Plumbing

/// An error of the cross-tenant access endpoints, in Microsoft Graph's shape (ENTRA-FACTS 4):
/// `{"error": {"code", "message", "innerError": {"date", "request-id"}}}`.
struct GraphError: AdminErrorDialect {
    static let badRequestCode = "Request_BadRequest"
    static let preconditionFailedCode = "Request_PreconditionFailed"
    static let preconditionFailedMessage =
        "the settings changed since they were read (If-Match does not match the current ETag)"
    static let storeUnavailableCode = "ServiceUnavailable"
    static let auditUnavailableCode = "ServiceUnavailable"

    let status: HTTPResponse.Status
    let code: String
    let message: String
    let headers: HTTPFields
    /// When the error was answered, and its ID, as Graph gives each error.
    let date: Date
    let requestID: UUID

    /// Graph's shape has no details: they follow the message.
    init(_ status: HTTPResponse.Status, code: String, message: String, details: [String], headers: HTTPFields) {
        self.init(
            status,
            code: code,
            message: details.isEmpty ? message : "\(message): \(details.joined(separator: "; "))",
            headers: headers,
            date: Date(),
            requestID: UUID()
        )
    }

    init(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        headers: HTTPFields,
        date: Date,
        requestID: UUID
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.date = date
        self.requestID = requestID
    }

    private struct Body: Encodable {
        let error: Content
    }

    private struct Content: Encodable {
        let code: String
        let message: String
        let innerError: InnerError
    }

    private struct InnerError: Encodable {
        let date: String
        let requestID: String

        enum CodingKeys: String, CodingKey {
            case date
            case requestID = "request-id"
        }
    }

    func encode(to encoder: any Encoder) throws {
        let innerError = InnerError(
            date: RFC3339.string(from: date, milliseconds: false),
            requestID: requestID.uuidString.lowercased()
        )
        try Body(error: Content(code: code, message: message, innerError: innerError)).encode(to: encoder)
    }
}

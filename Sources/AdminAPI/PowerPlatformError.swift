import HTTPTypes

/// An error of the tenant isolation endpoints, in Power Platform's shape (ENTRA-FACTS 5):
/// `{"error": {"code", "message", "details"?: [{"code": "ValidationError", "message"}]}}`.
struct PowerPlatformError: AdminErrorDialect {
    static let badRequestCode = "BadRequest"
    static let preconditionFailedCode = "PreconditionFailed"
    static let preconditionFailedMessage =
        "the policy changed since it was read (If-Match does not match the current ETag); read it again"
    static let storeUnavailableCode = "PolicyStoreUnavailable"
    static let auditUnavailableCode = "AuditUnavailable"

    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// Each a `ValidationError`; without any, the body has no `details`.
    let details: [String]
    let headers: HTTPFields

    init(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        details: [String] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    private struct Body: Encodable {
        let error: Content
    }

    private struct Content: Encodable {
        let code: String
        let message: String
        let details: [Detail]?
    }

    private struct Detail: Encodable {
        let code = "ValidationError"
        let message: String
    }

    func encode(to encoder: any Encoder) throws {
        let details = details.isEmpty ? nil : details.map { Detail(message: $0) }
        try Body(error: Content(code: code, message: message, details: details)).encode(to: encoder)
    }
}

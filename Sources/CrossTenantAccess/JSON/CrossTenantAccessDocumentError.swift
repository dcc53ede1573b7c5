/// Why a Graph document or an edit of one was refused, with the JSON field path and a readable sentence.
///
/// Administrators paste what Graph returns and send Graph-style PATCH and POST bodies; every refusal must say
/// where the document is wrong and what is wrong there (STYLE 6).
package struct CrossTenantAccessDocumentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of refusal this is, for callers that map it to an HTTP status.
    package enum Code: Hashable, Sendable {
        /// The bytes are not JSON, or the JSON does not have Graph's shape (a 400).
        case invalidDocument
        /// The named partner configuration does not exist (a 404).
        case partnerNotFound
        /// A partner configuration for that tenant already exists (a 409).
        case partnerAlreadyExists
        /// The edit tries to change a property Graph does not let a client change (a 400).
        case readOnlyProperty
    }

    package let code: Code
    /// The JSON path of the offending property, e.g. `partners[2].b2bCollaborationInbound.applications.accessType`;
    /// empty for the whole document.
    package let field: String
    package let message: String

    package init(_ code: Code, field: String, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    package var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

extension CrossTenantAccessDocumentError {
    /// Translates Foundation's decoding error into a path and a sentence an administrator can act on.
    init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(let type, let context):
            self.init(
                .invalidDocument,
                field: Self.path(context.codingPath),
                message: "expected \(Self.describe(type)); \(context.debugDescription)"
            )
        case .valueNotFound(let type, let context):
            self.init(
                .invalidDocument,
                field: Self.path(context.codingPath),
                message: "expected \(Self.describe(type)), found null"
            )
        case .keyNotFound(let key, let context):
            self.init(
                .invalidDocument,
                field: Self.path(context.codingPath + [key]),
                message: "is required but missing"
            )
        case .dataCorrupted(let context):
            let message =
                context.codingPath.isEmpty
                ? "is not valid JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)"
                : context.debugDescription
            self.init(.invalidDocument, field: Self.path(context.codingPath), message: message)
        @unknown default:
            self.init(.invalidDocument, field: "", message: "\(error)")
        }
    }

    /// `partners[2].b2bCollaborationInbound.applications`, from a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var result = ""
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "\(type)"
        }
    }
}

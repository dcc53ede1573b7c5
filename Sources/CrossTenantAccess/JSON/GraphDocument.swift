import Foundation

/// A Microsoft Graph document TenantGate writes as JSON: the policy, its default configuration, one partner
/// configuration, or a partner's effective settings; all but the last are read too.
///
/// One place decides how documents are decoded (errors with a field path) and printed (sorted keys, so that the
/// same document always prints the same bytes).
package protocol GraphDocument: Encodable, Sendable {}

extension GraphDocument where Self: Decodable {
    /// Decodes a document as Graph returns it.
    /// - Throws: `CrossTenantAccessDocumentError` naming the field and what is wrong with it.
    package static func decode(from data: Data) throws -> Self {
        do {
            return try JSONDecoder().decode(Self.self, from: data)
        } catch let error as DecodingError {
            throw CrossTenantAccessDocumentError(error)
        } catch let error as CrossTenantAccessDocumentError {
            throw error
        } catch {
            throw CrossTenantAccessDocumentError(.invalidDocument, field: "", message: "\(error)")
        }
    }
}

extension GraphDocument {
    /// The document in Graph's JSON shape, keys sorted; `pretty` indents it for people.
    package func encoded(pretty: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys]
        return try encoder.encode(self)
    }
}

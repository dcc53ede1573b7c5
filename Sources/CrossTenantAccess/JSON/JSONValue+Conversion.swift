import Foundation

extension JSONValue {
    /// The JSON object of a document, for editing property by property.
    static func object(of document: some Encodable) throws -> [String: JSONValue] {
        let value = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(document))
        guard case .object(let properties) = value else { return [:] }
        return properties
    }

    /// The JSON object in `data`, or an error saying the body must be one.
    static func object(in data: Data) throws -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch let error as DecodingError {
            throw CrossTenantAccessDocumentError(error)
        }
        guard case .object(let properties) = value else {
            throw CrossTenantAccessDocumentError(.invalidDocument, field: "", message: "must be a JSON object")
        }
        return properties
    }

    /// Decodes a document from this value.
    func decode<Document: GraphDocument & Decodable>(as type: Document.Type) throws -> Document {
        try Document.decode(from: JSONEncoder().encode(self))
    }
}

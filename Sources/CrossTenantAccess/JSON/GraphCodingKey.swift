/// A coding key for any property name, so that a Graph object can be read key by key and the keys it does not
/// model kept rather than dropped.
struct GraphCodingKey: CodingKey, Hashable {
    let stringValue: String
    let intValue: Int?

    init(_ name: String) {
        stringValue = name
        intValue = nil
    }

    init?(stringValue: String) {
        self.init(stringValue)
    }

    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension KeyedDecodingContainer where Key == GraphCodingKey {
    /// The value of `name`, or nil when the key is absent or null (Graph's "inherit" for partner properties).
    func optional<Value: Decodable>(_ type: Value.Type, _ name: String) throws -> Value? {
        try decodeIfPresent(type, forKey: GraphCodingKey(name))
    }

    /// The value of `name`, which must be present and not null.
    func required<Value: Decodable>(_ type: Value.Type, _ name: String) throws -> Value {
        try decode(type, forKey: GraphCodingKey(name))
    }

    /// Every property not in `known`, verbatim.
    func additionalProperties(excluding known: Set<String>) throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for key in allKeys where !known.contains(key.stringValue) {
            result[key.stringValue] = try decode(JSONValue.self, forKey: key)
        }
        return result
    }
}

extension KeyedEncodingContainer where Key == GraphCodingKey {
    /// Writes `value`, or an explicit `null` when it is nil, as Graph prints unset properties.
    mutating func encodeOrNull<Value: Encodable>(_ value: Value?, _ name: String) throws {
        if let value {
            try encode(value, forKey: GraphCodingKey(name))
        } else {
            try encodeNil(forKey: GraphCodingKey(name))
        }
    }

    /// Writes `value` when it is present; leaves the key out otherwise.
    mutating func encodeIfSet<Value: Encodable>(_ value: Value?, _ name: String) throws {
        try encodeIfPresent(value, forKey: GraphCodingKey(name))
    }

    /// Writes the properties an object kept from its source.
    mutating func encodeAdditional(_ properties: [String: JSONValue]) throws {
        for (name, value) in properties {
            try encode(value, forKey: GraphCodingKey(name))
        }
    }
}

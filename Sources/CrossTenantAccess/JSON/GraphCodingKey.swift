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

    /// Every property not in `known`, verbatim: Graph has properties TenantGate does not model, kept as they came.
    /// One that is a known property misspelled (its letters in another case, or up to two edits away) is refused:
    /// kept, a `tenantRestriction` block was "saved" and nothing enforced it (review 45 F2).
    func additionalProperties(excluding known: Set<String>) throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for key in allKeys where !known.contains(key.stringValue) {
            if let meant = PropertySpelling.nearMiss(key.stringValue, of: known) {
                throw DecodingError.dataCorruptedError(
                    forKey: key,
                    in: self,
                    debugDescription: "'\(key.stringValue)' is not a property of this object: did you mean '\(meant)'?"
                )
            }
            result[key.stringValue] = try decode(JSONValue.self, forKey: key)
        }
        return result
    }
}

/// Tells a misspelled property name from one Graph has and TenantGate does not model.
enum PropertySpelling {
    /// The known name `name` is likely a misspelling of: equal but for letter case, or (for names of six letters or
    /// more) at most two insertions, deletions or substitutions away.
    static func nearMiss(_ name: String, of known: Set<String>) -> String? {
        let folded = Array(name.lowercased().utf8)
        for candidate in known.sorted() {
            let other = Array(candidate.lowercased().utf8)
            if folded == other { return candidate }
            if folded.count >= 6, abs(folded.count - other.count) <= 2, distance(folded, other, atMost: 2) <= 2 {
                return candidate
            }
        }
        return nil
    }

    /// Levenshtein distance, giving up past `limit` (names are short; this runs only on names not known).
    private static func distance(_ left: [UInt8], _ right: [UInt8], atMost limit: Int) -> Int {
        var previous = Array(0...right.count)
        for (i, a) in left.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: right.count)
            for (j, b) in right.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (a == b ? 0 : 1))
            }
            if (current.min() ?? 0) > limit { return limit + 1 }
            previous = current
        }
        return previous[right.count]
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

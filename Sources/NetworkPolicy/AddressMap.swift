/// Maps address ranges to values, answering with the most specific range that contains an address.
///
/// It tells which tenant created a client from the client's address: a tenant's subnet may sit inside a wider
/// shared range, and the narrower range must win. Lookups hash once per distinct prefix length (at most 162),
/// longest first, so they cost the same with ten entries or a hundred thousand.
package struct AddressMap<Value: Sendable>: Sendable {
    /// One table per distinct prefix length, longest prefix first.
    private let tables: [(sample: AddressRange, values: [AddressRange: Value])]

    /// A map of `entries`; when one range is listed twice, the first entry wins.
    package init(_ entries: [(AddressRange, Value)]) {
        // IPv4 and IPv6 ranges of one length get separate tables, so that the two families stay apart.
        var samples: [Int: AddressRange] = [:]
        var values: [Int: [AddressRange: Value]] = [:]
        for (range, value) in entries {
            let key = range.isIPv4 ? -1 - range.prefixLength : range.prefixLength
            if samples[key] == nil { samples[key] = range }
            if values[key]?[range] == nil { values[key, default: [:]][range] = value }
        }
        tables = samples.map { key, sample in (sample: sample, values: values[key] ?? [:]) }
            .sorted { $0.sample.prefixLength > $1.sample.prefixLength }
    }

    /// The value of the longest range that contains `address`, or nil when none does.
    package func value(for address: IPAddress) -> Value? {
        for table in tables where table.sample.isIPv4 == address.isIPv4 {
            if let value = table.values[table.sample.enclosing(address)] { return value }
        }
        return nil
    }
}

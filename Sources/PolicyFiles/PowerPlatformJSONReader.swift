import TenantPolicy

/// Reads a Power Platform `tenantIsolationPolicy` document in the plain shape its API returns, in one pass over the
/// bytes: the fast path that lets a million rules load in seconds (the general YAML composer builds a node per value).
///
/// It reads only what it can read exactly as `PolicyFileParser` would and gives up (nil) on anything else: an unknown
/// or repeated field, a value of another type, a backslash or control character in a string, a tab or carriage
/// return, a rule the general path would refuse or warn about. The general path then reads the file and says what
/// is wrong with file, field and line. So the fast path never decides what a file means on its own: for every file
/// it accepts, its result equals the general path's (a test holds it to that).
enum PowerPlatformJSONReader {
    static func read(_ text: String) -> ParsedPolicyFile.WrittenIsolation? {
        var copy = text
        return copy.withUTF8 { bytes in
            var reader = Cursor(bytes: bytes)
            return reader.document()
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        /// 1-based, as the YAML composer's marks are.
        var line = 1

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func document() -> ParsedPolicyFile.WrittenIsolation? {
            skipSpace()
            let rootLine = line
            var properties: ParsedPolicyFile.WrittenIsolation?
            let complete = members(["properties", "id", "name", "type"]) { key, reader in
                guard key == 0 else { return reader.skipScalar() }
                properties = reader.properties(rootLine: rootLine)
                return properties != nil
            }
            skipSpace()
            guard complete, position == bytes.count else { return nil }
            return properties
        }

        private mutating func properties(rootLine: Int) -> ParsedPolicyFile.WrittenIsolation? {
            var tenantID: TenantID?
            var isDisabled: Bool?
            var rules: [ParsedPolicyFile.WrittenRule] = []
            let complete = members(["tenantId", "isDisabled", "allowedTenants"]) { key, reader in
                switch key {
                case 0:
                    tenantID = reader.stringBytes().flatMap { TenantID(bytes: $0) }
                    return tenantID != nil
                case 1:
                    isDisabled = reader.literalBool()
                    return isDisabled != nil
                default:
                    return reader.rules(into: &rules)
                }
            }
            guard complete, let tenantID, let isDisabled else { return nil }
            return .init(
                tenantID: tenantID,
                displayName: nil,
                domains: [],
                isEnabled: !isDisabled,
                rules: rules,
                line: rootLine
            )
        }

        private mutating func rules(into rules: inout [ParsedPolicyFile.WrittenRule]) -> Bool {
            guard take(UInt8(ascii: "[")) else { return false }
            skipSpace()
            if take(UInt8(ascii: "]")) { return true }
            while true {
                skipSpace()
                guard let rule = rule(index: rules.count) else { return false }
                rules.append(rule)
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        }

        private mutating func rule(index: Int) -> ParsedPolicyFile.WrittenRule? {
            let ruleLine = line
            var reference: TenantReference?
            var directions: DirectionSet?
            let complete = members(["tenantId", "tenantDisplayName", "direction"]) { key, reader in
                switch key {
                case 0:
                    reference = reader.ruleTenant()
                    return reference != nil
                case 1:
                    return reader.skipScalar()
                default:
                    directions = reader.directions()
                    return directions != nil
                }
            }
            guard complete, let reference, let directions else { return nil }
            return .init(
                reference: reference,
                directions: directions,
                list: .powerPlatform,
                index: index,
                line: ruleLine
            )
        }

        /// A GUID or `*`, as `TenantReference` reads it; a domain is the general path's to refuse.
        private mutating func ruleTenant() -> TenantReference? {
            guard let raw = stringBytes() else { return nil }
            if let id = TenantID(bytes: raw) { return .id(id) }
            switch TenantReference(parsing: String(decoding: raw, as: UTF8.self)) {
            case .id(let id): return .id(id)
            case .any: return .any
            case .domain, nil: return nil
            }
        }

        private mutating func directions() -> DirectionSet? {
            var set: DirectionSet = []
            let complete = members(["inbound", "outbound"]) { key, reader in
                guard let allowed = reader.literalBool() else { return false }
                if allowed { set.insert(key == 0 ? .inbound : .outbound) }
                return true
            }
            return complete && !set.isEmpty ? set : nil
        }

        /// `{ "key": value, ... }` with keys from `keys`, each at most once; `member` gets the key's index, reads the
        /// value and says whether it could. An unknown or repeated key ends the fast path.
        private mutating func members(_ keys: [StaticString], _ member: (Int, inout Cursor) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            skipSpace()
            if take(UInt8(ascii: "}")) { return true }
            var seen: UInt32 = 0
            while true {
                skipSpace()
                guard let raw = stringBytes(),
                    let key = keys.firstIndex(where: { Self.equal(raw, $0) }),
                    seen & (1 << key) == 0
                else { return false }
                seen |= 1 << key
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard member(key, &self) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}"))
            }
        }

        private static func equal(_ raw: UnsafeBufferPointer<UInt8>, _ key: StaticString) -> Bool {
            raw.count == key.utf8CodeUnitCount
                && raw.elementsEqual(UnsafeBufferPointer(start: key.utf8Start, count: raw.count))
        }

        /// A string's bytes, when it has no escapes or control characters (anything else is left to the general path).
        private mutating func stringBytes() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    defer { position += 1 }
                    return UnsafeBufferPointer(rebasing: bytes[start..<position])
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                position += 1
            }
            return nil
        }

        private mutating func literalBool() -> Bool? {
            if take(word: "true") { return true }
            if take(word: "false") { return false }
            return nil
        }

        /// A string, `null`, `true`, `false` or a plain number whose value nothing reads.
        private mutating func skipScalar() -> Bool {
            if position < bytes.count, bytes[position] == UInt8(ascii: "\"") { return stringBytes() != nil }
            if take(word: "null") || take(word: "true") || take(word: "false") { return true }
            let start = position
            while position < bytes.count, Self.isNumberByte(bytes[position]) { position += 1 }
            return position > start
        }

        private static func isNumberByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
        }

        private mutating func take(word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard bytes.count - position >= length else { return false }
            for offset in 0..<length where bytes[position + offset] != word.utf8Start[offset] { return false }
            let end = position + length
            // `truex` is not `true`.
            if end < bytes.count, Self.isWordByte(bytes[end]) { return false }
            position = end
            return true
        }

        private static func isWordByte(_ byte: UInt8) -> Bool {
            (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// Spaces and line feeds only: a tab or carriage return sends the file to the general path, whose YAML reading
        /// of them (and its line count) is its own.
        private mutating func skipSpace() {
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: " "): position += 1
                case UInt8(ascii: "\n"):
                    position += 1
                    line += 1
                default: return
                }
            }
        }
    }
}

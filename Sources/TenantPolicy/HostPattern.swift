/// A host name, or every subdomain of one (`*.sharepoint.com`), as operators name resource hosts. Lower-case, no
/// trailing dot; `*.x` does not match `x` itself.
package enum HostPattern: Hashable, Sendable, CustomStringConvertible {
    case exact(String)
    case subdomains(of: String)

    package init?(parsing text: String) {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let wildcard = name.hasPrefix("*.")
        if wildcard { name.removeFirst(2) }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        // Two labels at least under a wildcard: `*.com` would claim a whole top-level domain.
        guard !name.isEmpty, name.utf8.count <= 253, labels.count >= (wildcard ? 2 : 1),
            labels.allSatisfy(Self.isLabel)
        else { return nil }
        self = wildcard ? .subdomains(of: name) : .exact(name)
    }

    package var description: String {
        switch self {
        case .exact(let name): name
        case .subdomains(let parent): "*.\(parent)"
        }
    }

    /// `host` is canonical (lower-case, no trailing dot).
    package func matches(_ host: String) -> Bool {
        switch self {
        case .exact(let name): host == name
        case .subdomains(let parent): host.hasSuffix("." + parent) && host.utf8.count > parent.utf8.count + 1
        }
    }

    private static func isLabel(_ label: Substring) -> Bool {
        !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
            && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}

/// Host patterns with a value each. For a host, the exact name wins, then the nearest parent's `*.` pattern, so
/// `contoso.sharepoint.com: A` beats `*.sharepoint.com: B`.
package struct HostPatternMap<Value: Hashable & Sendable>: Hashable, Sendable {
    private var exact: [String: Value] = [:]
    private var subdomains: [String: Value] = [:]

    package init() {}

    package var isEmpty: Bool { exact.isEmpty && subdomains.isEmpty }

    /// Sets `value` for `pattern`; returns the value it replaced, if any.
    @discardableResult
    package mutating func set(_ value: Value, for pattern: HostPattern) -> Value? {
        switch pattern {
        case .exact(let name): exact.updateValue(value, forKey: name)
        case .subdomains(let parent): subdomains.updateValue(value, forKey: parent)
        }
    }

    /// The value of the most specific pattern matching `host` (canonical).
    package func value(for host: String) -> Value? {
        if let value = exact[host] { return value }
        guard !subdomains.isEmpty else { return nil }
        var rest = Substring(host)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            if let value = subdomains[String(rest)] { return value }
        }
        return nil
    }

    package var patterns: [(HostPattern, Value)] {
        exact.map { (.exact($0.key), $0.value) } + subdomains.map { (.subdomains(of: $0.key), $0.value) }
    }
}

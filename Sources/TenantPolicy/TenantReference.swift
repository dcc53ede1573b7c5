/// How a tenant is named where an administrator writes one: by ID, by verified domain, or `*` (SPEC 1, 2.1).
package enum TenantReference: Hashable, Sendable, CustomStringConvertible {
    case id(TenantID)
    case domain(String)
    case any

    /// Parses a GUID, `*`, or a domain name (lowercased). Nil for text that is none of them.
    package init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace()
        if trimmed == "*" {
            self = .any
        } else if let id = TenantID(trimmed) {
            self = .id(id)
        } else if Self.isDomainName(trimmed) {
            self = .domain(trimmed.lowercased())
        } else {
            return nil
        }
    }

    package var description: String {
        switch self {
        case .id(let id): id.description
        case .domain(let name): name
        case .any: "*"
        }
    }

    /// A DNS name of at least two labels, letters, digits and hyphens, no label starting or ending with a hyphen.
    package static func isDomainName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, text.utf8.count <= 253 else { return false }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-" else { return false }
            for byte in label.utf8 {
                let isAlphanumeric = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                guard isAlphanumeric || byte == UInt8(ascii: "-") else { return false }
            }
        }
        // The last label must not be all digits, which would make an IPv4 address a domain.
        return labels.last.map { !$0.allSatisfy(\.isNumber) } ?? false
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space: every Unicode `White_Space` scalar, as .NET's `Trim` reads
    /// it (no Foundation needed). Review 55: compared as Characters, `"AllUsers\r\n"` kept its CRLF (one Character,
    /// equal to neither CR nor LF) and was an ID that matched nobody; `\v` and no-break space were not trimmed.
    package func trimmingWhitespace() -> String {
        let text = String(self)
        // Most values (every GUID a token carries, on each exchange) begin and end with a visible ASCII byte: they
        // need no Unicode property lookup, which cost 4% of an exchange's CPU.
        if let first = text.utf8.first, let last = text.utf8.last, first.isVisibleASCII, last.isVisibleASCII {
            return text
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

extension UInt8 {
    /// An ASCII byte that is neither a control nor a space: never part of a Unicode `White_Space` run.
    fileprivate var isVisibleASCII: Bool { self > 0x20 && self < 0x7F }
}

/// The direction of a cross-tenant connection, seen from a governed tenant (SPEC 1).
///
/// Outbound: from the governed tenant to another. Inbound: from another tenant to the governed one.
package enum Direction: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case inbound
    case outbound

    package var description: String { rawValue }
}

/// The directions a rule allows: inbound, outbound or both.
package struct DirectionSet: OptionSet, Sendable, Hashable, CustomStringConvertible {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let inbound = DirectionSet(rawValue: 1)
    package static let outbound = DirectionSet(rawValue: 2)
    package static let both: DirectionSet = [.inbound, .outbound]

    package init(_ direction: Direction) {
        switch direction {
        case .inbound: self = .inbound
        case .outbound: self = .outbound
        }
    }

    /// Parses the project's YAML spelling: `inbound`, `outbound` or `both` (any letter case).
    package init?(name: String) {
        switch name.lowercased() {
        case "inbound": self = .inbound
        case "outbound": self = .outbound
        case "both": self = .both
        default: return nil
        }
    }

    package func allows(_ direction: Direction) -> Bool { contains(DirectionSet(direction)) }

    /// `inbound`, `outbound`, `both`, or `none`.
    package var description: String {
        switch (contains(.inbound), contains(.outbound)) {
        case (true, true): "both"
        case (true, false): "inbound"
        case (false, true): "outbound"
        case (false, false): "none"
        }
    }

    /// The directions in a stable order (outbound first, as decisions are explained).
    package var directions: [Direction] {
        var result: [Direction] = []
        if contains(.outbound) { result.append(.outbound) }
        if contains(.inbound) { result.append(.inbound) }
        return result
    }
}

/// The direction of a cross-tenant connection, seen from a governed tenant (SPEC 1).
///
/// Outbound: from the governed tenant to another. Inbound: from another tenant to the governed one.
public enum Direction: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case inbound
    case outbound

    public var description: String { rawValue }
}

/// The directions a rule allows: inbound, outbound or both.
public struct DirectionSet: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let inbound = DirectionSet(rawValue: 1)
    public static let outbound = DirectionSet(rawValue: 2)
    public static let both: DirectionSet = [.inbound, .outbound]

    public init(_ direction: Direction) {
        switch direction {
        case .inbound: self = .inbound
        case .outbound: self = .outbound
        }
    }

    /// Parses the project's YAML spelling: `inbound`, `outbound` or `both` (any letter case).
    public init?(name: String) {
        switch name.lowercased() {
        case "inbound": self = .inbound
        case "outbound": self = .outbound
        case "both": self = .both
        default: return nil
        }
    }

    public func allows(_ direction: Direction) -> Bool { contains(DirectionSet(direction)) }

    /// `inbound`, `outbound`, `both`, or `none`.
    public var description: String {
        switch (contains(.inbound), contains(.outbound)) {
        case (true, true): "both"
        case (true, false): "inbound"
        case (false, true): "outbound"
        case (false, false): "none"
        }
    }

    /// The directions in a stable order (outbound first, as decisions are explained).
    public var directions: [Direction] {
        var result: [Direction] = []
        if contains(.outbound) { result.append(.outbound) }
        if contains(.inbound) { result.append(.inbound) }
        return result
    }
}

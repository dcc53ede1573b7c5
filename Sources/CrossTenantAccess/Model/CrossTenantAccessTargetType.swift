/// The `targetType` of a target: whether it names a user, a group or an application.
///
/// Keeps the spelling it was read with (for round trips and validation messages) and resolves the meaning once.
public struct CrossTenantAccessTargetType: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What the spelling means.
    public enum Meaning: Hashable, Sendable {
        case user
        case group
        case application
        /// Graph's evolvable-enum sentinel: never a valid input.
        case unknownFutureValue
        /// Any other spelling; validation reports it and evaluation never matches it.
        case unrecognized
    }

    public let rawValue: String
    public let meaning: Meaning

    public init(_ rawValue: String) {
        self.rawValue = rawValue
        meaning =
            switch rawValue {
            case "user": .user
            case "group": .group
            case "application": .application
            case "unknownFutureValue": .unknownFutureValue
            default: .unrecognized
            }
    }

    public static let user = CrossTenantAccessTargetType("user")
    public static let group = CrossTenantAccessTargetType("group")
    public static let application = CrossTenantAccessTargetType("application")

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

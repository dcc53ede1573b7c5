/// The `targetType` of a target: whether it names a user, a group or an application.
///
/// Keeps the spelling it was read with (for round trips and validation messages) and resolves the meaning once.
package struct CrossTenantAccessTargetType: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What the spelling means.
    package enum Meaning: Hashable, Sendable {
        case user
        case group
        case application
        /// Graph's evolvable-enum sentinel: never a valid input.
        case unknownFutureValue
        /// Any other spelling; validation reports it and evaluation never matches it.
        case unrecognized
    }

    package let rawValue: String
    package let meaning: Meaning

    package init(_ rawValue: String) {
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

    package static let user = CrossTenantAccessTargetType("user")
    package static let group = CrossTenantAccessTargetType("group")
    package static let application = CrossTenantAccessTargetType("application")

    package var description: String { rawValue }

    package init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

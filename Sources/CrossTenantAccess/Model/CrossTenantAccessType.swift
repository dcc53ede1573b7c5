import TenantPolicy

/// The `accessType` of a target configuration: whether its targets are the ones let in (`allowed`) or the ones
/// kept out (`blocked`).
///
/// It keeps the spelling it was read with, so that a round trip returns the document unchanged and validation can
/// name a wrong value, and resolves the meaning once, so that evaluation compares an enum. Seed 002 prints
/// `" blocked"` with a leading space; whitespace around a known value is read as that value and reported as a
/// warning.
package struct CrossTenantAccessType: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What the spelling means.
    package enum Meaning: Hashable, Sendable {
        case allowed
        case blocked
        /// Graph's evolvable-enum sentinel: never a valid input.
        case unknownFutureValue
        /// Any other spelling; validation reports it and evaluation admits nobody through it (fail closed).
        case unrecognized
    }

    package let rawValue: String
    package let meaning: Meaning

    package init(_ rawValue: String) {
        self.rawValue = rawValue
        meaning =
            switch rawValue.trimmingWhitespace() {
            case "allowed": .allowed
            case "blocked": .blocked
            case "unknownFutureValue": .unknownFutureValue
            default: .unrecognized
            }
    }

    package static let allowed = CrossTenantAccessType("allowed")
    package static let blocked = CrossTenantAccessType("blocked")

    /// True when the value is known but was written with surrounding whitespace, as seed 002's `" blocked"`.
    package var hasTolerableSpelling: Bool { rawValue != rawValue.trimmingWhitespace() }

    package var description: String { rawValue }

    package init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

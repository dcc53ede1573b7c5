/// A pair of inbound and outbound switches (Graph's `inboundOutboundPolicyConfiguration`), used for
/// `automaticUserConsentSettings`.
///
/// Stored and printed only: no token exchange shows whether a consent prompt was suppressed.
package struct InboundOutboundPolicyConfiguration: Hashable, Sendable, Codable {
    package let inboundAllowed: Bool?
    package let outboundAllowed: Bool?
    /// Properties TenantGate does not model, kept for the round trip.
    package let additionalProperties: [String: JSONValue]

    package init(inboundAllowed: Bool?, outboundAllowed: Bool?, additionalProperties: [String: JSONValue] = [:]) {
        self.inboundAllowed = inboundAllowed
        self.outboundAllowed = outboundAllowed
        self.additionalProperties = additionalProperties
    }

    /// Both false: the default configuration's fixed value (ENTRA-FACTS 4).
    package static let neither = Self(inboundAllowed: false, outboundAllowed: false)

    private static let known: Set<String> = ["inboundAllowed", "outboundAllowed"]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        inboundAllowed = try container.optional(Bool.self, "inboundAllowed")
        outboundAllowed = try container.optional(Bool.self, "outboundAllowed")
        additionalProperties = try container.additionalProperties(excluding: Self.known)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encodeOrNull(inboundAllowed, "inboundAllowed")
        try container.encodeOrNull(outboundAllowed, "outboundAllowed")
    }
}

/// The body of `POST .../tenantIsolationPolicy/rules`: `{"tenant": ID, domain or *, "direction": inbound, outbound or
/// both}`, the tenant also accepted as `tenantId`.
struct NewIsolationRule: Decodable {
    let tenant: String
    /// Parsed by the endpoint, which names a wrong one in its own words.
    let direction: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: IsolationRuleKey.self)
        guard let tenant = container.tenant else {
            throw DecodingError.keyNotFound(
                IsolationRuleKey.tenant,
                .init(codingPath: container.codingPath, debugDescription: "neither tenant nor tenantId is a string")
            )
        }
        self.tenant = tenant
        direction = try container.decode(String.self, forKey: .direction)
    }
}

/// The body of `PATCH .../tenantIsolationPolicy/rules/{tenant}`: `{"direction": inbound, outbound or both}`. A tenant
/// (`tenant` or `tenantId`) may come along, and must then be the rule's own: only the direction changes.
struct IsolationRuleChange: Decodable {
    let direction: String
    let tenant: String?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: IsolationRuleKey.self)
        direction = try container.decode(String.self, forKey: .direction)
        tenant = container.tenant
    }
}

private enum IsolationRuleKey: String, CodingKey {
    case tenant
    case tenantId
    case direction
}

extension KeyedDecodingContainer<IsolationRuleKey> {
    /// `tenant`, else `tenantId`: the first that is a string. A value of another type counts as absent, as the admin
    /// API has always read these bodies.
    fileprivate var tenant: String? {
        (try? decodeIfPresent(String.self, forKey: .tenant)) ?? (try? decodeIfPresent(String.self, forKey: .tenantId))
    }
}

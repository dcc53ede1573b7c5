import Caching
import CrossTenantAccess
import Synchronization
import TenantPolicy
import TokenInspection

/// Decides token exchanges: before the request leaves (from the path's tenant) and on the response (from the
/// token's claims). Pure: no I/O, so every rule of SPEC 2 and 3 is tested without a socket.
package struct ExchangeDecider: Sendable {
    package let policies: PolicySet
    package let nonEntraSTS: NonEntraSTSMode
    /// Read only by `plan` and `outcome`: the one place report-only reshapes a decision.
    package let mode: EnforcementMode
    /// What a request to a resource host without a readable token, on a host the directory maps to no tenant, gets.
    package let unreadableResourceToken: UnreadableResourceToken
    /// Resource requests' verdicts per token, until it expires; a new policy version is a new decider, so a change
    /// applies to the very next request (SPEC 4.2). Bounded, like every cache here.
    let resourceVerdicts = BoundedCache<ResourceKey, ResourceVerdict>(capacity: 16_384)
    /// Which decider this is, never given to another: each policy version builds its own, so requests judged by one
    /// generation were judged under one policy. (An object's address would not do: a freed decider's is given to a
    /// later one, and a request judged under the first looked judged under the last; review 40 F2.)
    package let generation = Self.generations.add(1, ordering: .relaxed).newValue
    private static let generations = Atomic<UInt64>(0)
    private let crossTenantAccess: CrossTenantAccessEnforcer
    /// Tenant isolation's verdict per creator and sign-in tenant, built once for this policy set: its reason and
    /// rule sentences cost more than the rest of the decision on every exchange. Bounded, like every cache here.
    private let isolationVerdicts = BoundedCache<TenantPair, ExchangeVerdict>(capacity: 4096)

    package init(
        policies: PolicySet,
        crossTenantAccess: [TenantID: CrossTenantAccessPolicy] = [:],
        nonEntraSTS: NonEntraSTSMode,
        mode: EnforcementMode = .enforce,
        unreadableResourceToken: UnreadableResourceToken = .block
    ) {
        self.policies = policies
        self.nonEntraSTS = nonEntraSTS
        self.mode = mode
        self.unreadableResourceToken = unreadableResourceToken
        self.crossTenantAccess = CrossTenantAccessEnforcer(settings: crossTenantAccess, policies: policies)
    }

    /// The decision taken before anything is sent upstream.
    package enum PreCheck: Sendable, Equatable {
        /// Send the request; `expectedSignIn` is the path's tenant the response must agree with.
        case forward(expectedSignIn: TenantID?)
        /// Refuse now, with this verdict (a blocked path tenant, or a blocked non-Entra STS).
        case refuse(ExchangeVerdict)
    }

    package func preCheck(creator: TenantID, endpoint: TokenEndpoint) -> PreCheck {
        switch endpoint.kind {
        case .nonEntra:
            guard nonEntraSTS == .block else { return .forward(expectedSignIn: nil) }
            return .refuse(nonEntraRefusal(creator: creator, endpoint: endpoint))
        case .entra:
            guard let pathTenant = pathTenant(of: endpoint) else { return .forward(expectedSignIn: nil) }
            let decision = policies.decide(creator: creator, signIn: pathTenant)
            // Explanations are built only for refusals; an allowed path is judged again on the response.
            guard !decision.isAllowed else { return .forward(expectedSignIn: pathTenant) }
            return .refuse(
                isolationVerdict(
                    decision,
                    prefix: "the token request names tenant \(policies.label(pathTenant)) in its path; "
                )
            )
        }
    }

    /// The decision on the STS's answer. `status` is its HTTP status; `evidence` what its body shows; `clientID`
    /// the request's `client_id`; `earlierRefusal` the pre-check's refusal when report-only mode let the request
    /// go: it stands unless an Entra STS issued a token, which is then judged on its own claims. A refused non-Entra
    /// STS stays refused whatever it answers: its token names no tenant that could lift the refusal.
    package func judgeResponse(
        creator: TenantID,
        endpoint: TokenEndpoint,
        status: Int,
        evidence: TokenResponseEvidence,
        expectedSignIn: TenantID?,
        clientID: String? = nil,
        earlierRefusal: ExchangeVerdict? = nil
    ) -> ExchangeVerdict {
        // The application a request names is the GUID its client_id spells, in whatever form Entra reads; one that
        // is no GUID names no application the proxy can tell apart from a blocked one: unknown (review 55).
        let verdict = judgeAnswer(
            creator: creator,
            endpoint: endpoint,
            status: status,
            evidence: evidence,
            expectedSignIn: expectedSignIn,
            clientID: clientID.flatMap { ObjectID.canonical($0) }
        )
        guard let earlierRefusal else { return verdict }
        switch verdict.outcome {
        case .unenforced: return earlierRefusal
        case .allow where !evidence.isSuccess: return earlierRefusal
        default: return verdict
        }
    }

    /// Tenant isolation first, then the cross-tenant access settings (SPEC 2.2).
    private func judgeAnswer(
        creator: TenantID,
        endpoint: TokenEndpoint,
        status: Int,
        evidence: TokenResponseEvidence,
        expectedSignIn: TenantID?,
        clientID: String?
    ) -> ExchangeVerdict {
        guard case .entra(let cloud, _) = endpoint.kind else {
            // Its token endpoint is refused before the request leaves; a token it hands over on another path
            // (review 28: Azure DevOps' session-token API) is refused here.
            if nonEntraSTS == .block { return nonEntraRefusal(creator: creator, endpoint: endpoint) }
            // The Microsoft account STS's ID token of the personal-accounts tenant (`TokenResponseInspector`), judged
            // as the same sign-in is at Entra's hosts.
            if let signIn = evidence.signInTenant {
                return judgeSignIn(
                    creator: creator,
                    signIn: signIn,
                    cloud: evidence.issuerCloud ?? .global,
                    evidence: evidence,
                    clientID: clientID
                )
            }
            return ExchangeVerdict(
                outcome: .unenforced,
                creatorTenant: creator,
                signInTenant: nil,
                reason: "\(endpoint.host) is not a Microsoft Entra STS: its token carries no Entra tenant, so tenant "
                    + "isolation cannot judge it (known gap, SPEC 2.3); passed through and recorded."
            )
        }
        // A 2xx answer is judged even when no token can be read from it: what cannot be read might be a token. So is
        // any answer whose unreadable body names one: MSAL reads every answer below 500 as a token response. An error
        // page that names none (a front door's 503) goes to the client as it came, `Retry-After` and all.
        guard evidence.isSuccess || (200..<300).contains(status) || evidence.unreadableBodyNamesAToken else {
            return ExchangeVerdict(
                outcome: .allow,
                creatorTenant: creator,
                signInTenant: expectedSignIn,
                reason: "the STS answered \(status)\(evidence.errorCode.map { " (\($0))" } ?? "") without a token; "
                    + "nothing to judge"
            )
        }
        guard let signIn = evidence.signInTenant else {
            let why = evidence.unreadableReason ?? "no Entra token in the response"
            // The path named the tenant (path and answer must agree): the settings judge a sign-in to it, and tenant
            // isolation fails closed as ever.
            if let expectedSignIn {
                let named = judgeSignIn(
                    creator: creator,
                    signIn: expectedSignIn,
                    cloud: cloud,
                    evidence: evidence,
                    clientID: clientID
                )
                if named.outcome == .block { return named }
                return unreadableIsolationVerdict(creator: creator, why: why, remedy: Self.unreadableRemedy)
            }
            return unreadableSignInVerdict(creator: creator, why: why, cloud: cloud, application: clientID)
        }
        if let expectedSignIn, expectedSignIn != signIn {
            return ExchangeVerdict(
                outcome: .block,
                directions: [.outbound],
                creatorTenant: creator,
                signInTenant: signIn,
                homeTenant: evidence.homeTenant,
                reason: "the token request named tenant \(policies.label(expectedSignIn)) but the STS issued a token "
                    + "of tenant \(policies.label(signIn)); path and response disagree, so the exchange is refused "
                    + "(fail closed).",
                errorCodes: [500212]
            )
        }
        let verdict = judgeSignIn(
            creator: creator,
            signIn: signIn,
            cloud: cloud,
            evidence: evidence,
            clientID: clientID
        )
        // The cloud is the STS host's and the token's issuer's: a token whose issuer names another cloud is judged
        // under that one too (review 25 got a US Government token through the global host, past
        // `allowedCloudEndpoints`).
        guard verdict.outcome == .allow, let issued = evidence.issuerCloud, issued != cloud else { return verdict }
        return judgeSignIn(creator: creator, signIn: signIn, cloud: issued, evidence: evidence, clientID: clientID)
    }

    /// `--non-entra-sts block`: the creator's connection going out to an STS nobody can judge.
    private func nonEntraRefusal(creator: TenantID, endpoint: TokenEndpoint) -> ExchangeVerdict {
        ExchangeVerdict(
            outcome: .block,
            directions: [.outbound],
            creatorTenant: creator,
            signInTenant: nil,
            reason: "\(endpoint.host) is not a Microsoft Entra STS: its tokens carry no Entra tenant that "
                + "tenant isolation could judge, and this proxy is configured to refuse such STSs "
                + "(--non-entra-sts block). An administrator can allow it with --non-entra-sts audit; the "
                + "documented mitigation is to restrict the connector with data policies."
        )
    }

    /// A token of `signIn` used by `creator`'s connection: tenant isolation, then cross-tenant access (SPEC 2.2).
    func judgeSignIn(
        creator: TenantID,
        signIn: TenantID,
        cloud: EntraCloud,
        evidence: TokenResponseEvidence,
        clientID: String?
    ) -> ExchangeVerdict {
        var verdict = isolationVerdict(creator: creator, signIn: signIn)
        verdict.homeTenant = evidence.homeTenant
        guard verdict.outcome == .allow else { return verdict }
        // Application targeting trusts the issued token's own azp/appid over the client_id the request claimed.
        return crossTenantAccess.judge(
            creator: creator,
            signIn: signIn,
            cloud: cloud,
            evidence: evidence,
            clientID: evidence.applicationID ?? clientID
        ) ?? verdict
    }

    /// The decision on an answer whose body cannot be read at all (an encoding TenantGate cannot decode). What is
    /// not read is not passed on: always a refusal, by the tenant isolation that would refuse a token of unknown
    /// tenant when there is one (Entra STSs), else for the unreadable answer itself.
    package func judgeUnreadable(creator: TenantID, endpoint: TokenEndpoint, why: String) -> ExchangeVerdict {
        if case .entra(let cloud, _) = endpoint.kind {
            let verdict = unreadableSignInVerdict(creator: creator, why: why, cloud: cloud)
            if verdict.outcome == .block { return verdict }
        }
        return ExchangeVerdict(
            outcome: .block,
            creatorTenant: creator,
            signInTenant: nil,
            reason:
                "\(endpoint.host)'s answer could not be read (\(why)); an answer that may carry a token is passed on "
                + "only once it is read, so the exchange is refused. The STS must answer without that encoding.",
            setting: "unreadableAnswer"
        )
    }

    /// Fail closed (SPEC 2.1 point 5, extended): when the sign-in tenant cannot be read, the exchange is blocked
    /// whenever some sign-in tenant would have been blocked: by tenant isolation (`unreadableIsolationVerdict`), or
    /// by the creator's cross-tenant access settings (another cloud's STS, tenant restrictions). Allowed only when
    /// no tenant could be refused.
    func unreadableSignInVerdict(
        creator: TenantID,
        why: String,
        cloud: EntraCloud = .global,
        application: String? = nil,
        remedy: String = ExchangeDecider.unreadableRemedy
    ) -> ExchangeVerdict {
        let verdict = unreadableIsolationVerdict(creator: creator, why: why, remedy: remedy)
        guard verdict.outcome != .block else { return verdict }
        return crossTenantAccess.refusalOfAnUnreadSignIn(
            creator: creator,
            cloud: cloud,
            application: application,
            prefix: Self.unreadablePrefix(why),
            remedy: remedy
        ) ?? verdict
    }

    static let unreadableRemedy = "The STS's answer must carry a readable Entra token for TenantGate to let it through."

    private static func unreadablePrefix(_ why: String) -> String { "the sign-in tenant could not be read (\(why)); " }

    /// Tenant isolation's half of `unreadableSignInVerdict`: the creator's own outbound isolation, or any other
    /// governed tenant whose inbound isolation does not admit the creator.
    func unreadableIsolationVerdict(creator: TenantID, why: String, remedy: String) -> ExchangeVerdict {
        let prefix = Self.unreadablePrefix(why)
        var verdict = isolationVerdict(policies.decide(creator: creator, signIn: nil), prefix: prefix)
        if verdict.outcome == .block {
            verdict.errorCodes = [500212]
            return verdict
        }
        if let refusing = policies.tenantRefusingInbound(from: creator) {
            return ExchangeVerdict(
                outcome: .block,
                directions: [.inbound],
                creatorTenant: creator,
                signInTenant: nil,
                reason: prefix + "the token could be of \(policies.label(refusing)), whose tenant isolation does not "
                    + "admit \(policies.label(creator)) inbound, so it is refused (fail closed). " + remedy,
                errorCodes: [500213],
                setting: "tenantIsolation"
            )
        }
        return verdict
    }

    /// The tenant the path names: a GUID, or a domain the directory resolves. `common` & co. name none.
    package func pathTenant(of endpoint: TokenEndpoint) -> TenantID? {
        switch endpoint.tenantSegmentKind {
        case .guid(let id): id
        case .domain(let name): policies.directory.tenant(forDomain: name)
        case .common, .organizations, .consumers, .none: nil
        }
    }

    /// `decide` is a pure function of the pair for one policy set, so its verdict can be kept.
    func isolationVerdict(creator: TenantID, signIn: TenantID) -> ExchangeVerdict {
        let pair = TenantPair(creator: creator, signIn: signIn)
        if let known = isolationVerdicts.value(for: pair) { return known }
        let verdict = isolationVerdict(policies.decide(creator: creator, signIn: signIn), prefix: "")
        isolationVerdicts.insert(verdict, for: pair)
        return verdict
    }

    func isolationVerdict(_ decision: IsolationDecision, prefix: String) -> ExchangeVerdict {
        let rule = decision.allowingRules.map {
            "\($0.direction.rawValue): \(policies.name($0.policyTenant)) \($0.rule)"
        }
        return ExchangeVerdict(
            outcome: decision.isAllowed ? .allow : .block,
            directions: decision.blockedDirections,
            creatorTenant: decision.creator,
            signInTenant: decision.signIn,
            reason: prefix + decision.explanation(naming: policies.name),
            rule: rule.isEmpty ? nil : rule.joined(separator: "; "),
            errorCodes: ExchangeVerdict.isolationErrorCodes(decision.blockedDirections),
            setting: "tenantIsolation"
        )
    }
}

private struct TenantPair: Hashable, Sendable {
    package let creator: TenantID
    package let signIn: TenantID
}

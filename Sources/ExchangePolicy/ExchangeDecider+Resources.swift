import Caching
import Foundation
import TenantPolicy
import TokenInspection

/// What a request to a resource host without a readable Entra token gets, when the directory maps the host to no
/// tenant (`--unreadable-resource-token`).
package enum UnreadableResourceToken: String, Sendable, CaseIterable {
    /// Allowed, and audited as such.
    case allow
    /// Refused whenever some tenant's isolation could refuse it (as an unreadable token answer is).
    case block
}

/// A request on a resource host, as the decider needs it.
package struct ResourceRequest: Sendable {
    package let creator: TenantID
    /// Canonical.
    package let host: String
    /// Origin form.
    package let path: String
    package let credentials: ResourceCredentials

    package init(creator: TenantID, host: String, path: String, credentials: ResourceCredentials) {
        self.creator = creator
        self.host = host
        self.path = path
        self.credentials = credentials
    }
}

/// A resource request's verdict, and whether it is the first of its token under this policy version (the one
/// that is audited when allowed).
package struct ResourceJudgement: Sendable, Equatable {
    package let verdict: ExchangeVerdict
    package let firstSight: Bool
    /// A first sight's verdict, kept for the token's later requests only once its line is written (`keep`).
    let unkept: UnkeptVerdict?

    package init(verdict: ExchangeVerdict, firstSight: Bool) {
        self.init(verdict: verdict, firstSight: firstSight, unkept: nil)
    }

    init(verdict: ExchangeVerdict, firstSight: Bool, unkept: UnkeptVerdict?) {
        self.verdict = verdict
        self.firstSight = firstSight
        self.unkept = unkept
    }

    struct UnkeptVerdict: Sendable, Equatable {
        let key: ResourceKey
        let verdict: ResourceVerdict
    }
}

/// A token's verdict is kept under a keyed hash of its credentials, never the credentials themselves.
struct ResourceKey: Hashable, Sendable {
    let creator: TenantID
    /// The host, or the Azure DevOps organisation the request goes to.
    let scope: String
    let digest: CredentialDigest
}

struct ResourceVerdict: Sendable, Equatable {
    let verdict: ExchangeVerdict
    /// The earliest `exp` of the tokens judged (seconds since 1970); nil: kept until the policy changes.
    let expiry: Double?
}

/// 128 bits of two differently keyed SipHash runs (the key is random per process): a hostile client cannot aim
/// a token at another's cached verdict.
struct CredentialDigest: Hashable, Sendable {
    let high: Int
    let low: Int

    init(_ credentials: ResourceCredentials) {
        var first = Hasher()
        var second = Hasher()
        second.combine(0x5EED)
        for credential in credentials.credentials {
            first.combine(credential)
            second.combine(credential)
        }
        for value in credentials.unreadValues {
            first.combine(value)
            second.combine(value)
        }
        high = first.finalize()
        low = second.finalize()
    }
}

/// Where a request goes when the directory says whose it is: an Azure DevOps organisation, or a mapped host.
private struct Destination {
    let tenant: TenantID
    /// How the reason names it: "Azure DevOps organisation contosoorg", "contoso.sharepoint.com".
    let name: String
}

extension ExchangeDecider {
    /// The decision on one request to a resource host (SPEC 4.2): an allowed token costs a lookup after its first
    /// request, until it expires or the policy changes.
    package func judgeResource(_ request: ResourceRequest, now: Date) -> ResourceJudgement {
        let organization = AzureDevOpsOrganization.of(host: request.host, path: request.path)
        let organizationTenant = organization.flatMap(policies.directory.tenant(forAzureDevOpsOrganization:))
        let key = ResourceKey(
            creator: request.creator,
            scope: organizationTenant == nil ? request.host : "\(request.host)/\(organization ?? "")",
            digest: CredentialDigest(request.credentials)
        )
        let known = resourceVerdicts.value(for: key)
        if let known, known.expiry.map({ now.timeIntervalSince1970 < $0 }) ?? true {
            return ResourceJudgement(verdict: known.verdict, firstSight: false)
        }
        let destination =
            if let organization, let organizationTenant {
                Destination(tenant: organizationTenant, name: "Azure DevOps organisation \(organization)")
            } else {
                policies.directory.tenant(forResourceHost: request.host).map {
                    Destination(tenant: $0, name: request.host)
                }
            }
        let judged = judgeCredentials(request, goingTo: destination)
        // A token judged again past its `exp` (kept within a resource's clock skew, or forged expired) is no first
        // sight when the verdict is the same: review 27 saw such a token audited on every request.
        guard known?.verdict != judged.verdict else {
            resourceVerdicts.insert(judged, for: key)
            return ResourceJudgement(verdict: judged.verdict, firstSight: false)
        }
        return ResourceJudgement(
            verdict: judged.verdict,
            firstSight: true,
            unkept: .init(key: key, verdict: judged)
        )
    }

    /// Keeps a first sight's verdict for the token's later requests, once its line is written: kept before, a line
    /// that failed (a full disk: 503) left the token known, and its later requests went through with no line at
    /// all (review 59 F3); so did requests on other connections while the line was still being synced.
    package func keep(_ judgement: ResourceJudgement) {
        guard let unkept = judgement.unkept else { return }
        resourceVerdicts.insert(unkept.verdict, for: unkept.key)
    }

    /// Every credential is judged, and so is the tenant the directory says the destination (an Azure DevOps
    /// organisation, a host) belongs to, when it says one: the strictest verdict stands. A credential that names no
    /// tenant follows the destination's. (A token of an allowed tenant in a carrier the resource never reads, a
    /// query's `access_token` beside a session cookie, must not stand for the request: the data of a mapped
    /// destination is its tenant's whatever the request carries; and a readable token of a tenant the creator may
    /// not reach is refused wherever it goes.)
    private func judgeCredentials(_ request: ResourceRequest, goingTo destination: Destination?) -> ResourceVerdict {
        var verdicts: [ExchangeVerdict] = []
        var expiry: Double?
        var readTenants: [TenantID] = []
        for credential in request.credentials.credentials {
            switch credential {
            case .bearer(let token):
                let evidence = TokenResponseInspector.evidence(ofBearer: token)
                guard let signIn = evidence.signInTenant, let cloud = evidence.issuerCloud else {
                    let why = evidence.unreadableReason ?? "the bearer token is not an Entra token"
                    verdicts.append(
                        unreadable(request, goingTo: destination, why: "the bearer token cannot be read: \(why)")
                    )
                    continue
                }
                if let exp = evidence.expiry { expiry = min(expiry ?? exp, exp) }
                readTenants.append(signIn)
                verdicts.append(
                    judgeSignIn(
                        creator: request.creator,
                        signIn: signIn,
                        cloud: cloud,
                        evidence: evidence,
                        clientID: nil
                    )
                )
            case .otherScheme(let scheme):
                verdicts.append(
                    unreadable(
                        request,
                        goingTo: destination,
                        why: "the Authorization scheme '\(scheme)' names no tenant"
                    )
                )
            case .cookie:
                verdicts.append(
                    unreadable(
                        request,
                        goingTo: destination,
                        why: "the request carries a Cookie, a session that names no tenant"
                    )
                )
            }
        }
        if request.credentials.credentials.isEmpty {
            verdicts.append(unreadable(request, goingTo: destination, why: "the request carries no bearer token"))
        } else if let destination,
            readTenants.count < request.credentials.credentials.count
                || readTenants.contains(where: { $0 != destination.tenant })
        {
            // Unless the request's only credentials are readable tokens of the destination's own tenant, judged
            // above with their user and application: judged again with neither known, a block of named users would
            // refuse every request to the destination.
            var verdict = judgeDestination(destination, for: request)
            verdict.reason =
                "the request goes to \(destination.name), which belongs to \(policies.label(destination.tenant)); "
                + verdict.reason
            verdicts.append(verdict)
        }
        let strictest =
            verdicts.first { $0.outcome == .block } ?? verdicts.first { $0.outcome != .allow } ?? verdicts[0]
        return ResourceVerdict(verdict: strictest, expiry: expiry)
    }

    /// The tenant the directory says a destination belongs to, judged as a sign-in to it is: tenant isolation, then
    /// the creator's cross-tenant access settings, with the user and application unknown (review 29: a PAT or a
    /// cookie reached a tenant Contoso's tenant restrictions refuse, where a readable token of it was refused).
    private func judgeDestination(_ destination: Destination, for request: ResourceRequest) -> ExchangeVerdict {
        judgeSignIn(
            creator: request.creator,
            signIn: destination.tenant,
            cloud: .global,
            evidence: TokenResponseEvidence(),
            clientID: nil
        )
    }

    /// A request whose tenant cannot be read from its credential: the tenant the directory says its destination
    /// belongs to, else `--unreadable-resource-token`.
    private func unreadable(
        _ request: ResourceRequest,
        goingTo destination: Destination?,
        why: String
    ) -> ExchangeVerdict {
        if let destination {
            var verdict = judgeDestination(destination, for: request)
            verdict.reason =
                "\(why); \(destination.name) belongs to \(policies.label(destination.tenant)); " + verdict.reason
            return verdict
        }
        switch unreadableResourceToken {
        case .block:
            return unreadableSignInVerdict(
                creator: request.creator,
                why: why,
                remedy: "Map \(request.host) to its tenant in directory.yaml (resourceHosts), or send a readable "
                    + "Entra token."
            )
        case .allow:
            return ExchangeVerdict(
                outcome: .allow,
                creatorTenant: request.creator,
                signInTenant: nil,
                reason: "\(why); allowed by --unreadable-resource-token allow",
                setting: "unreadableResourceToken"
            )
        }
    }
}

import CrossTenantAccess
import Foundation
import TenantPolicy

/// One question to a policy bundle with its explained answer: `tenantgate check` and the console's What-if ask the
/// same code.
package enum PolicyQuestion {
    /// The answer: allowed or not, the directions that block, the explanation, and for a cross-tenant access
    /// question which setting and configuration answered.
    package struct Answer: Sendable {
        package let isAllowed: Bool
        package let blockedDirections: [Direction]
        package var explanation: String
        package var setting: String?
        package var configuration: String?
        package var inherited: Bool?
        package var target: String?
    }

    /// Tenant isolation: a connection created in `creator` signing in to `signIn` (nil: unknown, which fails closed).
    /// An unknown sign-in tenant is refused as the proxy refuses an unreadable answer: by the creator's isolation
    /// (SPEC 2.1 rule 5), by any governed tenant whose inbound isolation does not admit the creator, and by the
    /// creator's tenant restrictions when they refuse some tenant's accounts, since it could be that tenant.
    package static func isolation(creator: TenantID, signIn: TenantID?, in bundle: PolicyBundle) -> Answer {
        let set = bundle.isolation
        let decision = set.decide(creator: creator, signIn: signIn)
        if signIn == nil, decision.isAllowed, let refusing = set.tenantRefusingInbound(from: creator) {
            return Answer(
                isAllowed: false,
                blockedDirections: [.inbound],
                explanation: "Blocked: the sign-in tenant is unknown, and it could be \(set.label(refusing)), whose "
                    + "tenant isolation does not admit \(set.label(creator)) inbound, so the connection is refused "
                    + "(fail closed)."
            )
        }
        if signIn == nil, decision.isAllowed,
            let refusal = bundle.crossTenantAccess[creator]?.tenantRestrictionsRefusingAnUnknownTenant(application: nil)
        {
            let which = set.labelOfAPossibleTenant(refusal.query.partner)
            var answer = Answer(
                isAllowed: false,
                blockedDirections: [.outbound],
                explanation: "Blocked: the sign-in tenant is unknown, and it could be \(which), whose accounts the "
                    + "tenant restrictions of \(set.label(creator)) refuse, so the connection is refused (fail closed). "
                    + refusal.explanation
            )
            answer.setting = refusal.settingName
            return answer
        }
        return Answer(
            isAllowed: decision.isAllowed,
            blockedDirections: decision.blockedDirections,
            explanation: decision.explanation(naming: set.name)
        )
    }

    /// A request from a connection created in `creator` to a destination the directory maps to `tenant`, judged as
    /// the proxy judges it whatever it carries: tenant isolation, then the creator's tenant restrictions toward that
    /// tenant with the user and application unknown.
    package static func mappedDestination(creator: TenantID, tenant: TenantID, in bundle: PolicyBundle) -> Answer {
        let answer = isolation(creator: creator, signIn: tenant, in: bundle)
        guard answer.isAllowed, tenant != creator, let settings = bundle.crossTenantAccess[creator] else {
            return answer
        }
        let query = CrossTenantAccessQuery(
            kind: .tenantRestrictions,
            direction: .outbound,
            partner: tenant,
            user: nil,
            application: nil
        )
        let result = settings.evaluate(query)
        guard !result.isAllowed else { return answer }
        let set = bundle.isolation
        var refused = Answer(
            isAllowed: false,
            blockedDirections: [.outbound],
            explanation: "\(set.name(creator)) toward \(set.name(tenant)): " + result.explanation
        )
        refused.setting = result.settingName
        refused.target = result.decidingTarget
        return refused
    }

    /// A cross-tenant access setting of `tenant` toward `partner`; without settings the service default answers.
    package static func crossTenantAccess(
        _ query: CrossTenantAccessQuery,
        tenant: TenantID,
        in bundle: PolicyBundle,
        source: String
    ) -> Answer {
        let set = bundle.isolation
        let settings = bundle.crossTenantAccess[tenant]
        let result = (settings ?? CrossTenantAccessPolicy()).evaluate(query)
        let fallback =
            settings == nil
            ? "\(set.name(tenant)) has no cross-tenant access settings in \(source), so the service default answers. "
            : ""
        var answer = Answer(
            isAllowed: result.isAllowed,
            // Tenant restrictions govern the tenant's own users signing in elsewhere: outbound, whichever direction
            // was asked, as the proxy's refusal names it (review 53 F4).
            blockedDirections: result.isAllowed
                ? [] : [query.kind == .tenantRestrictions ? .outbound : query.direction],
            explanation: "\(set.name(tenant)) toward \(set.name(query.partner)): " + fallback + result.explanation
        )
        answer.setting = result.settingName
        switch result.configuration {
        case .default: answer.configuration = "default"
        case .partner(let partner): answer.configuration = "partner \(partner)"
        }
        answer.inherited = result.inherited
        answer.target = result.decidingTarget
        return answer
    }

    /// A tenant written as a GUID or a domain the bundle knows; `*` and unknown domains are nil.
    package static func tenant(_ text: String, in bundle: PolicyBundle) -> TenantID? {
        guard let reference = TenantReference(parsing: text.trimmingCharacters(in: .whitespaces)), reference != .any
        else { return nil }
        return bundle.isolation.directory.resolve(reference)
    }
}

import CrossTenantAccess
import TenantPolicy
import TokenInspection

/// Applies governed tenants' cross-tenant access settings to an Entra token exchange that tenant isolation allowed
/// (SPEC 2.2). Only what a token exchange shows is judged:
/// - a sign-in at another Microsoft cloud's STS: the creator tenant's `allowedCloudEndpoints` and partners;
/// - a guest (the token's `idp` names a home tenant H other than the sign-in tenant S): B2B collaboration inbound of
///   S toward H, and outbound of H toward S;
/// - a member of another tenant S signing in for creator C: C's tenant restrictions toward S.
///
/// Governed tenants are taken to live in the global cloud (`microsoftonline.com`). Pure: no I/O.
package struct CrossTenantAccessEnforcer: Sendable {
    package let settings: [TenantID: CrossTenantAccessPolicy]
    package let policies: PolicySet

    /// The refusal, or nil when the settings admit the exchange (or none apply).
    package func judge(
        creator: TenantID,
        signIn: TenantID,
        cloud: EntraCloud,
        evidence: TokenResponseEvidence,
        clientID: String?
    ) -> ExchangeVerdict? {
        let home = evidence.homeTenant.flatMap { $0 == signIn || $0 == .microsoftAccounts ? nil : $0 }
        let application = clientID ?? evidence.applicationID
        let user = userIdentity(evidence, isGuest: home != nil)

        if cloud != .global, let refusal = crossCloudRefusal(creator: creator, signIn: signIn, cloud: cloud) {
            return refusal
        }
        /// The owner's refusal of one question, or nil when the owner has no settings or they allow it.
        func ownerRefusal(
            by owner: TenantID,
            _ kind: CrossTenantAccessKind,
            _ direction: Direction,
            toward partner: TenantID,
            home: TenantID?,
            as who: UserIdentity? = user,
            code: Int,
            what: @autoclosure () -> String
        ) -> ExchangeVerdict? {
            guard let ownerSettings = settings[owner] else { return nil }
            let result = ownerSettings.evaluate(
                .init(kind: kind, direction: direction, partner: partner, user: who, application: application)
            )
            guard !result.isAllowed else { return nil }
            return refusal(
                result,
                owner: owner,
                creator: creator,
                signIn: signIn,
                home: home,
                code: code,
                what: what()
            )
        }

        func guestSignIn(_ home: TenantID) -> String {
            "the guest sign-in of a \(policies.name(home)) account into \(policies.name(signIn))"
        }
        if let home {
            let b2bRefusal =
                ownerRefusal(
                    by: signIn,
                    .b2bCollaboration,
                    .inbound,
                    toward: home,
                    home: home,
                    code: 500213,
                    what: guestSignIn(home)
                )
                ?? ownerRefusal(
                    by: home,
                    .b2bCollaboration,
                    .outbound,
                    toward: signIn,
                    home: home,
                    code: 500212,
                    what: guestSignIn(home)
                )
            // The creator's own account is governed by its outbound B2B collaboration, above. An account of a third
            // tenant is as external to the creator as a member of the sign-in tenant is, so the creator's tenant
            // restrictions decide it too (review 28: a guest walked past "block every external tenant").
            if b2bRefusal != nil || home == creator { return b2bRefusal }
        }
        guard signIn != creator else { return nil }
        // Tenant restrictions name the users of the tenant signed in to: its account there, the token's `oid`. For a
        // member that is `client_info`'s `uid` too; for a guest, of another Entra tenant or a personal Microsoft
        // account (review 31: judged by the account's home ID whenever MSAL asked for `client_info`), it is not.
        let homeElsewhere = evidence.homeTenant.map { $0 != signIn } ?? false
        let restricted =
            evidence.objectID.map { UserIdentity(evidence, id: $0) } ?? (homeElsewhere ? nil : user)
        return ownerRefusal(
            by: creator,
            .tenantRestrictions,
            .outbound,
            toward: signIn,
            home: home,
            as: restricted,
            code: 5_000_211,
            what: home.map { guestSignIn($0) + " for a connection created in " + policies.name(creator) }
                ?? "a sign-in with a \(policies.name(signIn)) account for a connection created in "
                + policies.name(creator)
        )
    }

    /// A sign-in whose tenant cannot be read, judged against the creator's own settings, fail closed as tenant
    /// isolation is (review 29: an opaque answer skipped them): at another cloud's STS a governed creator reaches only
    /// partners, which such an answer cannot show; elsewhere it is refused when the creator's tenant restrictions
    /// refuse some tenant (a partner, or one that is not), since it could be of that tenant.
    package func refusalOfAnUnreadSignIn(
        creator: TenantID,
        cloud: EntraCloud,
        application: String?,
        prefix: String,
        remedy: String
    ) -> ExchangeVerdict? {
        let creatorName = policies.name(creator)
        if cloud != .global, reachesOtherCloudsOnlyAsPartners(creator) {
            return ExchangeVerdict(
                outcome: .block,
                directions: [.outbound],
                creatorTenant: creator,
                signInTenant: nil,
                reason: prefix + "the sign-in happened at the \(cloud.rawValue) cloud's STS, where \(creatorName) "
                    + "reaches only partners in a cloud its allowedCloudEndpoints lists, which an answer that names no "
                    + "tenant cannot show, so it is refused (fail closed). " + remedy,
                rule: "crossTenantAccess of \(creatorName): allowedCloudEndpoints",
                errorCodes: [500212],
                setting: "allowedCloudEndpoints"
            )
        }
        guard let result = settings[creator]?.tenantRestrictionsRefusingAnUnknownTenant(application: application)
        else { return nil }
        let which = policies.labelOfAPossibleTenant(result.query.partner)
        return ExchangeVerdict(
            outcome: .block,
            directions: [.outbound],
            creatorTenant: creator,
            signInTenant: nil,
            reason: prefix + "the token could be of \(which), whose accounts the tenant restrictions of "
                + "\(creatorName) refuse, so it is refused (fail closed). " + remedy,
            rule: "crossTenantAccess of \(creatorName): \(result.settingName) (\(result.configuration))",
            errorCodes: [5_000_211],
            setting: result.settingName
        )
    }

    /// The user as the settings name users: the home object ID (MSAL's `client_info` `uid`, or the token's `oid` for
    /// a member) and the token's groups. A guest without `client_info` is unknown; a guest's groups are too, as the
    /// token names its groups in the tenant that issued it, not in its home (review 31: a B2B block of a home group
    /// never applied).
    private func userIdentity(_ evidence: TokenResponseEvidence, isGuest: Bool) -> UserIdentity? {
        guard let id = evidence.clientInfoHomeObjectID ?? (isGuest ? nil : evidence.objectID) else { return nil }
        return isGuest
            ? UserIdentity(id: id, groupsKnown: false) : UserIdentity(evidence, id: id)
    }

    /// Entra blocks B2B with every tenant of another cloud until the governed tenant lists that cloud in
    /// `allowedCloudEndpoints` and adds the tenant as a partner (ENTRA-FACTS 4).
    private func crossCloudRefusal(creator: TenantID, signIn: TenantID, cloud: EntraCloud) -> ExchangeVerdict? {
        guard reachesOtherCloudsOnlyAsPartners(creator) else { return nil }
        let creatorSettings = settings[creator] ?? CrossTenantAccessPolicy()
        let cloudAllowed = creatorSettings.allowedCloudEndpoints.contains { $0.lowercased() == cloud.rawValue }
        let isPartner = creatorSettings.partner(signIn) != nil
        if cloudAllowed && isPartner { return nil }
        let why =
            !cloudAllowed
            ? "its cross-tenant access settings do not list \(cloud.rawValue) in allowedCloudEndpoints"
            : "\(policies.name(signIn)) is not among its partners, and another cloud's tenants are reached only as partners"
        return ExchangeVerdict(
            outcome: .block,
            directions: [.outbound],
            creatorTenant: creator,
            signInTenant: signIn,
            reason: "the sign-in happened at the \(cloud.rawValue) cloud's STS, and \(policies.name(creator)) does not "
                + "collaborate with that cloud's tenant \(policies.name(signIn)): \(why). An administrator of "
                + "\(policies.name(creator)) can add \(cloud.rawValue) to allowedCloudEndpoints and "
                + "\(policies.label(signIn)) as a partner.",
            rule: "crossTenantAccess of \(policies.name(creator)): allowedCloudEndpoints",
            errorCodes: [500212],
            setting: "allowedCloudEndpoints"
        )
    }

    /// A governed tenant, or one with settings: another cloud's tenants are its partners or nothing. (A tenant
    /// nobody governs has no say.)
    private func reachesOtherCloudsOnlyAsPartners(_ creator: TenantID) -> Bool {
        policies.tenant(creator) != nil || settings[creator] != nil
    }

    private func refusal(
        _ result: CrossTenantAccessResult,
        owner: TenantID,
        creator: TenantID,
        signIn: TenantID,
        home: TenantID?,
        code: Int,
        what: String
    ) -> ExchangeVerdict {
        // Tenant restrictions are the creator's own outbound refusal of foreign accounts: outbound too, so that the
        // refusal's `tenant_isolation` names a direction as every other does (SPEC 4).
        let directions: [Direction] = [result.query.direction]
        let target = result.decidingTarget.map { ", target \($0)" } ?? ""
        return ExchangeVerdict(
            outcome: .block,
            directions: directions,
            creatorTenant: creator,
            signInTenant: signIn,
            homeTenant: home,
            reason: "\(policies.name(owner))'s cross-tenant access settings refuse \(what). \(result.explanation) "
                + "An administrator of \(policies.name(owner)) can change \(result.settingName) toward "
                + "\(policies.label(result.query.partner)).",
            rule:
                "crossTenantAccess of \(policies.name(owner)): \(result.settingName) (\(result.configuration))\(target)",
            errorCodes: [code],
            setting: result.settingName
        )
    }
}

extension UserIdentity {
    /// The user `id` in the groups the token names, known only when it lists them all (not on overage).
    fileprivate init(_ evidence: TokenResponseEvidence, id: String) {
        self.init(id: id, groupIDs: evidence.groupIDs, groupsKnown: evidence.groupsListedInFull)
    }
}

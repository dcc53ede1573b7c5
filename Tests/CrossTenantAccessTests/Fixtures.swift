import CrossTenantAccess
import Foundation
import TenantPolicy
import TestSupport

/// Tenants, users and applications shared by the tests, and a helper that builds policies from Graph JSON text.
enum Fixtures {
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = TenantID("7e3a1c55-2f44-4d0e-9b1a-3c5d6e7f8a9b")!

    static let memberOfG1 = UserIdentity(id: "u1", groupIDs: ["g0", "g1"])
    static let outsideG1 = UserIdentity(id: "u2", groupIDs: ["g2"])
    static let exchange = "00000002-0000-0ff1-ce00-000000000000"
    static let graph = "00000003-0000-0000-c000-000000000000"

    static func policy(_ json: String) throws -> CrossTenantAccessPolicy {
        try CrossTenantAccessPolicy.decode(from: Data(json.utf8))
    }

    /// A B2B setting in Graph JSON: `usersAndGroups` and `applications` with one access type and targets each.
    static func setting(
        users: String,
        _ userTargets: [(String, String)],
        applications: String,
        _ applicationTargets: [(String, String)]
    ) -> String {
        """
        {"usersAndGroups": \(part(users, userTargets)), "applications": \(part(applications, applicationTargets))}
        """
    }

    static func part(_ accessType: String, _ targets: [(String, String)]) -> String {
        let list = targets.map { #"{"target": "\#($0.0)", "targetType": "\#($0.1)"}"# }.joined(separator: ", ")
        return #"{"accessType": "\#(accessType)", "targets": [\#(list)]}"#
    }

    static func query(
        _ kind: CrossTenantAccessKind = .b2bCollaboration,
        _ direction: Direction = .inbound,
        partner: TenantID = fabrikam,
        user: UserIdentity? = memberOfG1,
        application: String? = "a1"
    ) -> CrossTenantAccessQuery {
        CrossTenantAccessQuery(kind: kind, direction: direction, partner: partner, user: user, application: application)
    }
}

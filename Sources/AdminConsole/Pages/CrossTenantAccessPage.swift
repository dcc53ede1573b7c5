import AdminAPI
import CrossTenantAccess
import EntraAuth
import Foundation
import Hummingbird
import PolicyFiles
import PolicyService
import TenantPolicy

/// Cross-tenant access settings: the default and each organization, every B2B setting with its users and groups,
/// applications and tenant restrictions; inherited values marked, as the Entra admin center shows them.
extension AdminConsole {
    /// The settings shown, in the admin center's order, with their Graph property names.
    static let settings: [(key: String, label: String)] = [
        ("b2bCollaborationInbound", "B2B collaboration · inbound"),
        ("b2bCollaborationOutbound", "B2B collaboration · outbound"),
        ("b2bDirectConnectInbound", "B2B direct connect · inbound"),
        ("b2bDirectConnectOutbound", "B2B direct connect · outbound"),
        ("tenantRestrictions", "Tenant restrictions"),
    ]

    func crossTenantAccessPage(_ request: Request, _ context: AdminRequestContext) -> Response {
        whenSignedIn(request, context, page: .crossTenantAccess) { chrome in
            let tenant = chrome.principal.tenant
            let bundle = policies.current().bundle
            let policy = bundle.crossTenantAccess[tenant] ?? CrossTenantAccessPolicy()
            let defaultObject = Self.object(try? policy.default.encoded(pretty: false))
            let partners: [[String: Any]] = policy.partners.map { partner in
                let id = partner.partnerTenant
                let effective = id.map { policy.effectiveSettings(for: $0) }
                let effectiveObject = Self.object(try? effective?.encoded(pretty: false))
                let inherited = Set(effective?.inheritedProperties ?? [])
                return [
                    "tenantID": partner.tenantId,
                    "name": id.map(bundle.isolation.name) ?? partner.tenantId,
                    "documentJSON": String(
                        decoding: (try? partner.encoded(pretty: false)) ?? Data("{}".utf8),
                        as: UTF8.self
                    ),
                    "settings": Self.settingRows(effectiveObject, inherited: inherited),
                ]
            }
            return renderer.page(
                "cross_tenant_access",
                title: "Cross-tenant access settings",
                chrome: chrome,
                values: [
                    "etag": policyAPI.crossTenantAccessETag(for: tenant) ?? "",
                    "baseURL": "/v1.0/policies/crossTenantAccessPolicy",
                    "defaultJSON": String(
                        decoding: (try? policy.default.encoded(pretty: false)) ?? Data("{}".utf8),
                        as: UTF8.self
                    ),
                    "default": ["settings": Self.settingRows(defaultObject, inherited: [])],
                    "partners": partners,
                ]
            )
        }
    }

    private static func object(_ data: Data?) -> [String: Any] {
        data.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] } ?? [:]
    }

    private static func settingRows(_ object: [String: Any], inherited: Set<String>) -> [[String: Any]] {
        settings.map { key, label in
            let setting = object[key] as? [String: Any]
            return [
                "label": label,
                "inherited": inherited.contains(key),
                "usersAndGroups": describe(setting?["usersAndGroups"] as? [String: Any]),
                "applications": describe(setting?["applications"] as? [String: Any]),
            ]
        }
    }

    /// "Allowed: All users", "Blocked: user 5f0c…, group 1a2b…", as the admin center summarises a target list.
    private static func describe(_ targets: [String: Any]?) -> String {
        guard let targets, let access = targets["accessType"] as? String else { return "Not configured" }
        let names = (targets["targets"] as? [[String: Any]] ?? []).map { entry -> String in
            let target = entry["target"] as? String ?? "?"
            switch target {
            case "AllUsers": return "All users"
            case "AllApplications": return "All applications"
            case "Office365": return "Office 365"
            default: return "\(entry["targetType"] as? String ?? "target") \(target)"
            }
        }
        let verdict = access == "allowed" ? "Allowed" : access == "blocked" ? "Blocked" : access
        return names.isEmpty ? verdict : "\(verdict): " + names.joined(separator: ", ")
    }
}

import AdminAPI
import EntraAuth
import Hummingbird
import Mustache
import NIOCore
import TenantPolicy

/// Renders the console's pages from `ConsoleTemplates` with the chrome every page shares: who is signed in, the
/// navigation, the CSRF token for changes.
struct PageRenderer: Sendable {
    private let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all { try library.register(text, named: name) }
        self.library = library
    }

    /// The signed-in administrator's part of every page.
    struct Chrome: Sendable {
        let session: ConsoleSession
        let principal: AdminPrincipal
        let tenantName: String
        /// The navigation entry of the page shown (`ConsolePage.path`).
        let current: String
    }

    func page(
        _ template: String,
        title: String,
        chrome: Chrome?,
        values: [String: Any] = [:],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var object = values
        object["title"] = title
        if let chrome {
            object["signedIn"] = true
            object["csrf"] = chrome.session.csrfToken
            object["tenantID"] = chrome.principal.tenant.description
            object["tenantName"] = object["tenantName"] ?? chrome.tenantName
            object["userName"] = chrome.principal.displayName ?? chrome.principal.username ?? "Administrator"
            object["roles"] = chrome.principal.roles.map(\.description).sorted().joined(separator: ", ")
            object["nav"] = ConsolePage.allCases.map { page in
                ["href": page.path, "label": page.label, "current": page.path == chrome.current] as [String: Any]
            }
        }
        let html = library.render(object, withTemplate: template) ?? ""
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html))
        )
    }

    /// A page that only says something: an error, a refusal, signed out.
    func message(
        heading: String,
        text: String,
        link: (href: String, label: String)?,
        chrome: Chrome? = nil,
        status: HTTPResponse.Status
    ) -> Response {
        var values: [String: Any] = ["heading": heading, "text": text]
        if let link { values["link"] = ["href": link.href, "label": link.label] }
        return page("message", title: heading, chrome: chrome, values: values, status: status)
    }
}

/// The console's pages, in navigation order, with the admin area each needs (nil: any console role).
enum ConsolePage: CaseIterable {
    case isolation, crossTenantAccess, activity, report, whatIf

    var path: String {
        switch self {
        case .isolation: "/console/isolation"
        case .crossTenantAccess: "/console/cross-tenant-access"
        case .activity: "/console/activity"
        case .report: "/console/report"
        case .whatIf: "/console/what-if"
        }
    }

    var label: String {
        switch self {
        case .isolation: "Tenant isolation"
        case .crossTenantAccess: "Cross-tenant access"
        case .activity: "Activity"
        case .report: "Report"
        case .whatIf: "What if"
        }
    }

    var area: AdminArea? {
        switch self {
        case .isolation: .tenantIsolation
        case .crossTenantAccess: .crossTenantAccess
        case .activity, .report, .whatIf: nil
        }
    }
}

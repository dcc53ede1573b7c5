import AdminAPI
import Audit
import EntraAuth
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import PolicyFiles
import PolicyService
import TenantPolicy
import TokenInspection

/// The admin console (`--console-client-id`): Entra sign-in, and pages over the same policy API as any client.
///
/// Pages read the policy store; every change goes from the browser to the JSON API with the session cookie and its
/// CSRF token, so ETag conflicts, validation errors and audit lines are the API's own.
package struct AdminConsole: Sendable {
    let configuration: ConsoleConfiguration
    let policies: PolicyStore
    let policyAPI: AdminPolicyAPI
    let feed: ActivityFeed
    let renderer: PageRenderer
    let provider: OpenIDProvider
    let attempts = SignInAttempts()
    let reports = ReportReader()
    let secureCookies: Bool
    let logger: Logger

    /// - Parameter audit: its lines feed the Activity page from now on (after the end of `auditLogPath`, if any).
    package init(
        configuration: ConsoleConfiguration,
        policies: PolicyStore,
        policyAPI: AdminPolicyAPI,
        audit: AuditLog,
        secureCookies: Bool,
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.policies = policies
        self.policyAPI = policyAPI
        feed = ActivityFeed(keepsTenant: { [policyAPI] in policyAPI.admits($0) })
        renderer = try PageRenderer()
        provider = OpenIDProvider(configuration: configuration)
        self.secureCookies = secureCookies
        self.logger = logger
        if let path = configuration.auditLogPath { feed.seed(fromFile: path) }
        audit.observeWrites { [feed] in feed.publish($0) }
    }

    package func addRoutes(to router: Router<AdminRequestContext>) {
        let console = router.group("/console").add(middleware: ConsoleSecurityHeadersMiddleware())
        console.get("/assets/console.css") { _, _ in Self.asset(ConsoleStylesheet.text, type: "text/css; charset=utf-8")
        }
        console.get("/assets/console.js") { _, _ in
            Self.asset(ConsoleScript.text, type: "text/javascript; charset=utf-8")
        }
        addSignInRoutes(to: console)
        console.get("") { request, context in home(request, context) }
        console.get("/isolation") { request, context in isolationPage(request, context) }
        console.get("/tenants/lookup") { request, context in try tenantLookup(request, context) }
        console.get("/cross-tenant-access") { request, context in crossTenantAccessPage(request, context) }
        console.get("/activity") { request, context in activityPage(request, context) }
        console.get("/activity/stream") { request, context in activityStream(request, context) }
        console.get("/report") { request, context in await reportPage(request, context) }
        console.get("/what-if") { request, context in whatIfPage(request, context) }
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// The first page the administrator's roles open.
    private func home(_ request: Request, _ context: AdminRequestContext) -> Response {
        whenSignedIn(request, context, page: nil) { chrome in
            let page = ConsolePage.allCases.first { $0.area.map(chrome.principal.mayWork) ?? true } ?? .activity
            return Self.redirect(to: page.path)
        }
    }

    /// Renders a page for the signed-in administrator, or answers what `signedIn` says instead.
    func whenSignedIn(
        _ request: Request,
        _ context: AdminRequestContext,
        page: ConsolePage?,
        _ render: (PageRenderer.Chrome) -> Response
    ) -> Response {
        switch signedIn(request, context, page: page) {
        case .failure(let refusal): refusal.response
        case .success(let chrome): render(chrome)
        }
    }

    /// The signed-in administrator for a page, or the answer instead: to sign-in when there is no session, a
    /// refusal when the page's area needs a role the administrator lacks.
    func signedIn(
        _ request: Request,
        _ context: AdminRequestContext,
        page: ConsolePage?
    ) -> Result<PageRenderer.Chrome, PageRefusal> {
        guard let session = context.sessions.session, let principal = session.principal else {
            let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            var components = URLComponents()
            components.queryItems = [URLQueryItem(name: "return", value: target)]
            return .failure(PageRefusal(Self.redirect(to: "/console/signin?" + (components.percentEncodedQuery ?? ""))))
        }
        let chrome = PageRenderer.Chrome(
            session: session,
            principal: principal,
            tenantName: policies.current().bundle.isolation.name(principal.tenant),
            current: page?.path ?? ""
        )
        if let area = page?.area, !principal.mayWork(on: area) {
            let roles = area.grantingRoles.map(\.description).sorted().joined(separator: " or ")
            return .failure(
                PageRefusal(
                    renderer.message(
                        heading: "You cannot manage \(area)",
                        text: "Managing \(area) needs the \(roles) role. Your account holds: "
                            + (principal.roles.isEmpty
                                ? "no administrator role"
                                : principal.roles.map(\.description).sorted().joined(separator: ", "))
                            + ".",
                        link: nil,
                        chrome: chrome,
                        status: .forbidden
                    )
                )
            )
        }
        return .success(chrome)
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The query's parameters (`+` for space, the first of repeated names), whatever the query holds.
    static func query(_ request: Request) -> [String: String] {
        FormText.fields(request.uri.query ?? "")
    }
}

/// What a page answers instead of itself: the way to sign-in, or a refusal.
struct PageRefusal: Error {
    let response: Response

    init(_ response: Response) {
        self.response = response
    }
}

import AuditReport
import Foundation
import TenantPolicy
import TestSupport
import Testing

@testable import AdminConsole

/// The report page's "Add rule" suggestions: for traffic seen working (allowed, or only recorded as would-block),
/// never for attempts that were refused. Review 57: any client's refused request naming a made-up tenant put an
/// "Add rule" for that tenant under "Rules that keep the traffic seen in this period working".
struct ReportSuggestionTests {
    @Test func onlyTrafficSeenWorkingIsSuggested() {
        let madeUp = TenantID("5a5a5a5a-0000-4000-8000-00000000005a")!
        let reportOnly = TenantID("6b6b6b6b-0000-4000-8000-00000000006b")!
        var builder = AuditReportBuilder()
        for (decision, signIn) in [
            ("blocked", madeUp), ("blocked", ActivityTests.northwind), ("would_block", reportOnly),
            ("allowed", ActivityTests.fabrikam),
        ] {
            let line = ActivityTests.line(decision, ["outbound"], creator: ActivityTests.contoso, signIn: signIn)
            builder.add(line: Array(line.utf8))
        }
        let suggested = AdminConsole.suggestions(
            builder.build(source: "test"),
            viewer: ActivityTests.contoso,
            set: ActivityTests.names
        )
        // Fabrikam's is allowed by Contoso's rule already; the refused ones suggest nothing.
        #expect(suggested.map { $0["tenantID"] as? String } == [reportOnly.description], "\(suggested)")
        #expect(suggested.first?["direction"] as? String == "outbound")
    }
}

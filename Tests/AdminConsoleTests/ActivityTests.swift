import Foundation
import PolicyFiles
import TenantPolicy
import TestSupport
import Testing

@testable import AdminConsole

/// The Activity page's rows, their "rule that would allow it" links, its filters and the feed behind it.
struct ActivityTests {
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = ExampleTenants.northwind

    static let names: PolicySet = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies").path
        return try! PolicyDirectoryLoader.load(directory: directory).get().isolation
    }()

    static func line(
        _ decision: String,
        _ directions: [String],
        creator: TenantID?,
        signIn: TenantID?,
        setting: String? = nil,
        client: String = "e002ab83-2360-4092-bd0b-5a4c52f2f15a"
    ) -> String {
        var object: [String: Any] = [
            "time": "2026-11-30T01:00:00.000Z", "decision": decision, "directions": directions,
            "host": "login.microsoftonline.com", "reason": "r", "client_id": client,
            "correlation_id": "00000000-0000-0000-0000-000000000001",
        ]
        object["creator_tenant"] = creator?.description
        object["sign_in_tenant"] = signIn?.description
        object["setting"] = setting
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    static func fix(_ line: String, viewer: TenantID = contoso) -> (url: String, label: String) {
        let row = ActivityRow(line: line, viewer: viewer, names: names)!
        return (row.values["fixURL"] as! String, row.values["fixLabel"] as! String)
    }

    @Test func aRefusalLinksToTheRuleTheViewersTenantWouldAdd() {
        let outbound = Self.fix(Self.line("blocked", ["outbound"], creator: Self.contoso, signIn: Self.northwind))
        #expect(outbound.url == "/console/isolation?add=\(Self.northwind)&direction=outbound")
        #expect(outbound.label == "Allow Northwind outbound")

        let inbound = Self.fix(Self.line("would_block", ["inbound"], creator: Self.fabrikam, signIn: Self.contoso))
        #expect(inbound.url == "/console/isolation?add=\(Self.fabrikam)&direction=inbound")

        let elsewhere = Self.fix(
            Self.line("blocked", ["outbound"], creator: Self.fabrikam, signIn: Self.northwind)
        )
        #expect(elsewhere.url.isEmpty)
        #expect(elsewhere.label == "An administrator of Fabrikam can add the rule")

        let isolation = Self.line("blocked", ["outbound"], creator: Self.contoso, signIn: Self.northwind)
        #expect(Self.fix(isolation).url.hasPrefix("/console/isolation"))
        let access = Self.line(
            "blocked",
            ["inbound"],
            creator: Self.fabrikam,
            signIn: Self.contoso,
            setting: "b2bCollaborationInbound"
        )
        #expect(Self.fix(access).url == "/console/cross-tenant-access")
        #expect(Self.fix(Self.line("blocked", ["outbound"], creator: Self.contoso, signIn: nil)).url.isEmpty)
        #expect(Self.fix(Self.line("allowed", [], creator: Self.contoso, signIn: Self.northwind)).label.isEmpty)
    }

    @Test func anAdministratorSeesTheirOwnTenantsTrafficOnly() throws {
        let between = Self.line("blocked", ["outbound"], creator: Self.fabrikam, signIn: Self.northwind)
        let row = try #require(ActivityRow(line: between, viewer: Self.contoso, names: Self.names))
        #expect(!row.concerns(Self.contoso))
        #expect(row.concerns(Self.fabrikam))
        #expect(row.concerns(Self.northwind))
    }

    @Test func aResourceRequestIsToldApartAndItsRefusalLinksToTheRule() throws {
        var object = try #require(
            try JSONSerialization.jsonObject(
                with: Data(Self.line("blocked", ["outbound"], creator: Self.contoso, signIn: Self.northwind).utf8)
            ) as? [String: Any]
        )
        object["event"] = "resource_access"
        object["method"] = "GET"
        object["host"] = "graph.microsoft.com"
        let line = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let row = try #require(ActivityRow(line: line, viewer: Self.contoso, names: Self.names))
        #expect(row.values["resourceRequest"] as? Bool == true)
        #expect(row.values["method"] as? String == "GET")
        #expect(row.values["fixURL"] as? String == "/console/isolation?add=\(Self.northwind)&direction=outbound")
        let exchange = try #require(
            ActivityRow(
                line: Self.line("allowed", [], creator: Self.contoso, signIn: Self.fabrikam),
                viewer: Self.contoso,
                names: Self.names
            )
        )
        #expect(exchange.values["resourceRequest"] as? Bool == false)
    }

    @Test func linesThatAreNotDecisionsAreNotRows() {
        #expect(ActivityRow(line: #"{"event":"policy_change"}"#, viewer: Self.contoso, names: Self.names) == nil)
        #expect(ActivityRow(line: "not json", viewer: Self.contoso, names: Self.names) == nil)
    }

    @Test func filtersByTenantOnEitherSideDecisionAndClient() throws {
        let row = try #require(
            ActivityRow(
                line: Self.line("blocked", ["outbound"], creator: Self.contoso, signIn: Self.northwind, client: "ABC"),
                viewer: Self.contoso,
                names: Self.names
            )
        )
        #expect(ActivityFilter(query: ["tenant": "northwind.onmicrosoft.com"], names: Self.names).admits(row))
        #expect(ActivityFilter(query: ["tenant": Self.contoso.description], names: Self.names).admits(row))
        #expect(!ActivityFilter(query: ["tenant": "fabrikam.onmicrosoft.com"], names: Self.names).admits(row))
        let unknown = ActivityFilter(query: ["tenant": "nowhere.example"], names: Self.names)
        #expect(unknown.error != nil)
        #expect(!unknown.admits(row))
        #expect(ActivityFilter(query: ["decision": "blocked", "client": "abc"], names: Self.names).admits(row))
        #expect(!ActivityFilter(query: ["decision": "allowed"], names: Self.names).admits(row))
        #expect(
            ActivityFilter(query: ["tenant": "a b", "decision": "blocked"], names: Self.names).query
                == "?tenant=a%20b&decision=blocked"
        )
    }

    /// A feed keeping the windows of Contoso and Fabrikam (the tenants whose administrators may sign in).
    static func feed() -> ActivityFeed {
        ActivityFeed(keepsTenant: { $0 == contoso || $0 == fabrikam })
    }

    @Test func theFeedKeepsEachTenantsLatestLinesAndHandsNewOnesToWatchers() async {
        let feed = Self.feed()
        let watch = feed.watch()
        var bytes: [UInt8] = []
        for index in 0..<(ActivityFeed.capacity + 10) {
            bytes += Array(
                (Self.line("blocked", [], creator: Self.contoso, signIn: Self.northwind, client: "\(index)") + "\n")
                    .utf8
            )
        }
        feed.publish(bytes)
        #expect(feed.recent(for: Self.contoso).count == ActivityFeed.capacity)
        #expect(feed.recent(for: Self.contoso).last?.contains("\"client_id\":\"\(ActivityFeed.capacity + 9)\"") == true)
        // Northwind's administrators may not sign in: nothing is kept for them.
        #expect(feed.recent(for: Self.northwind).isEmpty)
        watch.stop()
        var received = 0
        for await _ in watch.lines { received += 1 }
        // The watcher's buffer is bounded too: it lost the oldest lines, never the newest.
        #expect(received == ActivityFeed.capacity)
    }

    /// Review 21: any proxy client could push every tenant's decisions out of sight with ~500 refused CONNECTs whose
    /// lines name no tenant, or name only tenants no administrator of this proxy can see.
    @Test func linesOfOtherTenantsOrOfNoneLeaveATenantsWindowAlone() {
        let feed = Self.feed()
        let kept = Self.line("blocked", ["outbound"], creator: Self.contoso, signIn: Self.northwind, client: "kept")
        feed.publish(Array((kept + "\n").utf8))
        var flood: [UInt8] = []
        for _ in 0..<(ActivityFeed.capacity * 2) {
            flood += Array((Self.line("error", [], creator: nil, signIn: nil) + "\n").utf8)
            flood += Array((Self.line("blocked", [], creator: Self.northwind, signIn: Self.northwind) + "\n").utf8)
        }
        feed.publish(flood)
        #expect(feed.recent(for: Self.contoso) == [kept])
        #expect(feed.recent(for: Self.northwind).isEmpty)
        // A line between two kept tenants is in both windows.
        let both = Self.line("allowed", [], creator: Self.contoso, signIn: Self.fabrikam)
        feed.publish(Array((both + "\n").utf8))
        #expect(feed.recent(for: Self.contoso) == [kept, both])
        #expect(feed.recent(for: Self.fabrikam) == [both])
    }

    /// Review 23: 520 refused requests naming Contoso, by a maker of any other tenant, emptied Contoso's window. A full
    /// window gives up the oldest line of the other tenant it holds most of: the flood's own.
    @Test func aFloodFromOneTenantPushesOutItsOwnLines() {
        let feed = Self.feed()
        let kept = Self.line("blocked", ["outbound"], creator: Self.contoso, signIn: Self.fabrikam, client: "kept")
        feed.publish(Array((kept + "\n").utf8))
        var flood: [UInt8] = []
        for index in 0..<(ActivityFeed.capacity * 2) {
            flood += Array(
                (Self.line("blocked", [], creator: Self.northwind, signIn: Self.contoso, client: "\(index)") + "\n")
                    .utf8
            )
        }
        feed.publish(flood)
        let window = feed.recent(for: Self.contoso)
        #expect(window.count == ActivityFeed.capacity)
        #expect(window.first == kept)
        #expect(window.last?.contains("\"client_id\":\"\(ActivityFeed.capacity * 2 - 1)\"") == true)
    }

    /// Review 23: a window per tenant, 500 lines each, made memory grow with the tenants a maker could aim lines at.
    /// All windows together hold at most `totalCapacity` lines.
    @Test func allWindowsTogetherAreBounded() {
        let feed = ActivityFeed(keepsTenant: { _ in true })
        let tenants = ActivityFeed.totalCapacity / ActivityFeed.capacity + 10
        for index in 0..<tenants {
            let tenant = TenantID(high: 0x1000 + UInt64(index), low: 1)
            var bytes: [UInt8] = []
            for _ in 0..<ActivityFeed.capacity {
                bytes +=
                    Array(#"{"decision":"blocked","creator_tenant":"\#(tenant)","sign_in_tenant":null}"#.utf8) + [0x0A]
            }
            feed.publish(bytes)
        }
        let total = (0..<tenants).reduce(0) {
            $0 + feed.recent(for: TenantID(high: 0x1000 + UInt64($1), low: 1)).count
        }
        #expect(total == ActivityFeed.totalCapacity)
        #expect(!feed.recent(for: TenantID(high: 0x1000 + UInt64(tenants - 1), low: 1)).isEmpty)
    }

    /// A quote inside a value is escaped, so a client ID spelling a key does not file the line under its tenant.
    @Test func aValueThatSpellsATenantKeyIsNotRead() {
        let spoof = Self.line(
            "error",
            [],
            creator: nil,
            signIn: nil,
            client: "\"creator_tenant\":\"\(Self.contoso)\""
        )
        #expect(ActivityFeed.tenants(of: ArraySlice(spoof.utf8)).isEmpty)
    }

    @Test func seedingFromAFileSkipsTheLinesCutAtEitherEnd() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let second = Self.line("allowed", [], creator: Self.contoso, signIn: Self.contoso, client: "second")
        let third = Self.line("allowed", [], creator: Self.contoso, signIn: Self.contoso, client: "third")
        try "first line cut\n\(second)\n\(third)\nhalf-writ".write(toFile: path, atomically: true, encoding: .utf8)
        let feed = Self.feed()
        feed.seed(fromFile: path, maximumBytes: second.utf8.count + third.utf8.count + 14)
        #expect(feed.recent(for: Self.contoso) == [second, third])
    }
}

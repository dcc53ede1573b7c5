import AdminAPI
import EntraAuth
import Foundation
import Hummingbird
import NIOCore
import PolicyFiles
import PolicyService
import ServiceLifecycle
import TenantPolicy

/// Activity: the latest decisions, filtered by tenant, decision and client ID, and new ones as server-sent events.
extension AdminConsole {
    static let decisionChoices = [
        ("", "Any decision"), ("allowed", "Allowed"), ("blocked", "Blocked"), ("would_block", "Would block"),
        ("unenforced", "Unenforced"), ("error", "Error"),
    ]
    /// Rows a page starts with.
    static let activityRows = 200
    /// A comment line keeps proxies and browsers from timing the stream out, and finds a closed browser.
    static let heartbeat = Duration.seconds(15)

    func activityPage(_ request: Request, _ context: AdminRequestContext) -> Response {
        whenSignedIn(request, context, page: .activity) { chrome in
            let names = policies.current().bundle.isolation
            let filter = ActivityFilter(query: Self.query(request), names: names)
            let rows =
                feed.recent(for: chrome.principal.tenant).reversed().lazy
                .compactMap { ActivityRow(line: $0, viewer: chrome.principal.tenant, names: names) }
                .filter { $0.concerns(chrome.principal.tenant) && filter.admits($0) }.prefix(Self.activityRows).map(
                    \.values
                )
            return renderer.page(
                "activity",
                title: "Activity",
                chrome: chrome,
                values: [
                    "rows": Array(rows),
                    "filterTenant": filter.tenantText,
                    "filterClient": filter.client,
                    "filterError": filter.error ?? "",
                    "decisions": Self.decisionChoices.map { value, label in
                        ["value": value, "label": label, "selected": value == filter.decision] as [String: Any]
                    },
                    "query": filter.query,
                ]
            )
        }
    }

    /// `text/event-stream`: each new decision the filter admits, as the row the page would render, in JSON.
    func activityStream(_ request: Request, _ context: AdminRequestContext) -> Response {
        whenSignedIn(request, context, page: .activity) { chrome in
            let viewer = chrome.principal.tenant
            let policies = self.policies
            // The filter is read once, as the page that opened the stream read it; names follow reloads per line.
            let filter = ActivityFilter(query: Self.query(request), names: policies.current().bundle.isolation)
            let watch = feed.watch()
            // Unstructured, yet it inherits the request task's graceful shutdown: the stream ends with the server's
            // graceful shutdown, which otherwise waits for this answer to finish.
            let heartbeat = Task {
                await withGracefulShutdownHandler {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.heartbeat)
                        watch.ping()
                    }
                } onGracefulShutdown: {
                    watch.stop()
                }
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    defer {
                        heartbeat.cancel()
                        watch.stop()
                    }
                    try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
                    for await line in watch.lines {
                        if line.isEmpty {
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            continue
                        }
                        let names = policies.current().bundle.isolation
                        guard let row = ActivityRow(line: line, viewer: viewer, names: names), row.concerns(viewer),
                            filter.admits(row),
                            let json = try? JSONSerialization.data(withJSONObject: row.values, options: [.sortedKeys])
                        else { continue }
                        try await writer.write(ByteBuffer(string: "data: \(String(decoding: json, as: UTF8.self))\n\n"))
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }
}

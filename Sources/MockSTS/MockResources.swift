import Foundation
import NIOHTTP1

/// The resource hosts the mock plays beside Entra: Graph, SharePoint, Dataverse and Azure DevOps. Each request is
/// answered 200 with what arrived (host, path, method, whether a bearer came, the body's length), as a real resource
/// would answer a token it accepts; judging the token is the proxy's business.
enum MockResources {
    static let hosts = [
        "graph.microsoft.com", "contoso.sharepoint.com", "northwind.sharepoint.com", "contoso.crm.dynamics.com",
        "dev.azure.com", "northwindorg.visualstudio.com",
    ]

    static func serves(_ host: String) -> Bool { hosts.contains(host) }

    static func answer(host: String, path: String, method: String, hasBearer: Bool, bodyBytes: Int) -> MockAnswer {
        let object: [String: Any] = [
            "displayName": "Mock \(host)", "resource": host, "path": path, "method": method,
            "bearer": hasBearer, "received_bytes": bodyBytes,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return MockAnswer(.ok, String(decoding: data, as: UTF8.self))
    }
}

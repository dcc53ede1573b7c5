import Foundation

/// Where and as whom a Sentinel sink sends (`sentinel+https://ENDPOINT/dataCollectionRules/DCR/streams/STREAM`, as
/// SPEC 4.2 writes it): the data collection endpoint, rule and stream of the Logs Ingestion API, and the Entra
/// application whose client credentials get its tokens (the secret from `--ship-secret sentinel=FILE`). The tenant and
/// the application are `?tenant=TENANT&client_id=APP`, or else `AZURE_TENANT_ID` and `AZURE_CLIENT_ID` in the
/// environment, as Azure's SDKs read them (neither is a secret).
/// `authority=` and `scope=` change the cloud (`https://login.microsoftonline.us`, `https://monitor.azure.us//.default`).
package struct SentinelIngestion: Equatable, Sendable {
    package let endpoint: String
    package let rule: String
    package let stream: String
    package let tenant: String
    package let clientID: String
    package let clientSecret: String
    package let authority: String
    package let scope: String

    package var ingestionURL: String {
        "\(endpoint)/dataCollectionRules/\(rule)/streams/\(stream)?api-version=2023-01-01"
    }

    package var tokenURL: String { "\(authority)/\(tenant)/oauth2/v2.0/token" }

    package struct Problem: Error, CustomStringConvertible {
        package let description: String
    }

    /// - Parameter url: the sink's URL without `sentinel+`.
    package init(
        parsing url: String,
        secrets: [String: String],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(Problem) {
        let usage = "'sentinel+\(url)' is not sentinel+https://ENDPOINT/dataCollectionRules/DCR/streams/STREAM"
        guard let components = URLComponents(string: url), let host = components.host, components.user == nil,
            let scheme = components.scheme
        else { throw Problem(description: usage) }
        let parts = components.path.split(separator: "/").map(String.init)
        guard parts.count == 4, parts[0] == "dataCollectionRules", parts[2] == "streams" else {
            throw Problem(description: usage)
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { $1 }
        )
        guard let tenant = query["tenant"] ?? environment["AZURE_TENANT_ID"], !tenant.isEmpty,
            let clientID = query["client_id"] ?? environment["AZURE_CLIENT_ID"], !clientID.isEmpty
        else {
            throw Problem(
                description: "sentinel+\(url) needs the application's tenant and client ID: "
                    + "?tenant=TENANT&client_id=APPLICATION, or AZURE_TENANT_ID and AZURE_CLIENT_ID in the environment"
            )
        }
        guard let secret = secrets["sentinel@\(host)"] ?? secrets["sentinel"] else {
            throw Problem(
                description: "sentinel+\(url) needs the application's client secret: --ship-secret sentinel=FILE "
                    + "(or sentinel@\(host)=FILE), never on the command line"
            )
        }
        let port = components.port.map { ":\($0)" } ?? ""
        self.endpoint = "\(scheme)://\(host)\(port)"
        self.rule = parts[1]
        self.stream = parts[3]
        self.tenant = tenant
        self.clientID = clientID
        self.clientSecret = secret
        let authority = query["authority"] ?? "https://login.microsoftonline.com"
        self.authority = authority.hasSuffix("/") ? String(authority.dropLast()) : authority
        self.scope = query["scope"] ?? "https://monitor.azure.com//.default"
    }
}

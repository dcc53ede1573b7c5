import ExchangePolicy
import Foundation
import NIOHTTP1
import NetworkPolicy
import TokenInspection

/// What a whole plain `http://` request becomes: sent upstream in origin form, refused by a policy, or refused as
/// malformed. A value, so `ConnectStateMachine` only sequences it.
enum PlainRequestPlan: Equatable {
    case forward(HTTPRequestHead, host: String, port: Int)
    /// Refused by a policy: audited, 403.
    case refuse(ConnectionRefusal)
    /// 400.
    case malformed(String)

    /// The host an absolute URL names, for an audit line written before the request is planned. A URL Foundation
    /// cannot read gives its authority without the user information, never more: review 55 found the whole URL
    /// (password, code, token) in the line.
    static func host(of uri: String) -> String {
        if let host = URLComponents(string: uri)?.host.flatMap({ HostName.canonical($0) }) { return host }
        let afterScheme = uri.utf8.count > 7 ? uri.dropFirst(7) : ""
        let authority = afterScheme.prefix { !"/?#".contains($0) }
        let withoutUser = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        return String(withoutUser.prefix(255))
    }

    static func plan(
        _ head: HTTPRequestHead,
        bodyLength: Int,
        configuration: ConnectStateMachine.Configuration
    ) -> PlainRequestPlan {
        // A server (or a parent proxy, answering a `Max-Forwards: 0`) that echoes a TRACE would reflect what the proxy
        // adds to the request: the parent's credentials. nginx refuses it too.
        guard head.method != .TRACE, head.method != .RAW(value: "TRACK") else {
            return .malformed(
                "\(head.method.rawValue) is not forwarded: its echo would reflect the proxy's own headers"
            )
        }
        guard let url = URLComponents(string: head.uri), let rawHost = url.host, url.user == nil, url.password == nil,
            let host = HostName.canonical(rawHost)
        else {
            return .malformed("cannot parse the absolute URL")
        }
        // Token requests, or requests with tokens, in clear would carry secrets past the inspection that TLS
        // interception gives: refused.
        guard !configuration.interception.intercepts(host: host) else {
            let what =
                if configuration.interception.resourcePattern(host: host) != nil {
                    "a resource host, whose every request is judged"
                } else if STSHosts.entraCloud(forHost: host) != nil || STSHosts.isKnownNonEntraSTS(host) {
                    "a security token service"
                } else {
                    "a host TenantGate intercepts"
                }
            return .refuse(
                ConnectionRefusal(
                    host: host,
                    creator: nil,
                    setting: .plainHTTP,
                    reason: "\(host) is \(what): plain http to it is refused; use https (CONNECT)"
                )
            )
        }
        // Foundation reads a port past `Int` as none at all: the request went to port 80 instead of being refused.
        guard url.port != nil || !Self.namesAPort(head.uri) else {
            return .malformed("the URL's port is not a TCP port")
        }
        let port = url.port ?? 80
        guard (1...65535).contains(port) else { return .malformed("the URL's port is not a TCP port") }
        let allowed = configuration.allowedPlainPorts
        guard allowed.contains(port) else {
            return .refuse(
                ConnectionRefusal(
                    host: host,
                    creator: nil,
                    setting: .destinationPolicy,
                    reason: "plain http may reach port\(allowed.count == 1 ? "" : "s") "
                        + allowed.sorted().map(String.init).joined(separator: ", ")
                        + ", not \(port); --allow-http-port \(port) opens it"
                )
            )
        }
        var path = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        if let query = url.percentEncodedQuery { path += "?\(query)" }
        let upstreamHead = HTTPResponseWriting.upstreamHead(
            from: head,
            uri: path,
            // An IPv6 literal is bracketed (RFC 9110 7.2; review 60 F2: `Host: ::1:8080` is refused by strict servers).
            host: port == 80 ? (host.contains(":") ? "[\(host)]" : host) : HostPort(host: host, port: port).description,
            bodyLength: bodyLength
        )
        return .forward(upstreamHead, host: host, port: port)
    }

    /// Whether the authority of the absolute URL `uri` ends in `:` and something (after an IPv6 literal's `]`).
    private static func namesAPort(_ uri: String) -> Bool {
        guard let scheme = uri.range(of: "://") else { return false }
        let rest = uri[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let afterLiteral = authority.lastIndex(of: "]").map { authority[authority.index(after: $0)...] } ?? authority
        guard let colon = afterLiteral.lastIndex(of: ":") else { return false }
        return afterLiteral.index(after: colon) < afterLiteral.endIndex
    }
}

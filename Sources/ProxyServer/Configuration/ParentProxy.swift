import Foundation
import NetworkPolicy
import TokenInspection

/// `--parent-proxy`: the web gateway (Squid, Zscaler, Blue Coat) every connection TenantGate makes goes through,
/// as Squid's `cache_peer ... parent` and mitmproxy's upstream mode: CONNECT for TLS and tunnels, the absolute form
/// for plain http. `--parent-proxy-bypass` names what goes direct instead.
package struct ParentProxy: Sendable, Equatable {
    /// Where the parent listens.
    package let endpoint: HostPort
    /// `https://`: TLS with the parent itself (trusted as upstream servers are), then CONNECT inside it.
    package let tls: Bool
    /// `Basic base64(user:password)`, from `--parent-proxy-credentials`; sent to the parent only.
    package let authorization: String?
    package let bypass: [Bypass]
    /// How a blind tunnel is asked of the parent (`--parent-proxy-connect`).
    package let tunnelTarget: TunnelTarget

    /// What a blind tunnel's CONNECT to the parent names.
    package enum TunnelTarget: String, Sendable, Equatable, CaseIterable {
        /// The address TenantGate resolved and judged: the parent's own resolver cannot take the tunnel elsewhere
        /// (a name that answers it with an address of Entra's, by rebinding or split DNS, would be a tunnel to Entra
        /// judged by nobody).
        case address
        /// The name the client asked for, for a parent that filters by name; gives up that protection.
        case name
    }

    /// What goes direct rather than through the parent.
    package enum Bypass: Sendable, Equatable {
        /// A name, and with `subdomains` every name under it (`.corp.example` or `*.corp.example`).
        case name(String, subdomains: Bool)
        /// Addresses, as a literal or as the name they were resolved from.
        case range(AddressRange)

        /// Parses `HOST`, `.SUFFIX`, `*.SUFFIX` or a CIDR range (a bare address is a /32 or /128).
        package init?(parsing text: String) {
            if let range = AddressRange(cidr: text) {
                self = .range(range)
                return
            }
            let subdomains = text.hasPrefix(".") || text.hasPrefix("*.")
            let name = text.dropFirst(text.hasPrefix("*.") ? 2 : text.hasPrefix(".") ? 1 : 0)
            guard let canonical = HostName.canonical(name), IPAddress(canonical) == nil else { return nil }
            self = .name(canonical, subdomains: subdomains)
        }

        func matches(host: String, address: IPAddress?) -> Bool {
            switch self {
            case .name(let name, let subdomains):
                return host == name || (subdomains && host.hasSuffix("." + name))
            case .range(let range):
                return (address ?? IPAddress(host)).map(range.contains) ?? false
            }
        }
    }

    /// A problem with `--parent-proxy` or its credentials, said as the flag's message.
    package struct Problem: Error, Equatable, CustomStringConvertible {
        package let description: String
    }

    /// Parses `http://HOST:PORT` or `https://HOST:PORT` (a trailing `/` allowed). Credentials in the URL are refused:
    /// every user of the machine can read a process's arguments.
    package init(
        url: String,
        credentials: String?,
        bypass: [Bypass],
        tunnelTarget: TunnelTarget = .address
    ) throws(Problem) {
        let lowered = url.lowercased()
        let scheme = ["http://", "https://"].first { lowered.hasPrefix($0) }
        guard let scheme else { throw Problem(description: "'\(url)' is not http://HOST:PORT or https://HOST:PORT") }
        var authority = Substring(url.dropFirst(scheme.count))
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.contains("@") else {
            throw Problem(
                description: "credentials do not belong in the URL (every user can read a process's arguments): "
                    + "put USER:PASSWORD in a file and name it with --parent-proxy-credentials"
            )
        }
        guard !authority.contains("/"), !authority.contains("?"), !authority.contains("#"),
            let parsed = HostPort(parsing: String(authority)), parsed.port > 0,
            let host = HostName.canonical(parsed.host)
        else {
            throw Problem(description: "'\(url)' is not http://HOST:PORT or https://HOST:PORT (the port is required)")
        }
        self.endpoint = HostPort(host: host, port: parsed.port)
        self.tls = scheme == "https://"
        self.authorization = try credentials.map { text throws(Problem) in try Self.basic(text) }
        self.bypass = bypass
        self.tunnelTarget = tunnelTarget
    }

    /// `Basic` credentials from a file's `USER:PASSWORD` line (one trailing newline allowed).
    private static func basic(_ text: String) throws(Problem) -> String {
        var line = Substring(text)
        if line.hasSuffix("\r\n") { line = line.dropLast(2) } else if line.hasSuffix("\n") { line = line.dropLast() }
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
            !line.contains("\n"), !line.contains("\r")
        else {
            throw Problem(description: "the credentials file must hold one line, USER:PASSWORD")
        }
        return "Basic " + Data(line.utf8).base64EncodedString()
    }

    /// Whether a connection to `host` (canonical), resolved to `address` when it was, goes through the parent.
    package func carries(host: String, address: IPAddress?) -> Bool {
        !bypass.contains { $0.matches(host: host, address: address) }
    }
}

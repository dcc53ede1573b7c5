import NIOCore
import NIOSSL
import Synchronization

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Whether a server's certificate names the host TenantGate meant to reach, as RFC 9525 asks of a client: a DNS
/// name in its subjectAltName equal to the host, or a wildcard standing for the host's whole first label; an IP
/// literal only by an IP address entry. NIOSSL's own check also takes an IP address entry equal to the address
/// connected to, whatever the name (review 51 F1: a certificate for 127.0.0.1 from a trusted CA, met through a DNS
/// answer or a parent proxy, was taken for login.microsoftonline.com and read client secrets and bearer tokens),
/// and the subject's common name when there is no subjectAltName; neither names a host here.
package enum ServerIdentity {
    /// Whether `certificate` names `host` (a name, or an IPv4 or IPv6 literal). Its entries as BoringSSL reads them
    /// (NIOSSL's own check reads them the same way).
    package static func certificate(_ certificate: NIOSSLCertificate, names host: String) -> Bool {
        let entries = certificate._subjectAlternativeNames()
        if let address = Self.addressBytes(host) {
            return entries.contains { $0.nameType == .ipAddress && Array($0.contents) == address }
        }
        let wanted = Self.normalized(host)
        guard !wanted.isEmpty else { return false }
        return entries.contains { entry in
            entry.nameType == .dnsName
                && Self.dnsName(
                    Self.normalized(String(decoding: Array(entry.contents), as: UTF8.self)),
                    matches: wanted
                )
        }
    }

    /// NIOSSL's client handler for `host`, its name sent as SNI and checked as usual, and the certificate then
    /// required to name `host` itself before anything is written to the server.
    package static func clientHandler(context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        // The underscored hook is NIOSSL's own place for a check after the chain is verified: the handshake does not
        // complete, and buffered writes do not leave, until it answers.
        try NIOSSLClientHandler._makeSSLClientHandler(context: context, serverHostname: serverName(for: host)) {
            leaf,
            channel in
            guard Self.certificate(leaf, names: host) else {
                return channel.eventLoop.makeFailedFuture(ServerIdentityError(host: host))
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
    }

    /// The TLS server name for `host`: none for an address, which SNI cannot carry (a syslog receiver's IPv6 address
    /// with a hex letter was sent as a name and never connected; review 52 F5).
    package static func serverName(for host: String) -> String? {
        addressBytes(host) == nil ? host : nil
    }

    /// Lower case, without the trailing dot of a fully qualified name.
    private static func normalized(_ name: String) -> String {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
    }

    /// Equal, or `*.rest` where the host is one non-empty label before `rest`, and `rest` has two labels at least
    /// (never `*.com`). A wildcard within a label (`g*.microsoft.com`) names nothing.
    private static func dnsName(_ entry: String, matches host: String) -> Bool {
        if entry == host { return !entry.contains("*") }
        guard entry.hasPrefix("*.") else { return false }
        let rest = entry.dropFirst(2)
        guard !rest.contains("*"), rest.contains("."), let firstDot = host.firstIndex(of: ".") else { return false }
        return firstDot > host.startIndex && host[host.index(after: firstDot)...] == rest
    }

    /// The address's bytes when `host` is an IPv4 or IPv6 literal (brackets allowed), else nil.
    private static func addressBytes(_ host: String) -> [UInt8]? {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, bare, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// A server whose certificate, though its chain is trusted, does not name the host meant.
package struct ServerIdentityError: Error, CustomStringConvertible {
    package let host: String
    package var description: String {
        "the server's certificate does not name \(host) among its DNS names (an address or a common name is not a "
            + "host's name)"
    }
}

/// The hosts TenantGate asked AsyncHTTPClient to reach (Entra's documents and token endpoint, the sinks), and the
/// check of every connection it opens: AsyncHTTPClient makes its own TLS handlers, whose name check also takes an
/// address entry equal to the address connected to (review 51 F2: a receiver with a certificate for 127.0.0.1 got
/// the Splunk token for `splunk+https://localhost`). A connection whose certificate names none of these hosts is
/// closed before any request is written on it. (The connection does not say which host it was opened for; a
/// certificate naming another of them is one that host's own operator holds.)
package final class RequestedHosts: Sendable {
    package static let shared = RequestedHosts()

    private let hosts = Mutex<Set<String>>([])

    /// Records `host` before a request goes to it.
    package func add(_ host: String) {
        let lowered = host.lowercased()
        hosts.withLock { _ = $0.insert(lowered) }
    }

    /// For `HTTPClient.Configuration`'s connection initializers: fails (and closes) a TLS connection whose
    /// certificate names none of the hosts requested.
    package func verify(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit {
            guard let tls = try? channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self) else {
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            let requested = self.hosts.withLock { $0 }
            guard let leaf = tls.peerCertificate,
                requested.contains(where: { ServerIdentity.certificate(leaf, names: $0) })
            else {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(
                    ServerIdentityError(host: requested.sorted().joined(separator: ", "))
                )
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
    }
}

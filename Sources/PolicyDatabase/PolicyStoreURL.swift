import Foundation
import NIOCore
import NIOSSL
import PostgresNIO

/// `--policy-store postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full]`,
/// read the way libpq reads it (`postgresql://` too; a password may also come from `PGPASSWORD`). The password is
/// never said back: `redacted` names the store in logs, errors and `/readyz`.
///
/// Unlike libpq, `verify-full` is the default: whoever answers for the store serves the whole fleet its policies,
/// so the server is authenticated (the system's roots, or `--policy-store-ca FILE` for a private CA). The modes that
/// check nobody (`disable`, `prefer`, `require`) are accepted on loopback, or beyond it only with
/// `--policy-store-insecure`.
package struct PolicyStoreURL: Sendable, CustomStringConvertible {
    package enum TLSMode: String, Sendable {
        case disable, prefer, require
        /// TLS with the server's certificate checked against the system's trust store and its name.
        case verifyFull = "verify-full"
    }

    package let host: String
    package let port: Int
    package let username: String
    package let password: String?
    package let database: String
    package let tls: TLSMode
    /// The CA that signs the server's certificate (`--policy-store-ca`), instead of the system's roots.
    package let trustedCAFile: String?

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    package init(
        _ text: String,
        trustedCAFile: String? = nil,
        allowInsecure: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(Invalid) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw Invalid(description: "--policy-store: '\(Self.redact(text))' is not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid(description: "--policy-store: the URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "--policy-store: the URL names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "--policy-store: the URL names no database (postgres://USER@HOST/DATABASE)")
        }
        var tls = TLSMode.verifyFull
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw Invalid(
                        description:
                            "--policy-store: sslmode '\(item.value ?? "")' is not one of disable, prefer, require, verify-full"
                    )
                }
                tls = mode
            default:
                throw Invalid(description: "--policy-store: unknown URL parameter '\(item.name)' (only sslmode)")
            }
        }
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard tls == .verifyFull || allowInsecure || Self.isLoopback(bareHost) else {
            throw Invalid(
                description: "--policy-store: sslmode=\(tls.rawValue) does not check who answers for \(bareHost), and "
                    + "whoever does serves the fleet its policies: use verify-full (the default; --policy-store-ca FILE "
                    + "for a private CA), or accept the risk with --policy-store-insecure"
            )
        }
        self.host = bareHost
        self.trustedCAFile = trustedCAFile
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 } ?? environment["PGPASSWORD"]
        self.database = database.removingPercentEncoding ?? database
        self.tls = tls
    }

    /// Refuses a URL given on the command line that carries a password: every user of the machine reads a
    /// process's arguments (`ps`, `/proc/PID/cmdline`). The password belongs in `PGPASSWORD` or the config file.
    package static func refusePasswordOnCommandLine(_ text: String) throws(Invalid) {
        guard let password = URLComponents(string: text)?.password, !password.isEmpty else { return }
        throw Invalid(
            description: "--policy-store: a password on the command line is visible to every user of this machine "
                + "(ps, /proc): give it in PGPASSWORD or in the --config file, not in the flag"
        )
    }

    /// Loopback by its address, never by how a name begins (review 45 F3: `127.db.example.invalid` passed).
    private static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
    }

    /// The store without its password: what logs, errors and `/readyz` say.
    package var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    private static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "(unreadable URL)"
    }

    /// The pool's configuration: a few connections (admin writes and the follower's reads are rare), a short
    /// connect timeout so that an admin write to a store that is down answers 503 promptly.
    func clientConfiguration() -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: clientTLS
        )
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 4
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(15))
        return configuration
    }

    /// The follower's own connection, which LISTENs.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: try connectionTLS()
        )
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    private func tlsConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        // prefer and require encrypt without checking who answers, as libpq's modes of those names do; verify-full
        // checks the certificate and the host name, against the configured CA when there is one.
        if tls != .verifyFull { configuration.certificateVerification = .none }
        if tls == .verifyFull, let trustedCAFile { configuration.trustRoots = .file(trustedCAFile) }
        return configuration
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration())
        case .require, .verifyFull: .require(tlsConfiguration())
        }
    }

    /// A connection takes a context rather than a configuration: one made here, for the connection's lifetime.
    private func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        guard tls != .disable else { return .disable }
        let context = try NIOSSLContext(configuration: tlsConfiguration())
        return tls == .prefer ? .prefer(context) : .require(context)
    }
}

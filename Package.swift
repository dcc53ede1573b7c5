// swift-tools-version: 6.1
import PackageDescription

/// One set of settings for every target, as hummingbird and jwt-kit do.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tenantgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tenantgate", targets: ["tenantgate"]),
        .executable(name: "tenantgate-simulate", targets: ["tenantgate-simulate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure engine: tenants, rules, decisions. No dependencies (SPEC 2.1).
        .target(name: "TenantPolicy", swiftSettings: swiftSettings),
        // Plumbing every part shares: durable file writes, RFC 3339 time, content hashes, correlation IDs.
        .target(name: "Plumbing", swiftSettings: swiftSettings),
        // A bounded least-recently-used cache (leaves, verified makers, verdicts).
        .target(
            name: "Caching",
            dependencies: ["Plumbing"],
            swiftSettings: swiftSettings
        ),
        // Policy directory loading and validation.
        .target(
            name: "PolicyFiles",
            dependencies: ["TenantPolicy", "CrossTenantAccess", "Plumbing", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The policy snapshot in force and the directory watcher that reloads it: next to the policy files, used by
        // the data plane and the admin API alike.
        .target(
            name: "PolicyService",
            dependencies: [
                "PolicyFiles", "ExchangePolicy", "TenantPolicy", "Plumbing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // PostgreSQL as the shared policy store of a fleet: migrations, the documents and their changes, and the
        // LISTEN/NOTIFY follower that keeps each instance's policy in memory current.
        .target(
            name: "PolicyDatabase",
            dependencies: [
                "PolicyFiles", "PolicyService", "Plumbing",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Entra cross-tenant access settings in Graph's shape: model, validation, evaluation (SPEC 2.2).
        .target(name: "CrossTenantAccess", dependencies: ["TenantPolicy"], swiftSettings: swiftSettings),
        // Token requests and responses, JWT claims, Entra hosts. No NIO.
        .target(
            name: "TokenInspection",
            dependencies: [
                "TenantPolicy", "NetworkPolicy", .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            swiftSettings: swiftSettings
        ),
        // CA creation and loading, leaf minting.
        .target(
            name: "CertificateAuthority",
            dependencies: [
                "Plumbing",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // Audit events and the JSON Lines sink.
        .target(
            name: "Audit",
            dependencies: ["TenantPolicy", "Plumbing"],
            swiftSettings: swiftSettings
        ),
        // Addresses and ranges, who may use the proxy and where it may connect, TLS ClientHello names. No I/O.
        .target(name: "NetworkPolicy", swiftSettings: swiftSettings),
        // One exchange's policy, without NIO: creator resolution, the interception plan, the decider and its
        // verdict, the outcome a verdict becomes under the mode, and the bodies of refusals.
        .target(
            name: "ExchangePolicy",
            dependencies: [
                "TenantPolicy", "CrossTenantAccess", "TokenInspection", "NetworkPolicy", "Audit", "Caching",
                "Plumbing",
            ],
            swiftSettings: swiftSettings
        ),
        // All data-plane NIO code: state machines, channel handlers, upstream connections, TLS contexts.
        .target(
            name: "ProxyServer",
            dependencies: [
                "TenantPolicy", "PolicyFiles", "PolicyService", "TokenInspection", "CertificateAuthority", "Audit",
                "NetworkPolicy", "ExchangePolicy", "Caching", "Plumbing", "ServerIdentity",
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The cross-tenant isolation report over audit logs, read as a stream.
        // Shipping the audit file to SIEMs: a resumable reader of the file, and its sinks (syslog, OTLP).
        .target(
            name: "Shipping",
            dependencies: [
                "BoundedHTTP", "NetworkPolicy", "Plumbing", "ServerIdentity", "TokenInspection",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "AuditReport", dependencies: ["TenantPolicy", "Plumbing"], swiftSettings: swiftSettings),
        // The name a server's certificate must carry, checked strictly on every TLS connection TenantGate makes.
        .target(
            name: "ServerIdentity",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP exchanges bounded as a whole, for the sinks and Entra's documents.
        .target(
            name: "BoundedHTTP",
            dependencies: [
                "ServerIdentity", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Verifies Entra tokens (jwt-kit): admin callers with their directory roles, and makers' tokens.
        .target(
            name: "EntraAuth",
            dependencies: [
                "BoundedHTTP", "TenantPolicy", "TokenInspection", .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The admin listener: health, readiness, Prometheus metrics and the policy endpoints.
        .target(
            name: "AdminAPI",
            dependencies: [
                "PolicyFiles", "PolicyService", "TenantPolicy", "CrossTenantAccess", "EntraAuth", "Audit", "Plumbing",
                "TokenInspection",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The admin console: Entra sign-in (OpenID Connect, PKCE), server-rendered pages, live activity.
        .target(
            name: "AdminConsole",
            dependencies: [
                "AdminAPI", "Audit", "AuditReport", "CrossTenantAccess", "EntraAuth", "Plumbing", "PolicyFiles",
                "PolicyService", "TenantPolicy", "TokenInspection",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // `serve` as one application: policies, CA, audit, proxy, admin, metrics and signals, built in one place
        // for the command and for every end-to-end test.
        .target(
            name: "TenantGateApp",
            dependencies: [
                "PolicyFiles", "PolicyService", "PolicyDatabase", "CertificateAuthority", "Audit", "ProxyServer",
                "AdminAPI", "AdminConsole", "Shipping",
                "EntraAuth", "ExchangePolicy", "NetworkPolicy", "TenantPolicy",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // A mock Entra STS and Azure DevOps STS: real TLS, real signed JWTs.
        .target(
            name: "MockSTS",
            dependencies: [
                "Plumbing",
                "TenantPolicy", "CertificateAuthority",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The whole system on loopback for `simulate` and the tests: the mock STS, the application, curl. The
        // proxy's own code never depends on it.
        .target(
            name: "LoopbackSimulation",
            dependencies: [
                "TenantGateApp", "MockSTS", "ProxyServer", "PolicyFiles", "PolicyService", "TenantPolicy", "EntraAuth",
                "NetworkPolicy",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tenantgate",
            dependencies: [
                "TenantPolicy", "PolicyFiles", "CrossTenantAccess", "TokenInspection", "Audit", "ProxyServer",
                "EntraAuth", "AuditReport", "NetworkPolicy", "ExchangePolicy", "TenantGateApp",
                "AdminConsole", "PolicyDatabase", "Shipping", "Plumbing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The whole system on loopback with the mock STS, for demonstrations and measurements: never in `tenantgate`.
        .executableTarget(
            name: "tenantgate-simulate",
            dependencies: [
                "LoopbackSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The mock STS and resource hosts as a process, for measurements beside other proxies. Never shipped.
        .executableTarget(
            name: "tenantgate-mock",
            dependencies: ["MockSTS", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tenantgate-bench",
            dependencies: [
                "TenantPolicy", "TokenInspection", "ExchangePolicy", "Audit", "CertificateAuthority", "Caching",
                "PolicyFiles",
            ],
            swiftSettings: swiftSettings
        ),
        // What the test targets share: the example policies' tenants, the one runner of child processes, and a TLS
        // client carried back to back without sockets. Never linked into a product.
        .target(
            name: "TestSupport",
            dependencies: [
                "TenantPolicy", "Plumbing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TenantPolicyTests",
            dependencies: ["TestSupport", "TenantPolicy"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PlumbingTests", dependencies: ["Plumbing"], swiftSettings: swiftSettings),
        .testTarget(name: "CachingTests", dependencies: ["Caching"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServerIdentityTests",
            dependencies: [
                "ServerIdentity", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShippingTests",
            dependencies: [
                "Shipping", "NetworkPolicy", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "NetworkPolicyTests", dependencies: ["NetworkPolicy"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PolicyFilesTests",
            dependencies: ["TestSupport", "PolicyFiles", "TenantPolicy", "CrossTenantAccess"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PolicyDatabaseTests", dependencies: ["PolicyDatabase"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PolicyServiceTests",
            dependencies: [
                "TestSupport",
                "PolicyService", "PolicyFiles", "TenantPolicy", "ExchangePolicy",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenInspectionTests",
            dependencies: ["NetworkPolicy", "TestSupport", "TokenInspection", "TenantPolicy"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CertificateAuthorityTests",
            dependencies: [
                "TestSupport",
                "CertificateAuthority", .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CrossTenantAccessTests",
            dependencies: ["TestSupport", "CrossTenantAccess", "TenantPolicy"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EntraAuthTests",
            dependencies: [
                "TestSupport",
                "Plumbing",
                "EntraAuth", "TenantPolicy", "TokenInspection", .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AuditTests",
            dependencies: ["Plumbing", "Audit", "TenantPolicy"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AuditReportTests",
            dependencies: ["TestSupport", "AuditReport", "TenantPolicy"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExchangePolicyTests",
            dependencies: [
                "TestSupport",
                "ExchangePolicy", "TenantPolicy", "TokenInspection", "NetworkPolicy", "Audit", "Plumbing",
                "CrossTenantAccess",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdminAPITests",
            dependencies: [
                "AdminAPI", "Audit", "EntraAuth", "PolicyFiles", "PolicyService", "TenantPolicy", "ExchangePolicy",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdminConsoleTests",
            dependencies: ["TestSupport", "AdminConsole", "AuditReport", "PolicyFiles", "TenantPolicy"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProxyServerTests",
            dependencies: [
                "TestSupport",
                "Plumbing",
                "ProxyServer", "TenantPolicy", "CertificateAuthority", "NetworkPolicy", "ExchangePolicy", "Audit",
                "PolicyFiles", "PolicyService", "TokenInspection",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Real sockets on loopback: mock STS, the proxy as `serve` builds it, curl as the client; the commands
        // (`check`, `settings`) run in-process.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TestSupport",
                "Plumbing",
                "tenantgate", "TenantGateApp", "LoopbackSimulation", "ProxyServer", "MockSTS", "TenantPolicy",
                "CertificateAuthority", "EntraAuth", "ExchangePolicy", "NetworkPolicy", "PolicyFiles", "PolicyDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Clients"],
            swiftSettings: swiftSettings
        ),
    ]
)

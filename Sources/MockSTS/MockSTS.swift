import CertificateAuthority
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix
import NIOSSL
import Plumbing
import TenantPolicy

/// A mock Microsoft Entra STS and Azure DevOps STS on loopback, with real TLS and real signed JWTs, for
/// `tenantgate simulate` and the end-to-end tests.
///
/// Test-control form fields: `mock_home_tenant` (guest: `idp` names that home tenant), `mock_tid` (token tenant
/// differs from the path, or names it for `common`/`organizations`), `mock_oid` (the user's object ID, also
/// `client_info`'s `uid`), `mock_groups` (comma list for the `groups` claim),
/// `mock_groups_overage=1` (Entra's overage: `_claim_names`/`_claim_sources` in place of `groups`),
/// `mock_token=malformed|opaque|html|duplicate`, `mock_delay_ms`, `mock_status` (an error answer),
/// `mock_answer_status` (the token answer's own status). Query parameters, as a hostile or merely different server
/// might behave: `mock_encoding=gzip|deflate` compresses the answer whatever the client asked, `mock_encoding=br` labels it so,
/// `mock_bomb=1` answers a small gzip body that inflates to 8 MiB. It accepts absolute-form targets and removes dot
/// segments, as real servers may. `GET /{tenant}/oauth2/v2.0/authorize?response_mode=form_post|fragment&mock_tid=…`
/// hands over an ID token outside the token endpoint, in Entra's shape: its application only in `aud`, and `oid`
/// (`mock_oid`) only when the `scope` names `profile`.
package final class MockSTS: Sendable {
    /// Every host its certificate names and it answers for: Entra's, Azure DevOps's STS, the Microsoft account STS,
    /// and the resource hosts.
    package static let hosts =
        [
            "login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "login.microsoftonline.us",
            "login.partner.microsoftonline.cn", "app.vssps.visualstudio.com", "login.live.com",
            // Other ESTS front-end names, each of which must be judged like the main one.
            "loginex.microsoftonline.com", "login.microsoftonline-p.com", "ccs.login.microsoftonline.com",
            // MSAL's mTLS proof-of-possession and regional token hosts.
            "eastus.mtlsauth.microsoft.com", "mtlsauth.microsoftonline.us", "usgovvirginia.login.microsoftonline.us",
            "chinaeast2.login.partner.microsoftonline.cn",
        ] + MockResources.hosts

    package let port: Int
    /// The plain-HTTP listener on loopback (`plainHTTP: true`), for a browser's sign-in and the console's own
    /// calls: the same answers without the mock's private CA.
    package let plainPort: Int?
    package let caCertificatePEM: String
    /// The package half of the signing key, as Entra publishes its keys (`/common/discovery/v2.0/keys` serves it).
    package let jwksJSON: String
    let keys: JWTKeyCollection
    let options: MockSTSOptions
    let codes = MockAuthorizationCodes()
    private let channels: [any Channel]
    private let counts = Locked([String: Int]())

    private init(
        port: Int,
        plainPort: Int?,
        caCertificatePEM: String,
        keys: JWTKeyCollection,
        jwksJSON: String,
        options: MockSTSOptions,
        channels: [any Channel]
    ) {
        self.port = port
        self.plainPort = plainPort
        self.caCertificatePEM = caCertificatePEM
        self.jwksJSON = jwksJSON
        self.keys = keys
        self.options = options
        self.channels = channels
    }

    package static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        group: any EventLoopGroup,
        options: MockSTSOptions = .init(),
        plainHTTP: Bool = false,
        serverCertificate: ServerCertificate? = nil
    ) async throws -> MockSTS {
        let authority = try CertificateAuthority.generate(commonName: "TenantGate test STS CA", now: Date())
        let tls: TLSConfiguration
        if let serverCertificate {
            tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(serverCertificate.chainPath).map {
                    .certificate($0)
                },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: serverCertificate.keyPath, format: .pem))
            )
        } else {
            let leaf = try authority.mintLeaf(for: options.certificateNames ?? hosts + ["127.0.0.1"], now: Date())
            tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try leaf.chainPEM.map {
                    .certificate(try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem))
                },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(leaf.privateKeyPEM.utf8), format: .pem))
            )
        }
        let sslContext = try NIOSSLContext(configuration: tls)
        let keys = JWTKeyCollection()
        let signingKey = ES256PrivateKey()
        await keys.add(ecdsa: signingKey, kid: "mock-sts-key")
        let coordinates = signingKey.parameters.map { (x: $0.x, y: $0.y) } ?? (x: "", y: "")
        let box = MockSTSBox()
        let channel = try await listen(host: host, port: port, group: group, tls: sslContext, box: box)
        let plain = plainHTTP ? try await listen(host: host, port: 0, group: group, tls: nil, box: box) : nil
        let sts = MockSTS(
            port: channel.localAddress?.port ?? port,
            plainPort: plain?.localAddress?.port,
            caCertificatePEM: authority.certificatePEM,
            keys: keys,
            // The organisations' template issuer, as on every key of Entra's common document.
            jwksJSON:
                #"{"keys":[{"kty":"EC","crv":"P-256","use":"sig","kid":"mock-sts-key","x":"\#(coordinates.x)","#
                + #""y":"\#(coordinates.y)","issuer":"https://login.microsoftonline.com/{tenantid}/v2.0"}]}"#,
            options: options,
            channels: [channel] + (plain.map { [$0] } ?? [])
        )
        box.sts.withLock { $0 = sts }
        return sts
    }

    private static func listen(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        tls: NIOSSLContext?,
        box: MockSTSBox
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    // Compresses when asked to, and when told to whatever the client asked (`mock_encoding`).
                    let httpHandlers: [any RemovableChannelHandler & ChannelHandler] = [
                        MockEncodingRequestHandler(), MockStreamHandler(), HTTPResponseCompressor(),
                        NIOHTTPServerRequestAggregator(maxContentLength: 1 << 20),
                        MockSTSHandler(box: box, scheme: tls == nil ? "http" : "https"),
                    ]
                    try sync.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [MockStreams.upgrader(removing: httpHandlers)], completionHandler: { _ in }
                        )
                    )
                    for handler in httpHandlers { try sync.addHandler(handler) }
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    /// A certificate chain and key (PEM files) the mock presents instead of minting its own: a benchmark's PKI.
    package struct ServerCertificate: Sendable {
        package let chainPath: String
        package let keyPath: String

        package init(chainPath: String, keyPath: String) {
            self.chainPath = chainPath
            self.keyPath = keyPath
        }
    }

    /// Signs claims with the mock's key (for example a maker's token for `Proxy-Authorization`).
    package func mintToken(_ claims: MockTokenClaims) async throws -> String {
        try await keys.sign(claims, kid: "mock-sts-key")
    }

    /// A Graph access token of `tenant` as Microsoft's APIs get it (v1 issuer), minted as if somewhere else: what a
    /// request on a resource host carries.
    package func graphToken(tenant: TenantID) async throws -> String {
        try await mintToken(
            MockTokenClaims(
                tid: tenant.description,
                iss: "https://sts.windows.net/\(tenant)/",
                oid: "5c4e4b3a-0000-4000-8000-000000000001",
                aud: "https://graph.microsoft.com",
                clientID: "e002ab83-2360-4092-bd0b-5a4c52f2f15a",
                version: "1.0",
                now: Int(Date().timeIntervalSince1970)
            )
        )
    }

    /// A maker's token of `tenant`, as a connector host would present it to the proxy.
    package func makerToken(tenant: TenantID) async throws -> String {
        try await mintToken(Self.makerClaims(tenant: tenant))
    }

    /// The claims of a maker's token of `tenant`, for a test that signs them with a key of its own.
    package static func makerClaims(tenant: TenantID) -> MockTokenClaims {
        MockTokenClaims(
            tid: tenant.description,
            iss: "https://login.microsoftonline.com/\(tenant)/v2.0",
            oid: UUID().uuidString.lowercased(),
            aud: "https://service.powerapps.com/",
            clientID: "a8f7a65c-f5ba-4859-b2d6-df772c264e9d",
            version: "2.0",
            now: Int(Date().timeIntervalSince1970)
        )
    }

    /// Token requests received for a tenant segment (or `ado` for Azure DevOps).
    package func tokenRequestCount(tenantSegment: String) -> Int {
        counts.withLock { $0[tenantSegment.lowercased()] ?? 0 }
    }

    func count(_ key: String) {
        counts.withLock { $0[key.lowercased(), default: 0] += 1 }
    }

    package func shutdown() async throws {
        for channel in channels { try await channel.close() }
    }
}

/// Lets the handlers reach the STS created after the listener is bound.
final class MockSTSBox: Sendable {
    let sts = Locked<MockSTS?>(nil)
}

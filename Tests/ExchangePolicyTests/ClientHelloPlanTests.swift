import ExchangePolicy
import NetworkPolicy
import Testing

/// The SNI decides what an accepted CONNECT to 443 becomes (SPEC 3): one row per (CONNECT, hello) pair.
struct ClientHelloPlanTests {
    static let rules = InterceptionRules(
        allowedConnectPorts: [443],
        extraInterceptedHosts: [],
        tenantRestrictionsV2: nil
    )
    static let login = HostPort(host: "login.microsoftonline.com", port: 443)
    static let literal = HostPort(host: "20.190.160.1", port: 443)
    static let elsewhere = HostPort(host: "example.com", port: 443)

    static func plan(_ target: HostPort, _ reading: TLSClientHello.Reading) -> ClientHelloPlan {
        ClientHelloPlan.plan(
            for: reading,
            target: target,
            connectNamesInterceptedHost: rules.intercepts(host: target.host),
            rules: rules,
            helloLimit: 66_048
        )
    }

    @Test func anSNINamingAnSTSIsInterceptedWhateverTheConnectSaid() {
        #expect(
            Self.plan(Self.literal, .clientHello(serverName: "LOGIN.microsoftonline.com.")) == .intercept(Self.login)
        )
        #expect(Self.plan(Self.login, .clientHello(serverName: "login.microsoftonline.com")) == .intercept(Self.login))
        #expect(Self.plan(Self.login, .clientHello(serverName: nil)) == .intercept(Self.login))
    }

    @Test func aConnectToAnSTSWithAnotherNameOrNoTLSIsRefused() {
        guard case .refuse = Self.plan(Self.login, .clientHello(serverName: "example.com")) else {
            Issue.record("another SNI behind an STS CONNECT is refused")
            return
        }
        guard case .refuse = Self.plan(Self.login, .clientHello(serverName: "login.windows.net")) else {
            Issue.record("another STS's SNI behind an STS CONNECT is refused")
            return
        }
        guard case .refuse = Self.plan(Self.login, .notTLS) else {
            Issue.record("no TLS to an STS is refused")
            return
        }
    }

    @Test func everythingElseIsATunnelUnlessTheHelloIsBroken() {
        #expect(Self.plan(Self.elsewhere, .clientHello(serverName: "example.com")) == .tunnel)
        #expect(Self.plan(Self.elsewhere, .clientHello(serverName: nil)) == .tunnel)
        #expect(Self.plan(Self.elsewhere, .notTLS) == .tunnel)
        #expect(
            Self.plan(Self.elsewhere, .malformed("bad length"))
                == .refuse("the TLS ClientHello is malformed (bad length)")
        )
        #expect(Self.plan(Self.elsewhere, .needMoreBytes) == .refuse("the TLS ClientHello is larger than 66048 bytes"))
    }
}

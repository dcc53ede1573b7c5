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

    /// No path to Entra goes unjudged (issue 30): an IP address with no SNI or a foreign one, or an encrypted hello
    /// where its server cannot be read, is refused; a judged name with a foreign SNI, or ECH, is a tunnel.
    @Test func aSessionThatCannotBeJudgedIsRefused() {
        guard case .refuse(let reason) = Self.plan(Self.literal, .clientHello(serverName: nil)) else {
            Issue.record("no SNI to an IP address is refused")
            return
        }
        #expect(reason.contains("names no server"))
        guard case .refuse(let foreign) = Self.plan(Self.literal, .clientHello(serverName: "example.com")) else {
            Issue.record("a foreign SNI to an IP address is refused")
            return
        }
        #expect(foreign.contains("names example.com, which TenantGate does not intercept"))
        guard case .refuse(let unread) = Self.plan(Self.literal, .notTLS) else {
            Issue.record("a first message not read as TLS to an IP address is refused")
            return
        }
        #expect(unread.contains("did not start with a TLS ClientHello that TenantGate can read"))
        for (target, outer) in [(Self.literal, "public.example"), (Self.login, "public.example"), (Self.literal, nil)] {
            guard case .refuse = Self.plan(target, .encryptedClientHello(outerName: outer)) else {
                Issue.record("ECH to \(target) with public name \(outer ?? "none") is refused")
                continue
            }
        }
        #expect(Self.plan(Self.elsewhere, .clientHello(serverName: "example.org")) == .tunnel)
        #expect(Self.plan(Self.elsewhere, .encryptedClientHello(outerName: "public.example")) == .tunnel)
    }

    /// ECH under an intercepted public name is intercepted as that name (GREASE ECH goes on as a plain session; a real
    /// configuration is refused by the client, which retries without it), held to the CONNECT's name as a plain hello.
    @Test func anEncryptedHelloUnderAnInterceptedPublicNameIsInterceptedAsIt() {
        let login = HostPort(host: "login.microsoftonline.com", port: 443)
        for target in [Self.login, Self.literal, Self.elsewhere] {
            #expect(
                Self.plan(target, .encryptedClientHello(outerName: "login.microsoftonline.com")) == .intercept(login)
            )
        }
        guard case .refuse(let reason) = Self.plan(Self.login, .encryptedClientHello(outerName: "login.windows.net"))
        else {
            Issue.record("a CONNECT to one intercepted host with ECH under another is refused")
            return
        }
        #expect(reason.contains("names login.windows.net"))
    }

    /// A name that is not Entra's but resolved to one of Entra's addresses is held to the rule of an IP address:
    /// only a hello naming an intercepted host gets through (intercepted), nothing is tunnelled.
    @Test func aNameResolvingToAnEntraAddressMustNameAnInterceptedHost() {
        let entra = IPAddress("20.190.160.1")
        func plan(_ reading: TLSClientHello.Reading) -> ClientHelloPlan {
            ClientHelloPlan.plan(
                for: reading,
                target: Self.elsewhere,
                connectNamesInterceptedHost: false,
                entraAddress: entra,
                rules: Self.rules,
                helloLimit: 66_048
            )
        }
        for (reading, phrase) in [
            (TLSClientHello.Reading.clientHello(serverName: nil), "example.com resolves to 20.190.160.1, an address"),
            (.clientHello(serverName: "example.org"), "example.com resolves to 20.190.160.1, an address"),
            (.encryptedClientHello(outerName: "public.example"), "encrypted (ECH, public name public.example)"),
            // SSL 2.0's hello format is not read as TLS, yet a server may take it: unread is not harmless.
            (.notTLS, "example.com resolves to 20.190.160.1, an address of Entra's token service, and the client did"),
        ] {
            guard case .refuse(let reason) = plan(reading) else {
                Issue.record("\(reading) to a name resolving to Entra's address is refused")
                continue
            }
            #expect(reason.contains(phrase), "\(reason)")
        }
        #expect(plan(.clientHello(serverName: "login.microsoftonline.com")) == .intercept(Self.login))
    }

    /// Every ESTS front-end name is intercepted (or, for the pinned device hosts, passed by design).
    @Test(arguments: [
        "loginex.microsoftonline.com", "login.microsoftonline-p.com", "ccs.login.microsoftonline.com",
        "certauth.login.microsoftonline.com", "westus2.login.microsoft.com", "LOGIN.MicrosoftOnline-P.com.",
    ])
    func everyEntraFrontEndNameIsIntercepted(_ name: String) {
        guard case .intercept = Self.plan(Self.literal, .clientHello(serverName: name)) else {
            Issue.record("\(name) is intercepted")
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

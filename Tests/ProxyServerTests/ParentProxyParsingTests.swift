import NetworkPolicy
import Testing

@testable import ProxyServer

/// `--parent-proxy`'s URL, credentials and bypass list, as the flags give them.
struct ParentProxyParsingTests {
    @Test func theURLNamesSchemeHostAndPortOnly() throws {
        let parent = try ParentProxy(url: "HTTPS://Proxy.Corp.Example.:8443/", credentials: nil, bypass: [])
        #expect(parent.endpoint == HostPort(host: "proxy.corp.example", port: 8443))
        #expect(parent.tls)
        #expect(parent.authorization == nil)
        for refused in [
            "proxy.corp.example:3128", "socks5://proxy:1080", "http://proxy", "http://proxy:0", "http://proxy:99999",
            "http://proxy:3128/path", "http://proxy:3128?x", "http://user:pw@proxy:3128", "http://[::1:3128",
        ] {
            #expect(throws: ParentProxy.Problem.self, "\(refused)") {
                try ParentProxy(url: refused, credentials: nil, bypass: [])
            }
        }
    }

    @Test func credentialsAreOneLineBecomingBasic() throws {
        let parent = try ParentProxy(url: "http://127.0.0.1:3128", credentials: "user:p:w\n", bypass: [])
        #expect(parent.authorization == "Basic dXNlcjpwOnc=")
        for refused in ["no-colon\n", ":password", "user:pw\nsecond:line\n", ""] {
            #expect(throws: ParentProxy.Problem.self, "\(refused)") {
                try ParentProxy(url: "http://127.0.0.1:3128", credentials: refused, bypass: [])
            }
        }
    }

    @Test func theBypassMatchesNamesSuffixesAndRanges() throws {
        let bypass = try ["intranet.example", ".corp.example", "*.lab.example", "10.0.0.0/8", "192.0.2.7"].map {
            try #require(ParentProxy.Bypass(parsing: $0))
        }
        let parent = try ParentProxy(url: "http://127.0.0.1:3128", credentials: nil, bypass: bypass)
        #expect(!parent.carries(host: "intranet.example", address: nil))
        #expect(parent.carries(host: "www.intranet.example", address: nil))
        #expect(!parent.carries(host: "a.b.corp.example", address: nil))
        #expect(parent.carries(host: "corp.example.evil", address: nil))
        #expect(parent.carries(host: "evilcorp.example", address: nil))
        #expect(!parent.carries(host: "x.lab.example", address: nil))
        #expect(!parent.carries(host: "10.1.2.3", address: nil))
        #expect(!parent.carries(host: "files.example", address: IPAddress("10.9.9.9")))
        #expect(!parent.carries(host: "192.0.2.7", address: nil))
        #expect(parent.carries(host: "login.microsoftonline.com", address: IPAddress("20.190.151.68")))
        for refused in ["", "*.", "10.0.0.1/8", "bad host", "*"] {
            #expect(ParentProxy.Bypass(parsing: refused) == nil, "\(refused)")
        }
    }
}

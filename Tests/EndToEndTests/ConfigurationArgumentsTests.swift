import ArgumentParser
import ExchangePolicy
import Foundation
import NetworkPolicy
import ProxyServer
import TenantGateApp
import Testing

@testable import tenantgate

/// The configuration file is `serve`'s own arguments: one declaration, so a key cannot drift from its flag.
struct ConfigurationArgumentsTests {
    static func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func arguments(_ yaml: String) throws -> [String] {
        let path = try write(yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ConfigurationArguments.arguments(fromFile: path, for: ServeCommand.self)
    }

    @Test func everyKindOfValueBecomesItsFlag() throws {
        let arguments = try Self.arguments(
            """
            mode: report-only
            max-connections: 50
            allow-destination: [127.0.0.0/8, 10.0.0.0/8]
            admin-insecure: true
            policy-store-insecure: false
            creator-by-client-address:
              10.1.0.0/16: bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0
              10.2.0.0/16: [bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0, 0da59725-89fe-4a2f-bf22-fd4536c9baac]
            """
        )
        let command = try ServeCommand.parse(arguments)
        #expect(command.mode == "report-only")
        #expect(command.maxConnections == 50)
        #expect(command.allowDestination == ["127.0.0.0/8", "10.0.0.0/8"])
        #expect(command.adminInsecure)
        #expect(!command.policyStoreInsecure)
        #expect(
            command.creatorByClientAddress == [
                "10.1.0.0/16=bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0",
                "10.2.0.0/16=bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0,0da59725-89fe-4a2f-bf22-fd4536c9baac",
            ]
        )
    }

    /// The command line comes after the file: its single values win, its repeated ones add to the file's.
    @Test func theCommandLineWins() throws {
        let fromFile = try Self.arguments("mode: report-only\nallow-client: [10.0.0.0/8]\nadmin-insecure: true\n")
        let command = try ServeCommand.parse(
            fromFile + ["--mode", "enforce", "--allow-client", "192.0.2.0/24", "--admin-insecure"]
        )
        #expect(command.mode == "enforce")
        #expect(command.allowClient == ["10.0.0.0/8", "192.0.2.0/24"])
        #expect(command.adminInsecure)
    }

    @Test func keysThatAreNoFlagAndValuesOfTheWrongShapeAreErrors() throws {
        #expect(throws: ServeSetupError.self) { try Self.arguments("allow-destinations: [127.0.0.0/8]\n") }
        #expect(throws: ServeSetupError.self) { try Self.arguments("config: other.yaml\n") }
        #expect(throws: ServeSetupError.self) { try Self.arguments("help: true\n") }
        #expect(throws: ServeSetupError.self) { try Self.arguments("mode: [enforce, report-only]\n") }
        #expect(throws: ServeSetupError.self) { try Self.arguments("admin-insecure: yes please\n") }
        #expect(throws: ServeSetupError.self) { try Self.arguments("- listen\n") }
        #expect(try Self.arguments("") == [])
    }

    /// Two spellings that Yams's own reading trapped on: a key that is a list (force-unwrapped as text), and a YAML
    /// 1.1 base-60 integer past Int (multiplied without a check). The first is an error; the second stays text, which
    /// the flag then refuses with its own message.
    @Test func yamlThatTrappedTheReaderIsAnError() throws {
        #expect(throws: ServeSetupError.self) { try Self.arguments("[listen]: x\n") }
        #expect(throws: ServeSetupError.self) { try Self.arguments("? [listen]\n: x\nmode: enforce\n") }
        let sexagesimal = "1:0:0:0:0:0:0:0:0:0:0"
        let arguments = try Self.arguments("max-connections: \(sexagesimal)\n")
        #expect(arguments == ["--max-connections", sexagesimal])
        #expect(throws: (any Error).self) { try ServeCommand.parse(arguments) }
        #expect(try Self.arguments("max-connections: 0x40\n") == ["--max-connections", "64"])
        var laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            laughs +=
                "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]\n"
        }
        #expect(throws: ServeSetupError.self) { try Self.arguments(laughs + "allow-client: *a8\n") }
    }

    /// A password may sit in the file (readable by the service's user only), never on the command line.
    @Test func aPolicyStorePasswordInTheFileIsKept() throws {
        let arguments = try Self.arguments("policy-store: postgres://tenantgate:s3cr3t@db.internal/tenantgate\n")
        let command = try ServeCommand.parse(arguments)
        #expect(command.policyStore == "postgres://tenantgate:s3cr3t@db.internal/tenantgate")
    }

    /// A store password in a config file other users may read is refused, without repeating it (review 28); the
    /// same file readable by its owner only is accepted, and so is a file without a password.
    @Test func aPolicyStorePasswordInAFileOthersMayReadIsRefused() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("tenantgate.yaml").path
        try "listen: 127.0.0.1:0\npolicy-store: postgres://tenantgate:s3cr3t-pw@127.0.0.1:9/postgres?sslmode=disable\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        for mode in [0o644, 0o640] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: config)
            let (status, errors) = try await ServeProcess.runToExit(["serve", "--config", config])
            #expect(status == 2, "\(errors)")
            #expect(errors.contains("chmod 600"), "\(errors)")
            #expect(!errors.contains("s3cr3t-pw"))
        }
        let store = "postgres://tenantgate:s3cr3t-pw@db.internal/postgres"
        #expect(throws: ServeSetupError.self) { try ServeCommand.refuseExposedPassword(store, in: config) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: config)
        try ServeCommand.refuseExposedPassword(store, in: config)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: config)
        try ServeCommand.refuseExposedPassword("postgres://tenantgate@db.internal/postgres", in: config)
    }

    /// One range granted twice, in the file and on the command line or in two spellings: the first grant used to
    /// win without a word (review 36 F3). The binary refuses to start and names the range.
    @Test func aRangeGrantedTwiceIsRefusedAtStart() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("tenantgate.yaml").path
        let contoso = ProxyEndToEndTests.contoso
        let fabrikam = ProxyEndToEndTests.fabrikam
        try "listen: 127.0.0.1:0\ncreator-by-client-address: {\"127.0.0.1\": \"\(contoso)\"}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let policies =
            ["--policies", ProxyEndToEndTests.policies, "--ca-cert", directory.path + "/ca.pem"]
            + ["--ca-key", directory.path + "/ca.key", "--audit-log", directory.path + "/audit.jsonl"]
        for extra in [
            ["--creator-by-client-address", "127.0.0.1=\(fabrikam)"],
            ["--creator-by-client-address", "::ffff:127.0.0.1/128=\(fabrikam)"],
        ] {
            let (status, errors) = try await ServeProcess.runToExit(["serve", "--config", config] + policies + extra)
            #expect(status == 2, "\(errors)")
            #expect(errors.contains("the range 127.0.0.1/32 is granted twice"), "\(errors)")
        }
    }

    /// The PAC file's directives come from the flags: the listener unless it is a wildcard or port 0, `HTTPS` for a
    /// TLS listener, and only host names or addresses (they are written into JavaScript).
    @Test func thePACDirectivesComeFromTheFlags() throws {
        func pac(_ arguments: [String], listen: String, tls: Bool = false) throws -> (String, String)? {
            var proxy = ProxyConfiguration(listen: try #require(HostPort(parsing: listen)))
            if tls { proxy.listenTLS = ("cert.pem", "key.pem") }
            return try ServeSettings.proxyAutoConfiguration(try ServeCommand.parse(arguments), proxy: proxy)
                .map { ($0.proxy, $0.otherwise) }
        }
        #expect(try pac([], listen: "10.1.2.3:3128")! == ("PROXY 10.1.2.3:3128", "DIRECT"))
        #expect(try pac([], listen: "10.1.2.3:3128", tls: true)! == ("HTTPS 10.1.2.3:3128", "DIRECT"))
        #expect(try pac([], listen: "0.0.0.0:3128") == nil)
        #expect(try pac([], listen: "[::]:3128") == nil)
        #expect(try pac([], listen: "127.0.0.1:0") == nil)
        #expect(
            try pac(
                ["--pac-proxy", "proxy.corp.example:8443", "--pac-fallback-proxy", "[2001:db8::1]:8080"],
                listen: "0.0.0.0:3128"
            )!
                == ("PROXY proxy.corp.example:8443", "PROXY [2001:db8::1]:8080")
        )
        for forged in [#"x";alert(1);//:80"#, "proxy.example", "a b:80", "proxy.example:99999"] {
            #expect(throws: ServeSetupError.self) { try pac(["--pac-proxy", forged], listen: "10.1.2.3:3128") }
            #expect(throws: ServeSetupError.self) {
                try pac(["--pac-fallback-proxy", forged], listen: "10.1.2.3:3128")
            }
        }
    }
}

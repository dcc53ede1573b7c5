import PolicyDatabase
import Testing

/// `--policy-store` read as libpq reads it, and refused with a message that names the problem but never the
/// password.
struct PolicyStoreURLTests {
    @Test func aFullURLIsRead() throws {
        let url = try PolicyStoreURL(
            "postgresql://gate%40ops:s%3Acret@db.internal:6543/policies?sslmode=verify-full",
            environment: [:]
        )
        #expect(url.host == "db.internal")
        #expect(url.port == 6543)
        #expect(url.username == "gate@ops")
        #expect(url.password == "s:cret")
        #expect(url.database == "policies")
        #expect(url.tls == .verifyFull)
        #expect(url.description == "postgres://gate@ops@db.internal:6543/policies")
    }

    /// libpq's defaults, but for TLS: the server is authenticated unless the operator says otherwise.
    @Test func defaultsAreLibpqsButTheServerIsAuthenticated() throws {
        let url = try PolicyStoreURL("postgres://gate@[::1]/policies", environment: ["PGPASSWORD": "from-env"])
        #expect(url.host == "::1")
        #expect(url.port == 5432)
        #expect(url.tls == .verifyFull)
        #expect(url.password == "from-env")
        #expect(!url.description.contains("from-env"))
    }

    @Test(
        arguments: [
            ("mysql://gate:hunter2@db/policies", "is not a postgres:// URL"),
            ("postgres://gate:hunter2@/policies", "names no host"),
            ("postgres://:hunter2@db/policies", "names no user"),
            ("postgres://gate:hunter2@db", "names no database"),
            ("postgres://gate:hunter2@db/", "names no database"),
            ("postgres://gate:hunter2@db/a/b", "names no database"),
            ("postgres://gate:hunter2@db/policies?sslmode=allow", "sslmode 'allow' is not one of"),
            ("postgres://gate:hunter2@db/policies?sslmode", "sslmode '' is not one of"),
            ("postgres://gate:hunter2@db/policies?application_name=x", "unknown URL parameter 'application_name'"),
            ("not a url at all", "is not a postgres:// URL"),
            ("", "is not a postgres:// URL"),
        ]
    )
    func aBadURLIsRefusedWithoutItsPassword(text: String, problem: String) {
        #expect {
            _ = try PolicyStoreURL(text, environment: [:])
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("--policy-store: ") && message.contains(problem) && !message.contains("hunter2")
        }
    }

    /// Modes that check nobody are refused beyond loopback, unless the operator accepts the risk by name.
    @Test(arguments: ["disable", "prefer", "require"])
    func anUnauthenticatedModeBeyondLoopbackNeedsTheInsecureFlag(_ mode: String) throws {
        let text = "postgres://gate@db.internal/policies?sslmode=\(mode)"
        #expect {
            _ = try PolicyStoreURL(text, environment: [:])
        } throws: { error in
            "\(error)".contains("--policy-store-insecure") && "\(error)".contains("verify-full")
        }
        #expect(try PolicyStoreURL(text, allowInsecure: true, environment: [:]).tls.rawValue == mode)
        for host in ["127.0.0.1", "127.3.2.1", "[::1]", "localhost"] {
            let local = "postgres://gate@\(host)/policies?sslmode=\(mode)"
            #expect(try PolicyStoreURL(local, environment: [:]).tls.rawValue == mode)
        }
        // A name is not an address, however it begins (review 45 F3).
        for host in ["127.db.example.invalid", "127.0.0.1.example", "[::1:2]"] {
            #expect(throws: (any Error).self, "\(host)") {
                _ = try PolicyStoreURL("postgres://gate@\(host)/policies?sslmode=\(mode)", environment: [:])
            }
        }
    }

    @Test func thePasswordOfARefusedURLIsMasked() {
        #expect {
            _ = try PolicyStoreURL("mysql://gate:hunter2@db/policies", environment: [:])
        } throws: { error in
            "\(error)".contains("gate:***@db") && !"\(error)".contains("hunter2")
        }
    }
}

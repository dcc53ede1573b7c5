import Foundation
import LoopbackSimulation
import TenantPolicy
import TestSupport
import Testing

/// The audit file shipped to SIEM sinks, through the real binary: Debian's rsyslog receiving RFC 5424 over TCP,
/// and an OTLP/HTTP receiver that parses every request strictly with the published protobuf definitions
/// (`Clients/otlp_receiver.py`). Nothing is lost across a sink outage, a kill -9 of `tenantgate ship` or a
/// rotation; what is sent twice is bounded by one batch.
// One test at a time: each starts receivers, daemons and proxies, and a whole suite on 2 cores starves others.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ShippingEndToEndTests {
    /// Audit-shaped lines `first...last`, each with its number as the correlation ID.
    static func append(_ range: ClosedRange<Int>, to path: String) throws {
        let lines = range.map { number in
            #"{"time":"2026-12-05T12:00:00.000Z","decision":"blocked","setting":"tenantIsolation","#
                + #""creator_tenant":"\#(ProxyEndToEndTests.contoso)","host":"login.microsoftonline.com","#
                + #""directions":["outbound"],"correlation_id":"line-\#(number)"}"# + "\n"
        }.joined()
        guard let handle = FileHandle(forWritingAtPath: path) else {
            return try lines.write(toFile: path, atomically: false, encoding: .utf8)
        }
        handle.seekToEndOfFile()
        handle.write(Data(lines.utf8))
        try handle.close()
    }

    /// The numbers of `line-N` correlation IDs in `text`, in the order they appear.
    static func lineNumbers(in text: String) -> [Int] {
        text.components(separatedBy: "correlation_id=\"line-").dropFirst().compactMap {
            Int($0.prefix { $0.isNumber })
        }
    }

    /// Polls `condition` every 100 ms for at most `seconds`.
    static func eventually(_ seconds: Int, _ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }

    /// Contoso → Northwind through `serve`, refused: its audit line's correlation ID.
    static func blockedExchange(_ serve: ServeProcess) async throws -> String {
        let blocked = try await CreatorTrustTests.exchange(
            serve,
            maker: ProxyEndToEndTests.contoso,
            signingIn: ProxyEndToEndTests.northwind
        )
        #expect(blocked.status == 403)
        let decision = try #require(serve.auditObjects().last { $0["decision"] as? String == "blocked" })
        return try #require(decision["correlation_id"] as? String)
    }

    @Test func rsyslogReceivesEveryLineInOrderAcrossAnOutageAndAKill9() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = directory.appendingPathComponent("audit.jsonl").path
        let state = directory.appendingPathComponent("state").path
        var rsyslog = try await Rsyslog(port: try ServeProcess.freePort())
        defer { rsyslog.stop() }
        let ship = [
            "ship", "--audit-log", audit, "--ship", "syslog://127.0.0.1:\(rsyslog.port)", "--ship-state", state,
        ]

        try Self.append(1...1000, to: audit)
        var shipper = try ShipProcess(arguments: ship, log: directory.appendingPathComponent("ship.log").path)
        #expect(try await Self.eventually(20) { Set(Self.lineNumbers(in: rsyslog.received())).count == 1000 })

        // The receiver goes away; lines keep coming; the shipper is killed while its batch is unacknowledged.
        // Its port is held meanwhile: a free port could be taken by another test's listener, and the lines sent there.
        rsyslog.stop()
        let outage = try LoopbackPort.Reservation(port: rsyslog.port)
        try Self.append(1001...3000, to: audit)
        try await Task.sleep(for: .milliseconds(500))
        shipper.kill9()
        shipper = try ShipProcess(arguments: ship, log: directory.appendingPathComponent("ship-2.log").path)
        defer { shipper.kill9() }
        try await Task.sleep(for: .milliseconds(500))
        outage.release()
        rsyslog = try await Rsyslog(port: rsyslog.port, output: rsyslog.output)
        try Self.append(3001...4000, to: audit)

        #expect(try await Self.eventually(30) { Set(Self.lineNumbers(in: rsyslog.received())).count == 4000 })
        let received = Self.lineNumbers(in: rsyslog.received())
        let missing = Set(1...4000).subtracting(received).sorted()
        #expect(missing.isEmpty, "\(missing.count) lines lost, from \(missing.prefix(10))")
        // In order: each line first arrives after every line before it.
        var firstSeen: [Int] = []
        var seen = Set<Int>()
        for number in received where seen.insert(number).inserted { firstSeen.append(number) }
        let outOfOrder = zip(firstSeen, 1...).first { $0 != $1 }
        #expect(outOfOrder == nil, "first out of order: \(String(describing: outOfOrder))")
        #expect(received.count - 4000 <= 500, "sent again: \(received.count - 4000) lines, more than one batch")
    }

    /// A receiver that takes the connection and stops reading (rsyslog with its queue full) once left the write
    /// of a batch pending for good: no failure, no retry, nothing on `/readyz`. The batch now fails when it is not
    /// taken and acknowledged in time, is sent again on a new connection, and reaches the receiver that replaces it.
    @Test func aReceiverThatStopsReadingFailsTheBatchInTimeAndLosesNothing() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = directory.appendingPathComponent("audit.jsonl").path
        let log = directory.appendingPathComponent("ship.log").path
        let port = try ServeProcess.freePort()
        let stalled = try await LoopbackDaemon.start(
            "/usr/bin/env",
            ["python3", "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/stalled_receiver.py", "\(port)"],
            listeningOn: port
        )
        try Self.append(1...3000, to: audit)
        let shipper = try ShipProcess(
            arguments: ["ship", "--audit-log", audit, "--ship", "syslog://127.0.0.1:\(port)"],
            log: log
        )
        defer { shipper.kill9() }
        #expect(
            try await Self.eventually(40) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("did not take the batch within")
            },
            "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"
        )
        stalled.terminate()
        stalled.waitUntilExit()
        let rsyslog = try await Rsyslog(port: port)
        defer { rsyslog.stop() }
        #expect(try await Self.eventually(40) { Set(Self.lineNumbers(in: rsyslog.received())).count == 3000 })
    }

    /// A receiver that does not take the batch, and says so only in ways a shipper could mistake, loses nothing:
    /// - `trickle`: the answer's head at once, then its body a byte at a time, each pause within AsyncHTTPClient's
    ///   read timeout: the whole answer has 30 s, then the batch goes again.
    /// - `redirect` (a login page, a moved collector): a followed 302 became a bodiless GET whose 200 moved the
    ///   position past lines nobody received. The 3xx is a failure, and the batch goes again.
    @Test(arguments: [
        (["trickle"], "no whole answer within 30.0 seconds"), (["redirect", "redirect"], "answered 302"),
    ])
    func aReceiverThatDidNotTakeTheBatchGetsItAgainAndLosesNothing(
        behaviour: [String],
        said expected: String
    )
        async throws
    {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = directory.appendingPathComponent("audit.jsonl").path
        let log = directory.appendingPathComponent("ship.log").path
        let otlp = try await OTLPReceiver(refusingWithRetryAfter: behaviour)
        defer { otlp.stop() }
        try Self.append(1...200, to: audit)
        let shipper = try ShipProcess(
            arguments: ["ship", "--audit-log", audit, "--ship", "otlp+http://127.0.0.1:\(otlp.port)"],
            log: log
        )
        defer { shipper.kill9() }
        #expect(try await Self.eventually(60) { Set(otlp.records().compactMap(\.correlationID)).count == 200 })
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(said.contains(expected), "\(said)")
    }

    @Test func serveShipsItsDecisionsToSyslogAndOTLPWithTheirFields() async throws {
        let rsyslog = try await Rsyslog(port: try ServeProcess.freePort())
        defer { rsyslog.stop() }
        // The first two requests are refused with 503 and Retry-After: the batch comes again.
        let otlp = try await OTLPReceiver(refusingFirst: 2)
        defer { otlp.stop() }
        try await ServeProcess.with(
            extraArguments: [
                "--ship", "syslog://127.0.0.1:\(rsyslog.port)", "--ship", "otlp+http://127.0.0.1:\(otlp.port)",
            ]
        ) { serve in
            let correlationID = try await Self.blockedExchange(serve)

            #expect(try await Self.eventually(20) { rsyslog.received().contains(correlationID) })
            let message = try #require(
                rsyslog.received().split(separator: "\n").first { $0.contains(correlationID) }
            )
            #expect(message.hasPrefix("<108>1 "), "facility 13 (log audit), severity 4 (blocked): \(message)")
            #expect(message.contains(#"decision="blocked""#))
            #expect(message.contains(#"creator_tenant="\#(ProxyEndToEndTests.contoso)""#))
            #expect(message.contains(#"sign_in_tenant="\#(ProxyEndToEndTests.northwind)""#))

            #expect(try await Self.eventually(20) { otlp.records().contains { $0.correlationID == correlationID } })
            let record = try #require(otlp.records().first { $0.correlationID == correlationID })
            #expect(record.object["path"] as? String == "/v1/logs")
            #expect(record.object["severity_text"] as? String == "WARN")
            #expect(record.object["severity_number"] as? Int == 13)
            #expect((record.object["resource"] as? [String: Any])?["service.name"] as? String == "tenantgate")
            let attributes = record.attributes
            #expect(attributes["event.name"] as? String == "tenantgate.decision")
            #expect(attributes["server.address"] as? String == "login.microsoftonline.com")
            #expect((attributes["url.path"] as? String ?? "").hasSuffix("/oauth2/v2.0/token"))
            #expect(attributes["tenantgate.decision"] as? String == "blocked")
            #expect(attributes["tenantgate.sign_in_tenant"] as? String == ProxyEndToEndTests.northwind.description)
            #expect(attributes["tenantgate.directions"] as? [String] == ["outbound"])
            #expect((record.object["body"] as? String ?? "").contains(correlationID))
        }
    }

    /// Whatever answers at a sink's address chooses its `Retry-After`. Values Swift's `Double` reads but no wait
    /// can be (`inf`, `nan`, `1e300`) trapped the shipper, and with it the proxy it runs in, at every start after.
    /// They are not Retry-After values: the shipper's own backoff applies, a date already past means now, and the
    /// decision arrives while the proxy goes on answering.
    @Test func aSinksRetryAfterIsReadStrictlyAndNeverStopsTheProxy() async throws {
        let otlp = try await OTLPReceiver(
            refusingWithRetryAfter: ["inf", "nan", "1e300", "Sun, 06 Nov 1994 08:49:37 GMT"]
        )
        defer { otlp.stop() }
        try await ServeProcess.with(extraArguments: ["--ship", "otlp+http://127.0.0.1:\(otlp.port)"]) { serve in
            let correlationID = try await Self.blockedExchange(serve)
            #expect(try await Self.eventually(30) { otlp.records().contains { $0.correlationID == correlationID } })
            let answer = try await serve.exchange(
                creator: ProxyEndToEndTests.contoso,
                signIn: ProxyEndToEndTests.fabrikam
            )
            #expect(answer.status == 200, "the proxy still answers")
            #expect(serve.log().contains("shipping failed; the batch will be sent again"), "\(serve.log())")
        }
    }

    @Test func readyzReportsASinkThatKeepsFailingUntilItTakesTheBacklog() async throws {
        let adminPort = try ServeProcess.freePort()
        // Held until the receiver comes: nothing else may answer there meanwhile (CI once saw the sink well).
        let syslogReservation = try LoopbackPort.Reservation()
        let syslogPort = syslogReservation.port
        try await ServeProcess.with(
            extraArguments: ["--admin", "127.0.0.1:\(adminPort)", "--ship", "syslog://127.0.0.1:\(syslogPort)"]
        ) { serve in
            let blocked = try await CreatorTrustTests.exchange(
                serve,
                maker: ProxyEndToEndTests.contoso,
                signingIn: ProxyEndToEndTests.northwind
            )
            #expect(blocked.status == 403)
            func readiness() async throws -> [String: Any] {
                let outcome = try await ChildProcess.run(
                    "/usr/bin/curl",
                    ["-s", "-m", "5", "http://127.0.0.1:\(adminPort)/readyz"]
                )
                return ProxyEndToEndTests.auditObject(outcome.output)
            }
            func failing(_ readiness: [String: Any]) -> Bool? {
                (readiness["shipping"] as? [[String: Any]])?.first?["failing"] as? Bool
            }
            var ready: [String: Any] = [:]
            for _ in 0..<100 {
                ready = try await readiness()
                if failing(ready) == true { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(failing(ready) == true, "\(ready)")
            #expect(ready["status"] as? String == "ready, a shipping sink keeps failing")
            // Lines written meanwhile show in its backlog at its next attempt (review 32: the gauge was recorded
            // only when a batch was read, so it stood still while the sink failed).
            func backlog() async throws -> Double? {
                let metrics = try await Curl.run(["-s", "-m", "10", "http://127.0.0.1:\(adminPort)/metrics"])
                let line = metrics.split(separator: "\n").first { $0.hasPrefix("tenantgate_ship_backlog_bytes{") }
                return line.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            let before = try #require(try await backlog())
            for _ in 0..<3 {
                _ = try await CreatorTrustTests.exchange(
                    serve,
                    maker: ProxyEndToEndTests.contoso,
                    signingIn: ProxyEndToEndTests.northwind
                )
            }
            var after = before
            for _ in 0..<150 {
                after = try await backlog() ?? before
                if after > before { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(after > before, "backlog \(before) bytes, then \(after)")
            // The receiver comes: the backlog goes, and the sink is well again.
            syslogReservation.release()
            let rsyslog = try await Rsyslog(port: syslogPort)
            defer { rsyslog.stop() }
            #expect(try await Self.eventually(30) { rsyslog.received().contains(#"decision="blocked""#) })
            for _ in 0..<50 {
                ready = try await readiness()
                if failing(ready) == false { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(failing(ready) == false, "\(ready)")
            #expect(ready["status"] as? String == "ready")
        }
    }

    @Test func aNewTenantPairRaisesOneAlertOnEachWebhookAndARestartNone() async throws {
        let receiver = try await WebhookReceiver()
        defer { receiver.stop() }
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = [
            "--audit-log", directory.appendingPathComponent("audit.jsonl").path,
            "--alert-webhook", "http://127.0.0.1:\(receiver.port)/hook",
            "--alert-webhook", "teams+http://127.0.0.1:\(receiver.port)/teams", "--admin",
            "127.0.0.1:\(try ServeProcess.freePort())", "--console-client-id", ConsoleBrowserTests.consoleClientID,
            "--console-issuer", "http://127.0.0.1:STS_PLAIN_PORT/organizations/v2.0", "--console-public-url",
            "https://tenantgate.corp.example",
        ]
        let contoso = ProxyEndToEndTests.contoso
        let northwind = ProxyEndToEndTests.northwind
        try await ServeProcess.with(plainHTTP: true, extraArguments: arguments) { serve in
            // Contoso → Northwind twice (blocked), Contoso → Contoso (not cross-tenant): one alert.
            for _ in 0..<2 {
                #expect(try await CreatorTrustTests.exchange(serve, maker: contoso, signingIn: northwind).status == 403)
            }
            #expect(try await CreatorTrustTests.exchange(serve, maker: contoso, signingIn: contoso).status == 200)
            #expect(try await Self.eventually(20) { receiver.posts().count >= 2 })
            try await Task.sleep(for: .milliseconds(500))
        }
        let posts = receiver.posts()
        #expect(posts.count == 2, "\(posts)")
        let json = try #require(posts.first { $0["path"] as? String == "/hook" }?["body"] as? [String: Any])
        #expect(json["alert"] as? String == "new_tenant_pair")
        #expect(json["creator_tenant"] as? String == contoso.description)
        #expect(json["sign_in_tenant"] as? String == northwind.description)
        #expect(json["decision"] as? String == "blocked")
        #expect(
            json["add_rule_url"] as? String
                == "https://tenantgate.corp.example/console/isolation?add=\(northwind)&direction=outbound"
        )
        let teams = try #require(posts.first { $0["path"] as? String == "/teams" }?["body"] as? [String: Any])
        #expect(teams["type"] as? String == "message")
        let attachment = try #require((teams["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        let card = try #require(attachment["content"] as? [String: Any])
        #expect(card["type"] as? String == "AdaptiveCard")
        let action = (card["actions"] as? [[String: Any]])?.first
        #expect(action?["type"] as? String == "Action.OpenUrl")

        // The same proxy again, over the same audit file and state: the pair is known, nothing is raised.
        try await ServeProcess.with(plainHTTP: true, extraArguments: arguments) { serve in
            #expect(try await CreatorTrustTests.exchange(serve, maker: contoso, signingIn: northwind).status == 403)
            try await Task.sleep(for: .seconds(1))
        }
        #expect(receiver.posts().count == 2)
    }

    /// Review 20: with one webhook down, the healthy one got the same alert every backoff and no later alert, as all
    /// webhooks shared one reader. Each webhook now has its own: the healthy one gets each alert once, in turn.
    @Test func aWebhookThatIsDownHoldsBackNoOther() async throws {
        let receiver = try await WebhookReceiver()
        defer { receiver.stop() }
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = [
            "--audit-log", directory.appendingPathComponent("audit.jsonl").path,
            "--alert-webhook", "http://127.0.0.1:\(receiver.port)/fail",
            "--alert-webhook", "http://127.0.0.1:\(receiver.port)/hook",
        ]
        let contoso = ProxyEndToEndTests.contoso
        try await ServeProcess.with(plainHTTP: true, extraArguments: arguments) { serve in
            let northwind = try await CreatorTrustTests.exchange(
                serve,
                maker: contoso,
                signingIn: ProxyEndToEndTests.northwind
            )
            #expect(northwind.status == 403)
            #expect(try await Self.eventually(20) { receiver.posts().contains { $0["path"] as? String == "/hook" } })
            let fabrikam = try await CreatorTrustTests.exchange(
                serve,
                maker: contoso,
                signingIn: ProxyEndToEndTests.fabrikam
            )
            #expect(fabrikam.status == 200)
            // Long enough for the failing webhook's batch to be sent again (0.5 s, 1 s, 2 s).
            try await Task.sleep(for: .seconds(4))
        }
        let posts = receiver.posts()
        let healthy = posts.filter { $0["path"] as? String == "/hook" }
        #expect(healthy.count == 2, "\(healthy)")
        let signIns = healthy.compactMap { ($0["body"] as? [String: Any])?["sign_in_tenant"] as? String }
        #expect(signIns == [ProxyEndToEndTests.northwind.description, ProxyEndToEndTests.fabrikam.description])
        #expect(posts.filter { $0["path"] as? String == "/fail" }.count >= 2, "the failing one was tried again")
    }

    @Test func syslogOverTLSVerifiesTheReceiverAndDeliversEveryLine() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.path
        try await Self.makeReceiverCertificate(in: path, names: "DNS:localhost")
        let rsyslog = try await Rsyslog(
            port: try ServeProcess.freePort(),
            tls: ("\(path)/ca.pem", "\(path)/server.pem", "\(path)/server.key")
        )
        defer { rsyslog.stop() }
        let audit = "\(path)/audit.jsonl"
        try Self.append(1...300, to: audit)
        let sink = "syslog+tls://localhost:\(rsyslog.port)"
        let trusted = try ShipProcess(
            arguments: ["ship", "--audit-log", audit, "--ship", sink, "--ship-ca", "\(path)/ca.pem"],
            log: "\(path)/ship.log"
        )
        defer { trusted.kill9() }
        #expect(try await Self.eventually(20) { Set(Self.lineNumbers(in: rsyslog.received())).count == 300 })
        #expect(Self.lineNumbers(in: rsyslog.received()).prefix(300) == ArraySlice(1...300))
        trusted.kill9()

        // Without the CA, the receiver is not believed: nothing is sent in clear instead.
        let before = rsyslog.received().count
        let untrusted = try ShipProcess(
            arguments: ["ship", "--audit-log", audit, "--ship", sink, "--ship-state", "\(path)/other-state"],
            log: "\(path)/untrusted.log"
        )
        defer { untrusted.kill9() }
        // Waited for rather than slept on: a loaded machine can take longer than any fixed pause to get there.
        let log = { (try? String(contentsOfFile: "\(path)/untrusted.log", encoding: .utf8)) ?? "" }
        #expect(try await Self.eventually(20) { log().contains("shipping failed") }, "\(log())")
        #expect(rsyslog.received().count == before)
    }

    /// Review 56: a receiver that takes the TCP connection and never answers the TLS hello held the sink, and the
    /// stop, for good. The handshake has the batch's deadline (10 s), and a SIGTERM ends the process meanwhile.
    @Test func aSyslogReceiverThatNeverAnswersTheHelloIsGivenUpAndAStopEnds() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.path
        let audit = "\(path)/audit.jsonl"
        try Self.append(1...3, to: audit)
        let port = try ServeProcess.freePort()
        let silent = try await LoopbackDaemon.start(
            "/usr/bin/python3",
            [
                "-c",
                "import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                    + "s.bind(('127.0.0.1', \(port)))\ns.listen(16)\nheld = []\nwhile True: held.append(s.accept())",
            ],
            listeningOn: port
        )
        defer { kill(silent.processIdentifier, SIGKILL) }
        let log = "\(path)/ship.log"
        let ship = try ShipProcess(
            arguments: ["ship", "--audit-log", audit, "--ship", "syslog+tls://127.0.0.1:\(port)"],
            log: log
        )
        defer { ship.kill9() }
        let said = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(try await Self.eventually(40) { said().contains("did not complete a TLS handshake") }, "\(said())")
        // A stop while it waits in a handshake again.
        try await Task.sleep(for: .seconds(1))
        #expect(try await ship.terminate(within: 15), "the stop must not wait for the handshake")
    }

    /// A CA (`ca.pem`) and a receiver's certificate from it (`server.pem`, `server.key`) whose subjectAltName is
    /// `names` (`DNS:localhost`, `IP:127.0.0.1`), in `path`.
    static func makeReceiverCertificate(in path: String, names: String) async throws {
        try "subjectAltName=\(names)\n".write(toFile: "\(path)/san.cnf", atomically: true, encoding: .utf8)
        for arguments in [
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=Test receiver CA", "-keyout", "\(path)/ca.key", "-out", "\(path)/ca.pem",
            ],
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                "-keyout", "\(path)/server.key", "-out", "\(path)/server.csr",
            ],
            [
                "x509", "-req", "-in", "\(path)/server.csr", "-CA", "\(path)/ca.pem", "-CAkey", "\(path)/ca.key",
                "-CAcreateserial", "-days", "1", "-extfile", "\(path)/san.cnf", "-out", "\(path)/server.pem",
            ],
        ] {
            let made = try await ChildProcess.run("/usr/bin/openssl", arguments)
            #expect(made.status == 0, "\(made.errors)")
        }
    }

    /// Review 51 F2: receivers whose certificate, from the CA given, named only 127.0.0.1 were believed for
    /// `localhost` (NIOSSL takes an address entry equal to the address connected to): the Splunk one got the HEC
    /// token and the audit lines. Neither an HTTP sink nor a syslog one sends anything to such a receiver.
    @Test func aReceiverWhoseCertificateNamesOnlyItsAddressGetsNothing() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.path
        try await Self.makeReceiverCertificate(in: path, names: "IP:127.0.0.1")
        try "5f1e2d3c-hec-token\n".write(toFile: "\(path)/hec.token", atomically: true, encoding: .utf8)
        chmod("\(path)/hec.token", 0o600)
        let port = try ServeProcess.freePort()
        let collector = try await LoopbackDaemon.start(
            "/usr/bin/env",
            [
                "python3", "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/hec_receiver.py", "\(port)",
                "\(path)/indexed.jsonl", "5f1e2d3c-hec-token", "0", "\(path)/server.pem", "\(path)/server.key",
            ],
            listeningOn: port
        )
        defer { kill(collector.processIdentifier, SIGKILL) }
        let rsyslog = try await Rsyslog(
            port: try ServeProcess.freePort(),
            tls: ("\(path)/ca.pem", "\(path)/server.pem", "\(path)/server.key")
        )
        defer { rsyslog.stop() }
        let audit = "\(path)/audit.jsonl"
        try Self.append(1...10, to: audit)
        let shipper = try ShipProcess(
            arguments: [
                "ship", "--audit-log", audit, "--ship", "splunk+https://localhost:\(port)", "--ship",
                "syslog+tls://localhost:\(rsyslog.port)", "--ship-secret", "splunk=\(path)/hec.token", "--ship-ca",
                "\(path)/ca.pem",
            ],
            log: "\(path)/ship.log"
        )
        defer { shipper.kill9() }
        let log = { (try? String(contentsOfFile: "\(path)/ship.log", encoding: .utf8)) ?? "" }
        let refused = { (sink: String) in
            log().split(separator: "\n").contains {
                $0.contains("does not name localhost") && $0.contains("sink=\(sink)")
            }
        }
        #expect(
            try await Self.eventually(20) { refused("splunk-localhost") && refused("syslog-tls-localhost") },
            "\(log())"
        )
        #expect(!FileManager.default.fileExists(atPath: "\(path)/indexed.jsonl"))
        #expect(rsyslog.received().isEmpty)
    }

    @Test func splunkGetsEveryLineOnceItsIndexerAcknowledgedIt() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = directory.appendingPathComponent("audit.jsonl").path
        let token = directory.appendingPathComponent("hec.token").path
        try "5f1e2d3c-hec-token\n".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o600)
        let port = try ServeProcess.freePort()
        let received = directory.appendingPathComponent("indexed.jsonl").path
        // The first event post is refused (503, busy): the batch comes again.
        let collector = try await LoopbackDaemon.start(
            "/usr/bin/env",
            [
                "python3", "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/hec_receiver.py", "\(port)",
                received, "5f1e2d3c-hec-token", "1",
            ],
            listeningOn: port
        )
        defer { kill(collector.processIdentifier, SIGKILL) }
        try Self.append(1...1200, to: audit)
        let shipper = try ShipProcess(
            arguments: [
                "ship", "--audit-log", audit, "--ship", "splunk+http://127.0.0.1:\(port)", "--ship-secret",
                "splunk=\(token)",
            ],
            log: directory.appendingPathComponent("ship.log").path
        )
        defer { shipper.kill9() }
        func indexed() -> [[String: Any]] {
            let text = (try? String(contentsOfFile: received, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map { ProxyEndToEndTests.auditObject(String($0)) }
        }
        #expect(try await Self.eventually(30) { indexed().count >= 1200 })
        let events = indexed()
        let numbers = events.compactMap { ($0["event"] as? [String: Any])?["correlation_id"] as? String }
            .compactMap { Int($0.dropFirst("line-".count)) }
        #expect(numbers == Array(1...1200), "\(numbers.count) events")
        #expect(events.first?["sourcetype"] as? String == "tenantgate:audit")
        #expect(events.first?["source"] as? String == "tenantgate")
        #expect((events.first?["time"] as? Double).map { abs($0 - 1_796_472_000) < 1 } == true)
        #expect(
            !((try? String(contentsOfFile: directory.appendingPathComponent("ship.log").path, encoding: .utf8)) ?? "")
                .contains("hec-token")
        )
    }

    /// The Logs Ingestion mock (`Clients/sentinel_ingestion.py`) writing its rows in `directory`, and the client
    /// secret's file.
    static func sentinelIngestion(
        in directory: URL
    ) async throws -> (port: Int, rows: String, secret: String, process: Process) {
        let secret = directory.appendingPathComponent("sentinel.secret").path
        try "app-s3cr3t+value\n".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        let port = try ServeProcess.freePort()
        let rows = directory.appendingPathComponent("rows.jsonl").path
        let process = try await LoopbackDaemon.start(
            "/usr/bin/env",
            [
                "python3", "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/sentinel_ingestion.py",
                "\(port)", rows,
            ],
            listeningOn: port
        )
        return (port, rows, secret, process)
    }

    @Test func sentinelGetsDecisionsAsASIMAuthenticationEvents() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (port, rows, secret, ingestion) = try await Self.sentinelIngestion(in: directory)
        defer { kill(ingestion.processIdentifier, SIGKILL) }
        // The token comes from the mock STS's plain listener, standing in for Entra.
        let sink =
            "sentinel+http://127.0.0.1:\(port)/dataCollectionRules/dcr-0123456789abcdef/streams/Custom-TenantGate"
            + "?tenant=\(ProxyEndToEndTests.contoso)&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a"
            + "&authority=http://127.0.0.1:STS_PLAIN_PORT"
        try await ServeProcess.with(
            plainHTTP: true,
            extraArguments: ["--ship", sink, "--ship-secret", "sentinel=\(secret)"]
        ) { serve in
            let correlationID = try await Self.blockedExchange(serve)
            func row() -> [String: Any]? {
                let text = (try? String(contentsOfFile: rows, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").map { ProxyEndToEndTests.auditObject(String($0)) }
                    .compactMap { $0["row"] as? [String: Any] }
                    .first { $0["EventOriginalUid"] as? String == correlationID }
            }
            #expect(try await Self.eventually(20) { row() != nil })
            let event = try #require(row())
            #expect(event["EventSchema"] as? String == "Authentication")
            #expect(event["EventType"] as? String == "Logon")
            #expect(event["EventResult"] as? String == "Failure")
            #expect(event["TargetAppName"] as? String == "login.microsoftonline.com")
            #expect(event["TenantGateCreatorTenant"] as? String == ProxyEndToEndTests.contoso.description)
            #expect(event["TenantGateSignInTenant"] as? String == ProxyEndToEndTests.northwind.description)
            #expect(!serve.log().contains("s3cr3t"))
        }
    }

    @Test func aFleetSharingAPolicyStoreRaisesEachNewPairOnce() async throws {
        let server = try await LocalPostgres.start()
        let receiver = try await WebhookReceiver()
        do {
            let imported = try await ServeProcess.runToExit([
                "policies", "import", ProxyEndToEndTests.policies, "--policy-store", server.url,
                "--policy-store-insecure",
            ])
            #expect(imported.status == 0, "\(imported.errors)")
            let instance = [
                "--policy-store", server.url, "--policy-store-insecure", "--alert-webhook",
                "http://127.0.0.1:\(receiver.port)/hook",
            ]
            // Two instances, each with its own audit file and alert state: each sees Contoso → Northwind.
            try await ServeProcess.with(policies: nil, extraArguments: instance) { first in
                try await ServeProcess.with(policies: nil, extraArguments: instance) { second in
                    for serve in [first, second] {
                        let exchange = try await CreatorTrustTests.exchange(
                            serve,
                            maker: ProxyEndToEndTests.contoso,
                            signingIn: ProxyEndToEndTests.northwind
                        )
                        #expect(exchange.status == 403)
                    }
                    #expect(try await Self.eventually(20) { !receiver.posts().isEmpty })
                    try await Task.sleep(for: .seconds(2))
                }
            }
            #expect(receiver.posts().count == 1, "\(receiver.posts())")
        } catch {
            receiver.stop()
            await server.remove()
            throw error
        }
        receiver.stop()
        await server.remove()
    }

    @Test func sentinelGetsEveryLineOfASidecarRun() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = directory.appendingPathComponent("audit.jsonl").path
        // The mock also answers for Entra's token endpoint here.
        let (port, rows, secret, ingestion) = try await Self.sentinelIngestion(in: directory)
        defer { kill(ingestion.processIdentifier, SIGKILL) }
        try Self.append(1...1500, to: audit)
        let shipper = try ShipProcess(
            arguments: [
                "ship", "--audit-log", audit, "--ship-secret", "sentinel=\(secret)", "--ship",
                "sentinel+http://127.0.0.1:\(port)/dataCollectionRules/dcr-1/streams/Custom-TenantGate"
                    + "?tenant=contoso.onmicrosoft.com&client_id=app&authority=http://127.0.0.1:\(port)",
            ],
            log: directory.appendingPathComponent("ship.log").path
        )
        defer { shipper.kill9() }
        func received() -> [[String: Any]] {
            let text = (try? String(contentsOfFile: rows, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap {
                ProxyEndToEndTests.auditObject(String($0))["row"] as? [String: Any]
            }
        }
        #expect(try await Self.eventually(30) { received().count >= 1500 })
        let numbers = received().compactMap {
            ($0["EventOriginalUid"] as? String).flatMap { Int($0.dropFirst("line-".count)) }
        }
        #expect(numbers == Array(1...1500), "\(numbers.count) rows")
        let first = try #require(received().first)
        #expect(first["EventResult"] as? String == "Failure")
        #expect(first["TenantGateCreatorTenant"] as? String == ProxyEndToEndTests.contoso.description)
        #expect((first["AdditionalFields"] as? [String: Any])?["correlation_id"] as? String == "line-1")
    }

    /// Lines a reader could trip on, through the sidecar binary to the OTLP receiver (which parses OTLP strictly):
    /// escapes in the decision's strings, a byte that is not UTF-8, text that is not JSON, a policy change whose event
    /// is written with an escape, a line of 300 kB, and a chosen member named twice. Every line arrives, whole (the
    /// damaged one repaired), with its members read as they mean.
    @Test func unusualLinesReachTheSinkWholeAndReadAsTheyMean() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = directory.appendingPathComponent("audit.jsonl").path
        let otlp = try await OTLPReceiver(refusingFirst: 0)
        defer { otlp.stop() }
        let long = String(repeating: "x", count: 300_000)
        let lines: [[UInt8]] = [
            Array(
                #"{"decision":"blocked","host":"h\u00e9\/x","reason":"said \"no\" ]","correlation_id":"odd-1"}"#.utf8
            ),
            Array(#"{"decision":"allowed","host":"h"#.utf8) + [0xFF] + Array(#"","correlation_id":"odd-2"}"#.utf8),
            Array("not json at all".utf8),
            Array(#"{"event":"policy\u005fchange","tenant":"t1","correlation_id":"odd-4"}"#.utf8),
            Array(#"{"decision":"allowed","reason":"\#(long)","correlation_id":"odd-5"}"#.utf8),
            Array(#"{"decision":"allowed","decision":"blocked","correlation_id":"odd-6"}"#.utf8),
            // A time past what OTLP's nanoseconds hold (a wrong clock, an edited file): the year 2286 instead.
            Array(#"{"time":"9999-12-31T23:59:59Z","decision":"allowed","correlation_id":"odd-7"}"#.utf8),
        ]
        try Data(lines.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: audit))
        let shipper = try ShipProcess(
            arguments: ["ship", "--audit-log", audit, "--ship", "otlp+http://127.0.0.1:\(otlp.port)/v1/logs"],
            log: directory.appendingPathComponent("ship.log").path
        )
        defer { shipper.kill9() }
        #expect(try await Self.eventually(20) { otlp.records().count == lines.count })
        let records = otlp.records()
        let bodies = records.map { $0.object["body"] as? String }
        #expect(
            bodies == lines.map { String(decoding: $0, as: UTF8.self) },
            "every line whole, the damaged one repaired"
        )
        #expect(records.map(\.correlationID) == ["odd-1", "odd-2", nil, "odd-4", "odd-5", "odd-6", "odd-7"])
        #expect(records[6].object["time_unix_nano"] as? UInt64 == 10_000_000_000_000_000_000)
        #expect(records.first?.attributes["server.address"] as? String == "hé/x")
        #expect(records.first?.attributes["tenantgate.reason"] as? String == #"said "no" ]"#)
        #expect(records[1].attributes["server.address"] as? String == "h\u{FFFD}")
        #expect(records[3].attributes["event.name"] as? String == "tenantgate.policy_change")
        #expect((records[4].attributes["tenantgate.reason"] as? String)?.count == long.count)
    }

    @Test func linesWrittenAroundARotationAreAllShippedOnce() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = directory.appendingPathComponent("audit.jsonl").path
        let otlp = try await OTLPReceiver(refusingFirst: 0)
        defer { otlp.stop() }
        try Self.append(1...100, to: audit)
        let shipper = try ShipProcess(
            arguments: ["ship", "--audit-log", audit, "--ship", "otlp+http://127.0.0.1:\(otlp.port)/v1/logs"],
            log: directory.appendingPathComponent("ship.log").path
        )
        defer { shipper.kill9() }
        #expect(try await Self.eventually(20) { otlp.records().count == 100 })
        // logrotate renames; lines still reach the renamed file until TenantGate reopens its path; then a new file.
        let rotated = audit + ".1"
        #expect(rename(audit, rotated) == 0)
        try Self.append(101...150, to: rotated)
        try Self.append(151...200, to: audit)
        #expect(try await Self.eventually(20) { otlp.records().count >= 200 })
        try await Task.sleep(for: .milliseconds(300))
        let numbers = otlp.records().compactMap { $0.correlationID.flatMap { Int($0.dropFirst("line-".count)) } }
        #expect(numbers.count == 200 && numbers == Array(1...200), "\(numbers.count) lines: \(numbers.suffix(5))")
        // The position is kept beside the audit log by default.
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("ship-state").path))
    }
}

/// `tenantgate ship` as a child process (a sidecar).
struct ShipProcess {
    private let process: Process

    init(arguments: [String], log: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: ServeProcess.binary)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
    }

    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then whether it exited within `seconds`.
    func terminate(within seconds: Int) async throws -> Bool {
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<(seconds * 20) where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return !process.isRunning
    }
}

/// Debian's rsyslog listening for RFC 5424 over TCP (octet counting) on a loopback port, writing each message as
/// received to a file.
struct Rsyslog {
    let port: Int
    let output: String
    private let process: Process
    private let directory: URL

    /// - Parameter tls: the CA, certificate and key of a TLS listener (RFC 5425, rsyslog's OpenSSL driver).
    init(port: Int, output: String? = nil, tls: (ca: String, certificate: String, key: String)? = nil) async throws {
        self.port = port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rsyslog-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = output ?? directory.appendingPathComponent("received.log").path
        self.output = output
        let configuration = directory.appendingPathComponent("rsyslog.conf").path
        let driver = tls.map {
            """
            global(DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="\($0.ca)"
                DefaultNetstreamDriverCertFile="\($0.certificate)" DefaultNetstreamDriverKeyFile="\($0.key)")
            module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
            """
        }
        try """
        global(workDirectory="\(directory.path)")
        \(driver ?? #"module(load="imtcp")"#)
        template(name="raw" type="string" string="%rawmsg%\\n")
        ruleset(name="received") {
            action(type="omfile" file="\(output)" template="raw")
        }
        input(type="imtcp" address="127.0.0.1" port="\(port)" ruleset="received")

        """.write(toFile: configuration, atomically: true, encoding: .utf8)
        process = try await LoopbackDaemon.start(
            "/usr/sbin/rsyslogd",
            ["-n", "-f", configuration, "-i", directory.appendingPathComponent("rsyslog.pid").path],
            listeningOn: port
        )
    }

    func received() -> String {
        (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    /// An orderly stop (SIGTERM), so that what rsyslog received is in its file.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}

/// `Clients/otlp_receiver.py` on a loopback port.
final class OTLPReceiver: @unchecked Sendable {
    struct Record {
        let object: [String: Any]
        var attributes: [String: Any] { object["attributes"] as? [String: Any] ?? [:] }
        var correlationID: String? { attributes["tenantgate.correlation_id"] as? String }
    }

    let port: Int
    private let output: String
    private let process: Process
    private let directory: URL

    convenience init(refusingFirst refusing: Int) async throws {
        try await self.init(refusals: "\(refusing)")
    }

    /// Refuses one request with 503 for each value, with that value as its `Retry-After`.
    convenience init(refusingWithRetryAfter values: [String]) async throws {
        let list = String(decoding: try JSONSerialization.data(withJSONObject: values), as: UTF8.self)
        try await self.init(refusals: list)
    }

    private init(refusals: String) async throws {
        port = try ServeProcess.freePort()
        directory = try ServeBinaryTests.temporaryDirectory()
        output = directory.appendingPathComponent("records.jsonl").path
        process = try await LoopbackDaemon.start(
            "/usr/bin/env",
            [
                "python3", "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/otlp_receiver.py", "\(port)",
                output, refusals,
            ],
            listeningOn: port
        )
    }

    func records() -> [Record] {
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { Record(object: ProxyEndToEndTests.auditObject(String($0))) }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// `Clients/webhook_receiver.py` on a loopback port: every POST's path and body.
final class WebhookReceiver: @unchecked Sendable {
    let port: Int
    private let output: String
    private let process: Process
    private let directory: URL

    init() async throws {
        port = try ServeProcess.freePort()
        directory = try ServeBinaryTests.temporaryDirectory()
        output = directory.appendingPathComponent("posts.jsonl").path
        process = try await LoopbackDaemon.start(
            "/usr/bin/env",
            [
                "python3", "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/webhook_receiver.py",
                "\(port)", output,
            ],
            listeningOn: port
        )
    }

    func posts() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { ProxyEndToEndTests.auditObject(String($0)) }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

import Foundation
import NIOCore
import NetworkPolicy
import Testing

@testable import Shipping

/// How an audit line looks to each sink, and which `--ship` URLs are taken.
struct ShippingFormatTests {
    /// A key in an OTLP endpoint's query stays out of the sink's name, which `/readyz` (unauthenticated), metrics
    /// labels, logs and the position file's name show.
    @Test func anOTLPEndpointsQueryIsNotPartOfItsName() async {
        let sink = OTLPLogsSink(
            url: "http://127.0.0.1:9/v1/logs?api_key=TOPSECRETKEY",
            client: ShipTransport.httpClient(extraCAFiles: [])
        )
        #expect(!sink.name.contains("TOPSECRET"), "\(sink.name)")
        #expect(sink.name == "otlp-http-127-0-0-1-9-v1-logs")
        await sink.shutdown()
    }

    static let line = Data(
        (#"{"time":"2026-12-05T10:11:12.345Z","decision":"blocked","setting":"tenantIsolation","#
            + #""creator_tenant":"c0","sign_in_tenant":"s1","host":"login.microsoftonline.com","path":"/s1/token","#
            + #""directions":["outbound","inbound"],"reason":"said \"no\" [really]","rule":null,"#
            + #""correlation_id":"7d1c"}"#).utf8
    )

    @Test func anAuditLineIsReadOnceWithWhatSinksMap() {
        let decision = AuditRecord(line: Self.line)
        #expect(decision.value("reason") as? String == #"said "no" [really]"#)
        #expect(decision.value("directions") as? [String] == ["outbound", "inbound"])
        #expect(decision.value("rule") == nil)
        #expect(decision.timeText == "2026-12-05T10:11:12.345Z")
        #expect(decision.correlationID == "7d1c")
        let coded = AuditRecord(line: Data(#"{"decision":"error","error_code":500212,"time":"yesterday"}"#.utf8))
        #expect(coded.value("error_code") as? Int == 500_212)
        #expect(coded.timeText == nil)
        // A policy change's nested members are read too (by Foundation).
        let change = AuditRecord(line: Data(#"{"event":"policy_change","actor":{"name":"a"},"after":{"x":1}}"#.utf8))
        #expect((change.value("actor") as? [String: Any])?["name"] as? String == "a")
        #expect(change.event == "policy_change")
        let garbage = AuditRecord(line: Data("not json at all".utf8))
        #expect(!garbage.isJSONObject)
        #expect(garbage.text == "not json at all")
        // A damaged line is repaired as it is read, so the sinks that copy its bytes write valid UTF-8.
        let damaged = AuditRecord(line: Data(#"{"decision":"allowed","host":"h"#.utf8 + [0xFF] + #""}"#.utf8))
        #expect(damaged.text == "{\"decision\":\"allowed\",\"host\":\"h\u{FFFD}\"}")
        #expect(damaged.string("host") == "h\u{FFFD}")
    }

    @Test func aSyslogMessageIsOctetCountedRFC5424WithTheDecisionAsStructuredData() throws {
        let record = AuditRecord(line: Self.line)
        let framed = String(decoding: SyslogMessage.framed(record, hostname: "proxy 1\u{7f}"), as: UTF8.self)
        let space = try #require(framed.firstIndex(of: " "))
        let message = framed[framed.index(after: space)...]
        #expect(Int(framed[..<space]) == message.utf8.count)
        #expect(
            message.hasPrefix(
                #"<108>1 2026-12-05T10:11:12.345Z proxy1 tenantgate - decision [tenantgate@32473 decision="blocked" "#
                    + #"setting="tenantIsolation" creator_tenant="c0" sign_in_tenant="s1" directions="outbound,inbound" "#
                    + #"host="login.microsoftonline.com" path="/s1/token" correlation_id="7d1c"] {"#
            ),
            "\(message)"
        )
        #expect(message.hasSuffix(String(decoding: Self.line, as: UTF8.self)))
        // Values are escaped where RFC 5424 asks; a field that is null is left out.
        let escaped = SyslogMessage.format(
            AuditRecord(line: Data(#"{"decision":"allowed","host":"a\"b]c\\d","rule":null}"#.utf8)),
            hostname: "h"
        )
        #expect(escaped.hasPrefix(#"<110>1 "#))
        #expect(escaped.contains(#"host="a\"b\]c\\d"]"#), "\(escaped)")
        // A control character in a value a client chose is `#` and three octal digits, as rsyslog writes it: raw, a
        // line break forged a second message for a reader going a line at a time (review 57).
        let forged = SyslogMessage.format(
            AuditRecord(line: Data(#"{"decision":"blocked","client_id":"x\n<110>1 - tenantgate\u001b\u0000"}"#.utf8)),
            hostname: "h"
        )
        #expect(forged.contains("x#012<110>1 - tenantgate#033#000"), "\(forged)")
        // C1 controls, separators and bidirectional controls too, a byte at a time (review 58).
        let invisible = SyslogMessage.format(
            AuditRecord(line: Data("{\"decision\":\"blocked\",\"client_id\":\"a\u{9B}b\u{202E}c\u{2028}d\"}".utf8)),
            hostname: "h"
        )
        #expect(invisible.contains("a#302#233b#342#200#256c#342#200#250d"), "\(invisible)")
        let head = forged.prefix { $0 != "{" }
        #expect(!head.utf8.contains { $0 < 0x20 }, "\(forged)")
        // A value without JSON escapes is copied from the line as it is, and still escaped for syslog.
        let plain = SyslogMessage.format(
            AuditRecord(line: Data(#"{"decision":"error","host":"h]1","path":"/p]","time":"then"}"#.utf8)),
            hostname: "h"
        )
        #expect(plain.hasPrefix(#"<107>1 "#), "\(plain)")
        #expect(plain.contains(#"[tenantgate@32473 decision="error" host="h\]1" path="/p\]"] {"#), "\(plain)")
        #expect(!escaped.contains("rule="))
        let change = SyslogMessage.format(AuditRecord(line: Data(#"{"event":"policy_change"}"#.utf8)), hostname: "h")
        #expect(change.contains(" tenantgate - policy_change - {"), "\(change)")
    }

    @Test func anOTLPRequestCarriesEachLineWithSemanticAttributes() throws {
        let data = Data(OTLPLogs.request([AuditRecord(line: Self.line)], hostname: "proxy-1"))
        let request = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let resourceLogs = try #require((request["resourceLogs"] as? [[String: Any]])?.first)
        let resource = try #require((resourceLogs["resource"] as? [String: Any])?["attributes"] as? [[String: Any]])
        #expect(resource.map { $0["key"] as? String } == ["service.name", "host.name"])
        let scope = try #require((resourceLogs["scopeLogs"] as? [[String: Any]])?.first)
        let record = try #require((scope["logRecords"] as? [[String: Any]])?.first)
        #expect(record["timeUnixNano"] as? String == "1796465472345000000")
        #expect(record["severityNumber"] as? Int == 13)
        #expect(record["severityText"] as? String == "WARN")
        let attributes = try #require(record["attributes"] as? [[String: Any]])
        let keys = attributes.compactMap { $0["key"] as? String }
        #expect(keys.first == "event.name")
        #expect(keys.contains("server.address") && keys.contains("url.path"))
        #expect(!keys.contains("tenantgate.rule"))
        // Strings are copied from the line as written, escapes and all, and read back as they were.
        let reason = attributes.first { $0["key"] as? String == "tenantgate.reason" }
        #expect((reason?["value"] as? [String: Any])?["stringValue"] as? String == #"said "no" [really]"#)
        #expect(
            (record["body"] as? [String: Any])?["stringValue"] as? String == String(decoding: Self.line, as: UTF8.self)
        )
        let directions = attributes.first { $0["key"] as? String == "tenantgate.directions" }
        let values = ((directions?["value"] as? [String: Any])?["arrayValue"] as? [String: Any])?["values"]
        #expect((values as? [[String: String]])?.compactMap { $0["stringValue"] } == ["outbound", "inbound"])
    }

    /// A line's own time may say any year to 9999, past what OTLP's UInt64 nanoseconds hold: the year 2286 then,
    /// never an overflow (which trapped the shipper at that line at every start).
    @Test func anOTLPTimeIsKeptWithinItsNanoseconds() throws {
        for (time, expected) in [("9999-12-31T23:59:59Z", "10000000000000000000"), ("0000-01-01T00:00:00Z", "0")] {
            let line = Data(#"{"time":"\#(time)","decision":"allowed"}"#.utf8)
            let data = Data(OTLPLogs.request([AuditRecord(line: line)], hostname: "proxy-1"))
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.contains(#""timeUnixNano":"\#(expected)""#), "\(text)")
        }
    }

    /// Lines of the members the sinks map, each of any kind (times of any year, numbers at Double's ends, escapes,
    /// nesting): no sink's format traps on one (a trap in the shipper stops the proxy it runs in, at that line, at
    /// every start), and each output reads back: OTLP and Sentinel as JSON, syslog by its octet count.
    @Test func everySinkFormatsGeneratedLinesIntoWhatItsReaderTakes() throws {
        var state: UInt64 = 2026
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let names = [
            "time", "decision", "event", "setting", "creator_tenant", "sign_in_tenant", "host", "path", "directions",
            "reason", "rule", "correlation_id", "error_code", "client_id", "tenant", "mode", "other",
        ]
        let pieces = ["a", "é", "\"", "\\", "]", "\n", "\u{1}", "中", "😀", " ", "=", "\u{7f}", "\u{2028}"]
        let numbers: [Double] = [0, -1, 500_212, 0.5, 1e16, -1e16, 1e308, -1e308, 4.9e-324]
        func text() -> String { (0..<next(6)).map { _ in pieces[next(pieces.count)] }.joined() }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        func time() -> String {
            let year = String(next(10_000)).leftPadded(to: 4)
            let fraction = next(2) == 0 ? "" : "." + String(next(1000)).leftPadded(to: 3)
            return "\(year)-\(two(1 + next(12)))-\(two(1 + next(31)))T\(two(next(24))):\(two(next(60))):"
                + "\(two(next(61)))\(fraction)Z"
        }
        func value(_ depth: Int) -> Any {
            switch next(depth > 1 ? 5 : 7) {
            case 0: return text()
            case 1: return numbers[next(numbers.count)]
            case 2: return time()
            case 3: return next(2) == 0
            case 4: return NSNull()
            case 5: return (0..<next(4)).map { _ in next(3) == 0 ? value(depth + 1) : text() }
            default: return ["k": value(depth + 1)]
            }
        }
        var alerts = TenantPairAlerts(seen: [], alertsSince: .distantPast, refusalsPerMinute: 1)
        for _ in 0..<1000 {
            var object: [String: Any] = [:]
            for _ in 0..<next(12) { object[names[next(names.count)]] = value(0) }
            if next(2) == 0 { object["time"] = time() }
            let record = AuditRecord(line: try JSONSerialization.data(withJSONObject: object))
            let framed = SyslogMessage.framed(record, hostname: "proxy-1")
            let space = try #require(framed.firstIndex(of: UInt8(ascii: " ")))
            #expect(Int(String(decoding: framed[..<space], as: UTF8.self)) == framed.count - space - 1)
            let otlp = Data(OTLPLogs.request([record], hostname: "proxy-1"))
            #expect((try? JSONSerialization.jsonObject(with: otlp)) != nil, "\(String(decoding: otlp, as: UTF8.self))")
            let sentinel = SentinelSink.calls([ASIMRecord.row(record, device: "proxy-1")])
            for call in sentinel {
                #expect((try? JSONSerialization.jsonObject(with: Data(call.readableBytesView))) != nil)
            }
            _ = SplunkHECSink.seconds(record.time)
            _ = alerts.observe(record)
        }
    }

    /// Review 32: a first line over half a megabyte made an empty request first, which Splunk refuses ("No data"):
    /// the batch was sent again for good. No request is empty, and every line is in one.
    @Test func splunkRequestsAreNeverEmpty() {
        let long = AuditRecord(
            line: Data(#"{"decision":"allowed","reason":"\#(String(repeating: "x", count: 600_000))"}"#.utf8)
        )
        let short = AuditRecord(line: Data(#"{"decision":"blocked"}"#.utf8))
        let bodies = SplunkHECSink.events([long, short, long, long], hostname: "proxy-1")
        #expect(bodies.allSatisfy { $0.readableBytes > 0 })
        let events = bodies.map { String(buffer: $0).split(separator: "\n").count }
        #expect(events.reduce(0, +) == 4, "\(events)")
    }

    @Test func splunkTimesAreSecondsWithMilliseconds() {
        #expect(SplunkHECSink.seconds(Date(timeIntervalSince1970: 1_796_465_472.345)) == "1796465472.345")
        #expect(SplunkHECSink.seconds(Date(timeIntervalSince1970: 12.0046)) == "12.005")
        #expect(SplunkHECSink.seconds(Date(timeIntervalSince1970: 7)) == "7.000")
        #expect(SplunkHECSink.seconds(Date(timeIntervalSince1970: -3)) == "0.000")
    }

    @Test func shipURLsNameASinkAndNoSecret() throws {
        #expect(
            try ShipDestination(parsing: "syslog://siem.corp.example:6514")
                == .syslog(HostPort(host: "siem.corp.example", port: 6514), tls: false)
        )
        #expect(
            try ShipDestination(parsing: "syslog+tls://siem.corp.example:6514")
                == .syslog(HostPort(host: "siem.corp.example", port: 6514), tls: true)
        )
        #expect(
            try ShipDestination(parsing: "otlp+http://127.0.0.1:4318") == .otlp(url: "http://127.0.0.1:4318/v1/logs")
        )
        #expect(
            try ShipDestination(parsing: "otlp+https://collector:4318/custom/logs")
                == .otlp(url: "https://collector:4318/custom/logs")
        )
        for refused in [
            "syslog://siem", "syslog://siem:0", "otlp+http://user:pw@collector:4318", "http://x:1", "file:///x",
        ] {
            #expect(throws: ShipDestination.Problem.self, "\(refused)") { try ShipDestination(parsing: refused) }
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

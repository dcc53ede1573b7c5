import Logging
import Plumbing
import Testing

@testable import tenantgate

/// `serve`'s log lines cannot be forged from outside: review 21 wrote a whole "console sign-in … Global
/// Administrator" line into the log through the sign-in callback's `error_description`, which swift-log's stream
/// handler wrote with its newline.
struct EscapingLogHandlerTests {
    /// What the inner handler was asked to write.
    struct Recording: LogHandler {
        let events = Locked<[LogEvent]>([])
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { events.withLock { $0.append(event) } }
    }

    struct Denied: Error, CustomStringConvertible {
        let description: String
    }

    @Test func clientTextCannotStartALineOrDriveATerminal() throws {
        let recording = Recording()
        let logger = Logger(label: "tenantgate") { _ in EscapingLogHandler(inner: recording) }
        let forged =
            "x\n2026-12-06T09:00:00+0000 notice tenantgate: roles=Global Administrator\r\u{1B}]0;t\u{07}\u{2028}"
            + #"\n"# + "\u{202E}nimda\u{2066}"
        logger.warning(
            "refused: \(forged)",
            error: Denied(description: forged),
            metadata: ["reason": "\(forged)", "list": .array(["\(forged)"]), "map": .dictionary(["k": "\(forged)"])]
        )
        let event = try #require(recording.events.withLock { $0 }.first)
        let escaped =
            #"x\n2026-12-06T09:00:00+0000 notice tenantgate: roles=Global Administrator\r\u{1b}]0;t\u{7}\u{2028}"#
            + #"\\n\u{202e}nimda\u{2066}"#
        #expect(event.message.description == "refused: " + escaped)
        #expect(event.metadata?["reason"] == .string(escaped))
        #expect(event.metadata?["list"] == .array([.string(escaped)]))
        #expect(event.metadata?["map"] == .dictionary(["k": .string(escaped)]))
        #expect(event.metadata?["error.message"] == .string(escaped))
        #expect(event.error == nil)
        #expect(event.metadata?["error.type"]?.description.hasSuffix("Denied") == true)
    }

    @Test func plainTextIsWrittenAsItIs() throws {
        let recording = Recording()
        let logger = Logger(label: "tenantgate") { _ in EscapingLogHandler(inner: recording) }
        logger.notice("listening on 127.0.0.1:3128 — ready", metadata: ["tenant": "contoso.onmicrosoft.com"])
        let event = try #require(recording.events.withLock { $0 }.first)
        #expect(event.message.description == "listening on 127.0.0.1:3128 — ready")
        #expect(event.metadata == ["tenant": "contoso.onmicrosoft.com"])
    }
}

import Logging
import Plumbing

/// Log lines as another handler writes them, with control characters in the message, the metadata and the error
/// escaped as JSON escapes them: text a client chose (a sign-in error's description, an upstream's reason) cannot
/// end the line and start a forged one, or drive the operator's terminal. swift-log's stream handler writes all of
/// them as they are.
struct EscapingLogHandler<Inner: LogHandler>: LogHandler {
    var inner: Inner

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(Self.escaped(event.message.description))"
        var metadata = event.metadata?.mapValues(Self.escaped) ?? [:]
        if let error = event.error {
            // The inner handler would print the error's own description: it goes as escaped metadata instead.
            event.error = nil
            metadata["error.message"] = .string(Self.escaped("\(error)"))
            metadata["error.type"] = .string(String(reflecting: type(of: error)))
        }
        event.metadata = metadata.isEmpty ? nil : metadata
        inner.log(event: event)
    }

    static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(escaped(text))
        case .stringConvertible(let convertible): .string(escaped(convertible.description))
        case .array(let values): .array(values.map(escaped))
        case .dictionary(let values): .dictionary(values.mapValues(escaped))
        }
    }

    static func escaped(_ text: String) -> String { TerminalText.escaped(text) }
}

/// Text a client or a policy chose, as a terminal or a log line may show it.
enum TerminalText {
    /// C0 and C1 controls, DEL, the Unicode line and paragraph separators and the bidirectional controls (which
    /// reorder what a terminal shows: "Trojan Source") as `\n`, `\r`, `\t` or `\u{…}`; a backslash as `\\`, so
    /// that text a client wrote as `\n` cannot pass for an escaped line break.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case _ where needsEscape(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\\" || InvisibleControls.contains(scalar)
    }
}

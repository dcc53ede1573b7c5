/// Where to listen or connect: a host name or address and a port, parsed once at the edge.
package struct HostPort: Hashable, Sendable, CustomStringConvertible {
    package let host: String
    package let port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT`, or `HOST` with `defaultPort`.
    package init?(parsing text: String, defaultPort: Int? = nil) {
        var hostPart = Substring(text)
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { portPart = rest.dropFirst() } else if !rest.isEmpty { return nil }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, !hostPart.contains(" ") else { return nil }
        let port: Int
        if let portPart {
            guard let parsed = Int(portPart), (0...65535).contains(parsed) else { return nil }
            port = parsed
        } else {
            guard let defaultPort else { return nil }
            port = defaultPort
        }
        self.host = String(hostPart)
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

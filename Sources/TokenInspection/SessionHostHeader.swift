import NetworkPolicy

/// Inside an intercepted session, a request's `Host` header must name the session's host: one header, with the
/// session's port or none. An exchange is judged for the host TLS was terminated for, so a second name is ambiguous.
package enum SessionHostHeader {
    /// Why the `Host` headers (`values`, every one the request carries) do not name `session`; nil when they do, or
    /// when there is none.
    /// (An array, not any sequence: a generic sequence across modules was iterated through witness tables, 2–3% of
    /// the proxy's CPU on a resource host.)
    package static func problem(_ values: [String], session: HostPort) -> String? {
        guard values.count <= 1, values.allSatisfy({ names($0, session: session) }) else {
            return "the Host header does not name \(session.host), the host of this session"
        }
        return nil
    }

    /// The session's host as clients write it (its bytes, letter case aside) costs one comparison; any other
    /// spelling (a port, a trailing dot) is parsed and canonicalised.
    static func names(_ value: String, session: HostPort) -> Bool {
        let host = session.host.utf8
        if value.utf8.count == host.count,
            zip(value.utf8, host).allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 })
        {
            return true
        }
        guard let named = HostPort(parsing: value, defaultPort: session.port) else { return false }
        return HostName.canonical(named.host) == session.host && named.port == session.port
    }
}

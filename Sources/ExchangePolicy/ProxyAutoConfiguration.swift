import TenantPolicy
import TokenInspection

/// A proxy auto-configuration file (a PAC file, served as `/proxy.pac`) for hosts that cannot be given a proxy
/// setting of their own: the names TenantGate judges go to it, every other name `DIRECT` or to the network's own
/// proxy. Made from the same interception rules the proxy applies, so the two cannot disagree: every cloud's Entra
/// STS names and the `*.microsoftonline.com` family, the known non-Entra STSs, `--intercept-host` and
/// `--resource-host` names, and Microsoft's login hosts when Tenant Restrictions v2 is injected; never the
/// device-registration hosts that TenantGate does not intercept.
///
/// A PAC file steers clients that follow it; it enforces nothing. An egress firewall must still refuse these names'
/// addresses to everyone but TenantGate (the README says how).
package struct ProxyAutoConfiguration: Sendable {
    /// The PAC directive for TenantGate's proxy listener: `PROXY host:port`, or `HTTPS host:port` when it speaks TLS.
    package let proxy: String
    /// The directive for every other name: `DIRECT`, or `PROXY host:port` of the network's own proxy.
    package let otherwise: String
    package let rules: InterceptionRules

    /// - Parameters:
    ///   - proxyAddress: how clients reach the proxy listener (a name or address, and the port);
    ///   - speaksTLS: whether the listener is an HTTPS proxy (`--listen-tls-cert`);
    ///   - fallback: the network's own proxy for everything else, or nil for `DIRECT`.
    package init(proxyAddress: String, speaksTLS: Bool, fallback: String?, rules: InterceptionRules) {
        proxy = "\(speaksTLS ? "HTTPS" : "PROXY") \(proxyAddress)"
        otherwise = fallback.map { "PROXY \($0)" } ?? "DIRECT"
        self.rules = rules
    }

    /// The names routed to TenantGate by themselves, sorted.
    package var names: [String] {
        var names = Set(STSHosts.interceptedNames).union(rules.extraInterceptedHosts)
        if rules.tenantRestrictionsV2 != nil { names.formUnion(TenantRestrictionsV2.hosts) }
        for pattern in rules.resourceHosts {
            if case .exact(let name) = pattern { names.insert(name) }
        }
        return names.subtracting(STSHosts.neverIntercepted).sorted()
    }

    /// The parent domains (with their leading dot) whose every subdomain is routed to TenantGate, sorted.
    package var suffixes: [String] {
        var suffixes = Set(STSHosts.interceptedSuffixes)
        for pattern in rules.resourceHosts {
            if case .subdomains(let parent) = pattern { suffixes.insert(".\(parent)") }
        }
        return suffixes.sorted()
    }

    /// The PAC file: JavaScript with `FindProxyForURL`, using nothing beyond ECMAScript 3 (every PAC engine runs it).
    package var script: String {
        """
        // TenantGate proxy auto-configuration: the names TenantGate judges go through it, every other name goes
        // \(otherwise). Made from its interception settings; serve it as application/x-ns-proxy-autoconfig.
        // It steers clients; an egress firewall must still refuse these names to everyone but TenantGate.
        var tenantGate = \(Self.literal(proxy));
        var otherwise = \(Self.literal(otherwise));
        var neverJudged = \(Self.array(STSHosts.neverIntercepted.sorted()));
        var neverJudgedSuffixes = \(Self.array(STSHosts.neverInterceptedSuffixes));
        var judged = \(Self.array(names));
        var judgedSuffixes = \(Self.array(suffixes));

        function endsWith(host, suffix) {
            return host.length > suffix.length && host.substring(host.length - suffix.length) == suffix;
        }

        function FindProxyForURL(url, host) {
            var name = host.toLowerCase();
            if (name.charAt(name.length - 1) == ".") name = name.substring(0, name.length - 1);
            var i;
            for (i = 0; i < neverJudged.length; i++) if (name == neverJudged[i]) return otherwise;
            for (i = 0; i < neverJudgedSuffixes.length; i++) if (endsWith(name, neverJudgedSuffixes[i])) return otherwise;
            for (i = 0; i < judged.length; i++) if (name == judged[i]) return tenantGate;
            for (i = 0; i < judgedSuffixes.length; i++) if (endsWith(name, judgedSuffixes[i])) return tenantGate;
            return otherwise;
        }

        """
    }

    /// A JavaScript string literal. The names are canonical host names (letters, digits, `.`, `-`) and directives
    /// the operator configured; anything else is escaped, so no configured text can end the literal.
    private static func literal(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-", ":", " ", "[", "]", "_":
                escaped.unicodeScalars.append(scalar)
            default:
                let hex = String(scalar.value, radix: 16)
                escaped +=
                    scalar.value <= 0xFFFF
                    ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    : "?"
            }
        }
        return escaped + "\""
    }

    private static func array(_ texts: [String]) -> String {
        "[" + texts.map(literal).joined(separator: ", ") + "]"
    }
}

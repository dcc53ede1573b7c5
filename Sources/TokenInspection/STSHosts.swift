/// Which hosts are security token services, which are never intercepted, and which TenantGate intercepts (SPEC 3).
///
/// Every host is read through `HostName.canonical` first, so `LOGIN.MicrosoftOnline.com.` is the same host as
/// `login.microsoftonline.com`; a name that is not a canonical host name is nobody's STS and is never intercepted.
package enum STSHosts {
    /// Hosts whose clients pin or present device certificates: interception would break them (ENTRA-FACTS 3). Each
    /// cloud's device host is under its login host, which is otherwise intercepted with every subdomain (review 44
    /// F2: the sovereign clouds' were taken in when their regional names were).
    package static let neverIntercepted: Set<String> = Set(
        ["enterpriseregistration.windows.net"]
            + EntraCloud.allCases.compactMap { $0.loginHosts.first.map { "device." + $0 } }
    )

    /// STSs that issue their own, non-Entra tokens (SPEC 2.3; ENTRA-FACTS 6), with the path of each one's token
    /// endpoint: Azure DevOps', and the Microsoft account STS of personal accounts, whose tokens are opaque to anyone
    /// but Microsoft. Intercepted so that every token they hand over is recorded (`unenforced`) or refused
    /// (`--non-entra-sts block`): unintercepted, `login.live.com`'s passed unseen (review 36 F2).
    package static let nonEntraTokenPaths: [String: [StaticString]] = [
        "app.vssps.visualstudio.com": ["oauth2", "token"], "login.live.com": ["oauth20_token.srf"],
    ]
    package static let knownNonEntra = Set(nonEntraTokenPaths.keys)

    /// The Microsoft account STS. Its access and refresh tokens are opaque, but the ID token it hands over is in
    /// Entra's v2 format, issued for the personal-accounts tenant: the one tenant it speaks for, and judged as such.
    package static let microsoftAccountSTS = "login.live.com"

    /// Domains none of whose subdomains is intercepted: device registration answers on per-tenant subdomains too.
    package static let neverInterceptedSuffixes = [".enterpriseregistration.windows.net"]

    /// Entra hosts of the global cloud outside its alias set: the v1 issuer host and Seamless SSO (ENTRA-FACTS 1).
    private static let otherGlobalHosts: Set<String> = ["sts.windows.net", "autologon.microsoftazuread-sso.com"]

    /// Parent domains whose every subdomain is taken for a global Entra STS, so that no front end of ESTS is
    /// tunnelled unjudged: regional endpoints (`westus2.login.microsoft.com`), Entra External ID
    /// (`<sub>.ciamlogin.com`, ENTRA-FACTS 6), and every `*.microsoftonline.com` and `*.microsoftonline-p.com` name
    /// (`loginex.microsoftonline.com`, `login.microsoftonline-p.com`, `ccs.login.microsoftonline.com`,
    /// `certauth.login.microsoftonline.com` among them). The pinned device-registration hosts stay excluded
    /// (`neverIntercepted`).
    private static let globalHostSuffixes = [
        ".login.microsoft.com", externalIDSuffix, ".microsoftonline.com", ".microsoftonline-p.com",
    ]
    private static let externalIDSuffix = ".ciamlogin.com"

    /// Parent domains whose every subdomain is taken for the Entra STS of a cloud, longest first, so that the most
    /// specific one names the cloud: the global ones above, and each cloud's login and mTLS hosts, under which
    /// MSAL builds its regional token hosts (`westus2.login.microsoftonline.us`, `eastus.mtlsauth.microsoft.com`,
    /// `eastus.mtlsauth.partner.microsoftonline.cn`; review 42 found these tunnelled unjudged).
    private static let cloudSuffixes: [(suffix: String, cloud: EntraCloud)] = {
        let perCloud = EntraCloud.allCases.flatMap { cloud in
            (cloud.loginHosts + [cloud.mtlsHost]).map { (suffix: "." + $0, cloud: cloud) }
        }
        return (globalHostSuffixes.map { (suffix: $0, cloud: EntraCloud.global) } + perCloud)
            .sorted { $0.suffix.utf8.count > $1.suffix.utf8.count }
    }()

    /// Every parent domain whose subdomains are intercepted as an Entra STS, sorted: what a proxy auto-configuration
    /// file and the wildcard leaves name.
    package static let interceptedSuffixes: [String] = Set(cloudSuffixes.map(\.suffix)).sorted()

    /// The Entra STS names whose addresses the proxy tracks, so that a CONNECT by another name to one of those
    /// addresses cannot pass as an ordinary tunnel: every cloud's login and mTLS hosts, the v1 issuer host, and the
    /// `*.microsoftonline.com` / `*.microsoftonline-p.com` front ends that serve token endpoints.
    package static let entraNamesToTrack: [String] =
        EntraCloud.allCases.flatMap { $0.loginHosts + [$0.mtlsHost] } + otherGlobalHosts.sorted() + [
            "loginex.microsoftonline.com", "login.microsoftonline-p.com", "ccs.login.microsoftonline.com",
        ]

    /// Every STS name intercepted by itself (each cloud's login and mTLS hosts, the v1 issuer host, Seamless SSO,
    /// the known non-Entra STSs), sorted; `interceptedSuffixes` names the rest. What a proxy auto-configuration file
    /// lists.
    package static let interceptedNames: [String] =
        (Array(cloudByHost.keys) + Array(mtlsCloudByHost.keys) + Array(otherGlobalHosts) + Array(knownNonEntra))
        .sorted()

    /// The hosts of each cloud's alias sets: the only ones its issuers name.
    private static let cloudByHost: [String: EntraCloud] = {
        var map: [String: EntraCloud] = [:]
        for cloud in EntraCloud.allCases {
            for host in cloud.loginHosts { map[host] = cloud }
        }
        return map
    }()

    private static let mtlsCloudByHost = Dictionary(uniqueKeysWithValues: EntraCloud.allCases.map { ($0.mtlsHost, $0) })

    /// The cloud whose Entra STS answers at `host` (no port; any case, one trailing dot allowed), or nil.
    package static func entraCloud(forHost host: String) -> EntraCloud? {
        HostName.canonical(host).flatMap(entraCloud(forCanonicalHost:))
    }

    package static func isKnownNonEntraSTS(_ host: String) -> Bool {
        HostName.canonical(host).map(knownNonEntra.contains) ?? false
    }

    /// Entra STS hosts of every cloud, known non-Entra STSs, and configured resource hosts; never the excluded ones.
    /// `extraHosts` are compared with the canonical host, so they should be canonical (`HostName.canonical`) too.
    package static func shouldIntercept(_ host: String, extraHosts: Set<String>) -> Bool {
        guard let name = HostName.canonical(host), !neverIntercepted.contains(name),
            !neverInterceptedSuffixes.contains(where: { isSubdomain(name, of: $0) })
        else { return false }
        return entraCloud(forCanonicalHost: name) != nil || knownNonEntra.contains(name) || extraHosts.contains(name)
    }

    /// `entraCloud(forHost:)` for a host already canonical.
    package static func entraCloud(forCanonicalHost host: String) -> EntraCloud? {
        if let cloud = cloudByHost[host] ?? mtlsCloudByHost[host] { return cloud }
        guard !neverIntercepted.contains(host) else { return nil }
        if otherGlobalHosts.contains(host) { return .global }
        return cloudSuffixes.first { isSubdomain(host, of: $0.suffix) }?.cloud
    }

    /// The cloud of a v2 issuer's host (canonical): only the alias hosts and External ID's `ciamlogin.com` hosts
    /// appear in issuers (ENTRA-FACTS 1, 6), so regional and Seamless SSO hosts are not accepted there.
    static func issuerCloud(forCanonicalHost host: String) -> EntraCloud? {
        cloudByHost[host] ?? (isSubdomain(host, of: externalIDSuffix) ? .global : nil)
    }

    /// Whether `host` is `label(s)` + `suffix` (which starts with a dot); bytes, not characters.
    private static func isSubdomain(_ host: String, of suffix: String) -> Bool {
        host.utf8.count > suffix.utf8.count && host.utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
    }
}

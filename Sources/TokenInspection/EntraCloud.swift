/// A Microsoft cloud whose Entra STS TenantGate recognises (ENTRA-FACTS 1). Raw values are Graph's
/// `allowedCloudEndpoints` spellings where Graph has one.
package enum EntraCloud: String, Sendable, CaseIterable, Hashable {
    case global = "microsoftonline.com"
    case usGovernment = "microsoftonline.us"
    case china = "partner.microsoftonline.cn"
    case germany = "microsoftonline.de"
    case franceBleu = "sovcloud-identity.fr"
    case germanyDelos = "sovcloud-identity.de"
    case singaporeGov = "sovcloud-identity.sg"

    /// Token hosts of the cloud's alias sets (the first is the preferred network host).
    package var loginHosts: [String] {
        switch self {
        case .global: ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com"]
        case .usGovernment: ["login.microsoftonline.us", "login.usgovcloudapi.net", "login-us.microsoftonline.com"]
        case .china: ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"]
        case .germany: ["login.microsoftonline.de"]
        case .franceBleu: ["login.sovcloud-identity.fr"]
        case .germanyDelos: ["login.sovcloud-identity.de"]
        case .singaporeGov: ["login.sovcloud-identity.sg"]
        }
    }

    /// The cloud's mTLS proof-of-possession token host, which MSAL uses in place of the login host
    /// (`login.` becomes `mtlsauth.`; the global cloud's is `mtlsauth.microsoft.com`), and under which it builds the
    /// regional ones (`eastus.mtlsauth.microsoft.com`).
    package var mtlsHost: String {
        self == .global ? "mtlsauth.microsoft.com" : "mtlsauth." + rawValue
    }
}

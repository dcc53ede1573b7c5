/// The Microsoft clouds `allowedCloudEndpoints` may name (ENTRA-FACTS 4): Azure Government and Azure operated by
/// 21Vianet, seen from any other cloud, and the commercial cloud seen from them.
enum AllowedCloudEndpoint: String, CaseIterable {
    case commercial = "microsoftonline.com"
    case usGovernment = "microsoftonline.us"
    case china = "partner.microsoftonline.cn"

    static var spellings: String { allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") }
}

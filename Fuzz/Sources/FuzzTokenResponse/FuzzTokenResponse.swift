import LibFuzzerDriver
import TokenInspection

// Token endpoint answers and other token-carrying responses: `TokenResponseInspector.inspect(body:endpoint:)`
// (JSONObjectScanner, then the JWT claim reader on the tokens found) for a v2 Entra endpoint, and
// `TokenCarriers.scan` as JSON, as an HTML form_post page (SAMLResponse and wresult fields among them) and as a
// WS-Trust answer, with the input as a redirect's `Location` too.

private let endpoint: TokenEndpoint = {
    guard
        let endpoint = TokenEndpoint.match(
            host: "login.microsoftonline.com",
            path: "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        )
    else { fatalError("the fuzz target's token endpoint is not recognised") }
    return endpoint
}()

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzTokenResponse_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let evidence = TokenResponseInspector.inspect(body: bytes, endpoint: endpoint)
    checkEvidence(evidence)
    // The same bytes through the non-contiguous path (copied into an array by the scanner) read the same; that copy
    // runs unspecialised generic code, slow per byte, so short inputs only.
    if bytes.count <= 128, TokenResponseInspector.inspect(body: bytes.lazy.map { $0 }, endpoint: endpoint) != evidence {
        fatalError("contiguous and non-contiguous bodies read differently")
    }

    let location = String(decoding: bytes, as: UTF8.self)
    for contentType in ["application/json", "text/html; charset=utf-8", "application/soap+xml"] {
        let carriers = TokenCarriers.scan(contentTypes: [contentType], body: bytes, location: location)
        if carriers.idToken != nil || carriers.accessToken != nil {
            guard carriers.carriesTokens else { fatalError("carriers with a token do not carry tokens") }
        }
        checkEvidence(TokenResponseInspector.inspect(carriers, endpoint: endpoint))
    }
    _ = TokenCarriers.scan(contentTypes: [], body: bytes, location: nil)
    return 0
}

/// What an answer shows is bounded and consistent: a sign-in tenant only from an Entra token, with its source.
private func checkEvidence(_ evidence: TokenResponseEvidence) {
    if evidence.signInTenant != nil {
        guard evidence.isSuccess, evidence.isEntraToken, evidence.tokenSource != .none, evidence.issuerCloud != nil
        else {
            fatalError("a sign-in tenant without an Entra token: \(evidence)")
        }
    } else if evidence.isSuccess, evidence.unreadableReason == nil {
        fatalError("a successful answer with no tenant and no reason")
    }
    guard (evidence.errorCode?.count ?? 0) <= 64, (evidence.clientInfoHomeObjectID?.count ?? 0) <= 64,
        evidence.groupIDs.count <= 256
    else { fatalError("evidence exceeds its limits") }
}

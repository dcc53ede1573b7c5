import LibFuzzerDriver
import TokenInspection

// `TokenRequestSummary(formBody:)`: the form body of a token request. No stored value exceeds 512 bytes, only
// `client_id` and `grant_type` are reported repeated, and the non-contiguous path reads short bodies the same.

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzFormBody_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let summary = TokenRequestSummary(formBody: bytes)
    for (name, value) in [
        ("client_id", summary.clientID), ("grant_type", summary.grantType), ("scope", summary.scope),
        ("resource", summary.resource),
    ] {
        if let value, value.utf8.count > 512 { fatalError("\(name) keeps \(value.utf8.count) bytes") }
    }
    if let repeated = summary.repeatedField, repeated != "client_id", repeated != "grant_type" {
        fatalError("repeated field \(repeated) is not one decisions rest on")
    }
    // The non-contiguous path copies through unspecialised generic code, slow per byte: short inputs only.
    if bytes.count <= 128, TokenRequestSummary(formBody: bytes.lazy.map { $0 }) != summary {
        fatalError("contiguous and non-contiguous bodies read differently")
    }
    return 0
}

import LibFuzzerDriver
import TokenInspection

// `JWTClaimReader.claims(of:)` on the input as a compact token (String and bytes), and on the input as the payload
// of a JWS, so that mutations reach the JSON claim reader without having to keep base64url valid.

/// `{"alg":"ES256","typ":"JWT"}`, as the mock STS signs.
private let header = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9"
private let signature = "c2lnbmF0dXJl"

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzJWTClaims_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let fromBytes = JWTClaimReader.claims(of: bytes)
    if let text = String(validating: bytes, as: UTF8.self) {
        let fromString = JWTClaimReader.claims(of: text)
        guard fromString == fromBytes else {
            fatalError("String and bytes read differently: \(fromString) vs \(fromBytes)")
        }
    } else {
        _ = JWTClaimReader.claims(of: String(decoding: bytes, as: UTF8.self))
    }
    let periods = bytes.lazy.filter { $0 == UInt8(ascii: ".") }.count
    if case .success = fromBytes, periods != 2 { fatalError("a token of \(periods + 1) parts read as a JWS") }
    if periods == 4 {
        guard case .failure(let error) = fromBytes, error.code == .encrypted else {
            fatalError("a five-part token not reported as encrypted")
        }
    }

    let token = header + "." + base64URL(bytes) + "." + signature
    switch JWTClaimReader.claims(of: token) {
    case .success(let claims):
        _ = claims.applicationID
    case .failure(let error):
        guard error.code == .malformedClaims else { fatalError("a well-formed JWS is not a JWS: \(error)") }
    }
    return 0
}

/// Base64url without padding (RFC 7515 2).
private func base64URL(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
        let chunk = bytes[index..<min(index + 3, bytes.count)]
        var value = 0
        for byte in chunk { value = value << 8 | Int(byte) }
        value <<= 8 * (3 - chunk.count)
        for position in 0...chunk.count { out.append(alphabet[(value >> (18 - 6 * position)) & 0x3F]) }
        index += 3
    }
    return String(decoding: out, as: UTF8.self)
}

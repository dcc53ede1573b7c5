import LibFuzzerDriver
import TenantPolicy
import TokenInspection

// Request targets inside an intercepted session (HARDENING-FACTS 6): `RequestTarget.canonicalize`, the token
// endpoint matcher on its result, and `HostName.canonical`. Any input gives a value or an error; the invariants
// below trap when broken.

private let sessionHost = "login.microsoftonline.com"
private let sessionPort = 443
private let absolutePrefix = "https://" + sessionHost
private let matcher = TokenEndpointMatcher(host: sessionHost)

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzRequestTarget_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let raw = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    checkHostName(raw)
    let result = RequestTarget.canonicalize(raw, sessionHost: sessionHost, sessionPort: sessionPort)
    switch result {
    case .failure(let error):
        checkDescription(error)
    case .success(let target):
        checkCanonical(target, raw: raw)
    }
    // The absolute form of an origin-form target names the same resource: same canonical form, or same refusal.
    if raw.utf8.first == UInt8(ascii: "/"), raw.utf8.count + absolutePrefix.utf8.count <= RequestTarget.maximumLength {
        let absolute = RequestTarget.canonicalize(
            absolutePrefix + raw,
            sessionHost: sessionHost,
            sessionPort: sessionPort
        )
        switch (result, absolute) {
        case (.success(let origin), .success(let viaAbsolute)):
            guard origin == viaAbsolute else {
                fatalError("absolute form canonicalises differently: \(origin) vs \(viaAbsolute)")
            }
        case (.failure(let origin), .failure(let viaAbsolute)):
            guard origin.reason == viaAbsolute.reason else {
                fatalError("absolute form refused for another reason: \(origin.reason) vs \(viaAbsolute.reason)")
            }
        default:
            fatalError("origin form and absolute form disagree: \(result) vs \(absolute)")
        }
    }
    return 0
}

/// The canonical form is canonical: it starts with `/`, has no empty, `.` or `..` segment (so no `//`, `/./`,
/// `/../`), no `;params`, and canonicalising it again changes nothing. The matcher accepts it either way.
private func checkCanonical(_ target: CanonicalTarget, raw: String) {
    let path = target.path
    guard path.utf8.first == UInt8(ascii: "/") else { fatalError("canonical path does not start with /: \(path)") }
    guard !path.contains("//"), !path.contains("/./"), !path.contains("/../"), !path.contains(";") else {
        fatalError("canonical path keeps an empty or dot segment or params: \(path)")
    }
    let segments = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
    for (index, segment) in segments.enumerated() {
        // Only the last segment may be empty (a trailing slash).
        guard !segment.isEmpty || index == segments.count - 1 else { fatalError("empty segment in \(path)") }
        guard !segment.elementsEqual(".".utf8), !segment.elementsEqual("..".utf8) else {
            fatalError("dot segment in canonical path \(path)")
        }
        guard !readsAsDots(Array(segment)) else { fatalError("a segment servers read as dots or nothing: \(path)") }
    }
    // The organisation reader takes any canonical path: a name it gives is one Azure DevOps could have.
    if let organization = AzureDevOpsOrganization.of(host: "dev.azure.com", path: target.originForm) {
        guard AzureDevOpsOrganizationName.canonical(organization) == organization else {
            fatalError("organisation \(organization) is not canonical, from \(path)")
        }
    }
    if let query = target.query, !raw.hasSuffix("?" + query) { fatalError("query not kept as sent: \(query)") }
    switch RequestTarget.canonicalize(target.originForm, sessionHost: sessionHost, sessionPort: sessionPort) {
    case .success(let again):
        guard again == target else { fatalError("canonicalisation is not idempotent: \(target) then \(again)") }
    case .failure(let error):
        fatalError("the canonical form \(target.originForm) is refused: \(error.reason)")
    }
    let endpoint = matcher.match(path: target.originForm)
    guard endpoint == TokenEndpoint.match(host: sessionHost, path: target.originForm) else {
        fatalError("TokenEndpointMatcher and TokenEndpoint.match disagree on \(target.originForm)")
    }
    if let endpoint {
        guard endpoint.host == sessionHost, endpoint.tenantSegment != nil else {
            fatalError("odd endpoint \(endpoint)")
        }
        _ = endpoint.tenantSegmentKind
    }
}

/// A refusal's description quotes at most 64 characters of the target, escaped: under 200 characters, nothing
/// outside printable ASCII but the ellipsis, so it cannot forge a log line.
private func checkDescription(_ error: RequestTargetError) {
    let text = error.description
    guard text.count < 200 else { fatalError("refusal description is \(text.count) characters long") }
    for scalar in text.unicodeScalars where !(scalar.value >= 0x20 && scalar.value < 0x7F) && scalar != "…" {
        fatalError("refusal description carries scalar U+\(String(scalar.value, radix: 16))")
    }
}

/// A canonical host name is lower-case, has no trailing dot or brackets, and is its own canonical form.
private func checkHostName(_ raw: String) {
    guard let host = HostName.canonical(raw) else { return }
    guard !host.isEmpty, !host.hasSuffix("."), !host.hasPrefix("["), host == host.lowercased() else {
        fatalError("odd canonical host \(host)")
    }
    guard HostName.canonical(host) == host else { fatalError("HostName.canonical is not idempotent on \(host)") }
    _ = TokenEndpointMatcher(host: raw).match(path: "/common/oauth2/v2.0/token")
}

/// Whether a reader that decodes every escape, cuts at `;` and drops trailing dots and spaces (IIS) sees nothing
/// but dots in a segment that is not empty: an oracle written apart from the canonicaliser's own rule.
private func readsAsDots(_ segment: [UInt8]) -> Bool {
    var decoded: [UInt8] = []
    var index = 0
    while index < segment.count {
        var byte = segment[index]
        if byte == UInt8(ascii: "%"), index + 2 < segment.count,
            let value = UInt8(String(decoding: segment[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
        {
            byte = value
            index += 2
        }
        index += 1
        if byte == UInt8(ascii: ";") { break }
        decoded.append(byte)
    }
    return !segment.isEmpty && decoded.allSatisfy { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: " ") }
}

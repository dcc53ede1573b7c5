import LibFuzzerDriver
import TenantPolicy
import TokenInspection

// `ResourceCredentials.read`: a resource request's Authorization header, target and form body (the input cut in
// three at its first two NUL bytes), with a Cookie when the input's length is odd. A bearer token is never longer
// than 16 KiB and never holds a space or a comma (two credentials in one line are refused), at most 16 credentials
// are read (one from each named carrier, the rest tokens found elsewhere, each once), the cookie counts exactly when
// the header holds no bearer, every credential that is no bearer has its value kept apart, and a refusal names why. `HostPattern(parsing:)` on the header part: a pattern that parses reads back the same from its description,
// and matches what a map of it finds.

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzResourceCredentials_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let parts = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
    let header = String(decoding: parts[0], as: UTF8.self)
    let target = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : "/"
    let form = parts.count > 2 ? Array(parts[2]) : nil
    let cookie = count % 2 == 1 ? "FedAuth=session" : nil
    let authorization = header.isEmpty ? [] : [header]
    switch ResourceCredentials.read(authorization: authorization, target: target, formBody: form, cookie: cookie) {
    case .failure(let reason):
        if reason.description.isEmpty { fatalError("a refusal without a reason") }
    case .success(let read):
        if read.credentials.count > ResourceCredentials.maximumTokens {
            fatalError("\(read.credentials.count) credentials, past \(ResourceCredentials.maximumTokens)")
        }
        let headerBearer = header.isEmpty ? false : { if case .bearer = read.credentials[0] { true } else { false } }()
        if read.credentials.contains(.cookie) != (cookie != nil && !headerBearer) {
            fatalError("the cookie counted wrongly (cookie \(cookie != nil), header bearer \(headerBearer))")
        }
        let unread = read.credentials.filter { if case .bearer = $0 { false } else { true } }
        if read.unreadValues.count != unread.count {
            fatalError("\(read.unreadValues.count) values kept apart for \(unread.count) unreadable credentials")
        }
        for case .bearer(let token) in read.credentials where token.utf8.count > 16 << 10 {
            fatalError("a bearer of \(token.utf8.count) bytes")
        }
        if case .bearer(let token)? = header.isEmpty ? nil : read.credentials.first,
            token.contains(" ") || token.contains(",")
        {
            fatalError("the header's bearer '\(token.prefix(40))' holds a space or a comma")
        }
    }
    if let pattern = HostPattern(parsing: header) {
        if HostPattern(parsing: pattern.description) != pattern { fatalError("\(pattern) does not read back") }
        var map = HostPatternMap<Int>()
        map.set(1, for: pattern)
        let probe: String
        switch pattern {
        case .exact(let name): probe = name
        case .subdomains(let parent): probe = "a." + parent
        }
        if pattern.matches(probe) != (map.value(for: probe) == 1) {
            fatalError("\(pattern) and its map disagree on \(probe)")
        }
    }
    return 0
}

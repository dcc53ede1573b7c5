import LibFuzzerDriver
import NetworkPolicy
import TokenInspection

// Host names as clients write them (the CONNECT line, an absolute-form target, the Host header, a TLS server name):
// `HostName.canonical`, `HostPort(parsing:)` and `SessionHostHeader.problem`, which every host comparison rests on.
//
// What is checked: a canonical name is its own canonical name, lower-case, without a trailing dot or brackets, at
// most 253 bytes; a `HOST:PORT` whose host is canonical prints as text that parses back to the same host and port
// (the parent proxy's CONNECT line and the audit lines are written that way); the session's own host, in any letter
// case and with or without its port, names the session, and a second Host header never does.

private let session = HostPort(host: "login.microsoftonline.com", port: 443)

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzHostNames_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let canonical = HostName.canonical(text) {
        guard HostName.canonical(canonical) == canonical else {
            fatalError("\(canonical.debugDescription) is not its own canonical name")
        }
        guard canonical.utf8.count <= 253, !canonical.hasSuffix("."),
            !canonical.utf8.contains(where: { (0x41...0x5A).contains($0) || $0 == 0x5B || $0 == 0x5D })
        else {
            fatalError("a canonical name with capitals, brackets, a trailing dot or past 253 bytes: \(canonical)")
        }
    }
    if let parsed = HostPort(parsing: text, defaultPort: 443), let host = HostName.canonical(parsed.host) {
        let written = HostPort(host: host, port: parsed.port)
        guard HostPort(parsing: written.description) == written else {
            fatalError("\(written.description.debugDescription) does not parse back to itself")
        }
    }
    let spelled = ["LOGIN.microsoftonline.com", "login.microsoftonline.com:443", "login.microsoftonline.com."]
    for name in spelled where SessionHostHeader.problem([name], session: session) != nil {
        fatalError("the session's own host spelled \(name) does not name it")
    }
    _ = SessionHostHeader.problem([text], session: session)
    guard SessionHostHeader.problem([text, "login.microsoftonline.com"], session: session) != nil else {
        fatalError("two Host headers named the session")
    }
    return 0
}

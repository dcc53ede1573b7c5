import CrossTenantAccess
import Foundation
import LibFuzzerDriver
import PolicyFiles
import TenantPolicy

// Policy files (SPEC 4) as the admin API receives them: `PolicyDirectoryLoader.load(files:)` on the input as
// `x.yaml` beside a fixed `directory.yaml` (the project's YAML, Power Platform JSON and Graph JSON shapes are told
// apart by content), as `x.json` alone when it looks like JSON, and as `directory.yaml` itself; and Graph's
// crossTenantAccessPolicy document decoded straight from the bytes. Any input gives a bundle or diagnostics.

/// The repository's `policies/directory.yaml`, so that domain rules in the input can resolve.
private let directory = PolicyDirectoryLoader.SourceFile(
    name: "policies/directory.yaml",
    contents: """
        tenants:
          - tenantId: 0da59725-89fe-4a2f-bf22-fd4536c9baac
            displayName: Fabrikam
            domains: [fabrikam.onmicrosoft.com, fabrikam.com]
          - tenantId: 8ac90d1b-d459-4375-a421-dd0005f9d0d1
            displayName: Northwind
            domains: [northwind.onmicrosoft.com]
          - tenantId: 4760d329-4de4-4d52-bfed-ecc7ef0af950
            displayName: Adatum
            domains: [adatum.onmicrosoft.com]
        """
)

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzPolicyFiles_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    // Files are read as UTF-8 text (PolicyDirectoryLoader.readSourceFiles refuses anything else).
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    let looksLikeJSON = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "{")

    check(PolicyDirectoryLoader.load(files: [directory, .init(name: "policies/x.yaml", contents: text)]))
    if looksLikeJSON {
        check(PolicyDirectoryLoader.load(files: [.init(name: "policies/x.json", contents: text)]))
        checkGraphDocument(Data(bytes))
    } else {
        check(PolicyDirectoryLoader.load(files: [.init(name: "policies/directory.yaml", contents: text)]))
    }
    return 0
}

/// A refused set names at least one error; an accepted one carries warnings only and a 16-digit version.
private func check(_ result: Result<PolicyBundle, PolicyValidationError>) {
    switch result {
    case .failure(let error):
        guard !error.errors.isEmpty else { fatalError("a refused policy set without an error: \(error)") }
        for diagnostic in error.diagnostics {
            guard !diagnostic.message.isEmpty, (diagnostic.line ?? 0) >= 0 else {
                fatalError("odd diagnostic \(diagnostic)")
            }
            _ = diagnostic.description
        }
    case .success(let bundle):
        guard !bundle.warnings.contains(where: { $0.severity == .error }) else { fatalError("accepted with errors") }
        guard bundle.version.utf8.count == 16 else { fatalError("version \(bundle.version)") }
    }
}

/// A document that decodes prints as one that decodes again: what the admin API writes must load back.
private func checkGraphDocument(_ data: Data) {
    guard let policy = try? CrossTenantAccessPolicy.decode(from: data) else { return }
    _ = policy.validate(owner: nil)
    let printed: Data
    do {
        printed = try policy.encoded(pretty: false)
    } catch {
        fatalError("a decoded policy cannot be printed: \(error)")
    }
    do {
        _ = try CrossTenantAccessPolicy.decode(from: printed)
    } catch {
        fatalError("a printed policy does not decode again: \(error)\n\(String(decoding: printed, as: UTF8.self))")
    }
}

// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for the parsers that read hostile input (see README.md; HARDENING-FACTS 5).
//
// SwiftPM hands a path dependency only its products, and the root package exports its modules as no library
// product, so the modules under test are compiled here from the root's own sources: `Sources/<Module>` in this
// package is a symlink to `../../Sources/<Module>`. Nothing is copied; the root Package.swift is unchanged.
// Build and run through `scripts/fuzz.sh`, which adds `-sanitize=fuzzer,address`.

/// The root package's settings, so the linked sources compile exactly as they do there.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// One executable per fuzz target: a single file defining `LLVMFuzzerTestOneInput`, and `<Target>_main`, the name
/// SwiftPM links as `main`, which starts libFuzzer's driver through `LibFuzzerDriver`.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["LibFuzzerDriver"] + dependencies, swiftSettings: swiftSettings)
}

let package = Package(
    name: "TenantGateFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // The root's modules under test (symlinked sources, same dependencies as in the root Package.swift).
        .target(name: "TenantPolicy", swiftSettings: swiftSettings),
        .target(name: "Plumbing", swiftSettings: swiftSettings),
        .target(name: "NetworkPolicy", swiftSettings: swiftSettings),
        .target(name: "CrossTenantAccess", dependencies: ["TenantPolicy"], swiftSettings: swiftSettings),
        .target(
            name: "PolicyFiles",
            dependencies: ["TenantPolicy", "CrossTenantAccess", "Plumbing", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TokenInspection",
            dependencies: [
                "TenantPolicy", "NetworkPolicy", .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            swiftSettings: swiftSettings
        ),
        // Starts libFuzzer's driver (`LLVMFuzzerRunDriver`) from an executable's renamed entry point.
        .target(name: "LibFuzzerDriver"),
        // The fuzz targets.
        fuzzTarget("FuzzRequestTarget", ["TokenInspection", "TenantPolicy"]),
        fuzzTarget("FuzzTokenResponse", ["TokenInspection"]),
        fuzzTarget("FuzzJWTClaims", ["TokenInspection"]),
        fuzzTarget("FuzzFormBody", ["TokenInspection"]),
        fuzzTarget("FuzzPolicyFiles", ["PolicyFiles", "CrossTenantAccess", "TenantPolicy"]),
        fuzzTarget("FuzzClientHello", ["NetworkPolicy"]),
        fuzzTarget("FuzzResourceCredentials", ["TokenInspection", "TenantPolicy"]),
        fuzzTarget("FuzzProxyProtocolHeader", ["NetworkPolicy"]),
        fuzzTarget("FuzzHostNames", ["TokenInspection", "NetworkPolicy"]),
    ]
)

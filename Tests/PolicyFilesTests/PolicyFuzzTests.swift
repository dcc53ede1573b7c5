import PolicyFiles
import Testing

/// Seeded, bounded fuzzing of policy files: every input gives a bundle or diagnostics, never a trap.
struct PolicyFuzzTests {
    @Test func mutatedPolicyFilesNeverTrap() {
        let seeds = [
            "tenantId: bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0\nisolation:\n  enabled: true\n  rules:\n    - {tenant: '*', direction: both}\n",
            #"{"properties": {"tenantId": "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0", "isDisabled": false, "allowedTenants": [{"tenantId": "*", "direction": {"inbound": true}}]}}"#,
        ].map { Array($0.utf8) }
        let alphabet = Array("{}[]:,\"'*- \n\t&!|>0123456789abcdefTtrue".utf8)
        var state: UInt64 = 0x5EED
        for iteration in 0..<2_000 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<4 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let position = Int(state >> 33) % bytes.count
                bytes[position] = alphabet[Int(state >> 17) % alphabet.count]
            }
            let text = String(decoding: bytes, as: UTF8.self)
            _ = PolicyDirectoryLoader.load(files: [
                .init(name: iteration % 2 == 0 ? "f.yaml" : "f.json", contents: text)
            ])
        }
    }
}

import Foundation
import PolicyFiles
import TenantPolicy

/// A change costs the change: a set of 2,000 governed tenants × 500 rules (1,000,000 rules, Power Platform JSON) is
/// parsed once, then one tenant's document is changed again and again (one rule removed, then restored); each change
/// makes the next validated set. Also times the first load, to compare.
enum PolicyChangeBenchmark {
    static func run(tenants: Int, rules: Int, changes: Int) -> [BenchmarkResult] {
        let files = (0..<tenants).map { number in
            PolicyDirectoryLoader.SourceFile(name: "policies/\(tenant(number)).json", contents: document(number, rules))
        }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        var library = PolicyLibrary(files: files)
        let load = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let edited = files[tenants / 2]
        let without = document(tenants / 2, rules, skippingFirst: true)
        var checksum = 0
        let changeStart = DispatchTime.now().uptimeNanoseconds
        for change in 0..<changes {
            library = library.updating([edited.name: change % 2 == 0 ? without : edited.contents])
            if case .success(let bundle) = library.outcome { checksum &+= bundle.isolation.tenants.count }
        }
        let changed = Double(DispatchTime.now().uptimeNanoseconds - changeStart) / 1e9
        return [
            BenchmarkResult(
                name: "policy load \(tenants * rules) rules",
                operations: 1,
                seconds: load,
                checksum: 0
            ),
            BenchmarkResult(
                name: "policy change, \(tenants * rules) rules",
                operations: changes,
                seconds: changed,
                checksum: checksum
            ),
        ]
    }

    private static func tenant(_ number: Int) -> TenantID {
        TenantID(high: 0x2900_0000_0000_0000 | UInt64(number), low: UInt64(number) &* 0x9E37_79B9_7F4A_7C15)
    }

    private static func document(_ number: Int, _ rules: Int, skippingFirst: Bool = false) -> String {
        let allowed = ((skippingFirst ? 1 : 0)..<rules).map { index in
            let other = tenant(1_000_000 + number * rules + index)
            return
                #"    {"tenantId":"\#(other)","tenantDisplayName":"Partner \#(index)","direction":{"inbound":true,"outbound":\#(index % 2 == 0)}}"#
        }
        return """
            {
              "properties": {
                "tenantId": "\(tenant(number))",
                "isDisabled": false,
                "allowedTenants": [
            \(allowed.joined(separator: ",\n"))
                ]
              }
            }

            """
    }
}

import Foundation
import TenantPolicy
import Testing

@testable import PolicyFiles

/// A change costs the change: one document is parsed again, unchanged tenants' rules are shared, what spans
/// documents is still checked, and the version kept up to date equals a full recomputation.
struct PolicyLibraryTests {
    /// A deterministic tenant ID from a number.
    static func tenant(_ number: Int) -> TenantID {
        TenantID(String(format: "%08x-0000-4000-8000-%012x", number, number))!
    }

    /// A Power Platform document for governed tenant `number` with `rules` rules naming tenants outside the set.
    static func powerPlatform(_ number: Int, rules: Int, skipping skipped: Int? = nil) -> String {
        let allowed = (0..<rules).filter { $0 != skipped }.map { index in
            let other = tenant(1_000_000 + number * 1_000 + index)
            let inbound = index % 3 != 2
            let outbound = index % 3 != 1
            return #"    {"tenantId": "\#(other)", "tenantDisplayName": "Partner \#(index)", "#
                + #""direction": {"inbound": \#(inbound), "outbound": \#(outbound)}}"#
        }
        return """
            {
              "properties": {
                "tenantId": "\(tenant(number))",
                "isDisabled": false,
                "allowedTenants": [
            \(allowed.joined(separator: ",\n"))
                ]
              },
              "id": "/providers/PowerPlatform.Governance/v1/tenants/\(tenant(number))/tenantIsolationPolicy",
              "name": "\(tenant(number))",
              "type": "Microsoft.PowerPlatform/tenantIsolationPolicy"
            }

            """
    }

    static func files(tenants: Int, rules: Int) -> [PolicyDirectoryLoader.SourceFile] {
        (0..<tenants).map { .init(name: "policies/\(tenant($0)).json", contents: powerPlatform($0, rules: rules)) }
    }

    @Test func aChangeToOneDocumentParsesThatDocumentOnly() throws {
        let files = Self.files(tenants: 200, rules: 50)
        let library = PolicyLibrary(files: files)
        #expect(library.parsedDocuments == 200)
        let before = try library.outcome.get()
        let creator = Self.tenant(7)
        let removed = Self.tenant(1_000_000 + 7 * 1_000 + 3)
        #expect(before.isolation.decide(creator: creator, signIn: removed).isAllowed)

        let edited = PolicyDirectoryLoader.SourceFile(
            name: files[7].name,
            contents: Self.powerPlatform(7, rules: 50, skipping: 3)
        )
        let next = library.updating([edited.name: edited.contents])
        #expect(next.parsedDocuments == 201)
        let after = try next.outcome.get()
        #expect(!after.isolation.decide(creator: creator, signIn: removed).isAllowed)
        #expect(after.isolation.tenant(creator)?.isolation.ruleCount == 49)

        // Unchanged tenants share their rules with the set before (no second copy of them during a swap).
        let untouched = try #require(before.isolation.tenant(Self.tenant(8))?.isolation)
        #expect(after.isolation.tenant(Self.tenant(8))?.isolation.sharesRules(with: untouched) == true)
        #expect(after.isolation.tenant(creator)?.isolation.sharesRules(with: untouched) == false)

        // The version kept up to date equals a full recomputation, and a fresh load of the same files.
        var editedFiles = files
        editedFiles[7] = edited
        let fresh = try PolicyLibrary(files: editedFiles).outcome.get()
        #expect(after.version == fresh.version)
        #expect(next.version == next.fullyRecomputedVersion)
        #expect(after.version != before.version)

        // The same text again parses nothing; removing a document parses nothing.
        #expect(next.updating([edited.name: edited.contents]).parsedDocuments == 201)
        let without = next.updating([files[9].name: nil])
        #expect(without.parsedDocuments == 201)
        #expect(try without.outcome.get().isolation.tenant(Self.tenant(9)) == nil)
        #expect(without.version == without.fullyRecomputedVersion)
        let freshWithout = PolicyLibrary(files: editedFiles.enumerated().filter { $0.offset != 9 }.map(\.element))
        #expect(try without.outcome.get().version == freshWithout.version)
    }

    @Test func crossDocumentValidationStillRefusesABrokenChange() throws {
        let files =
            Self.files(tenants: 20, rules: 5) + [
                .init(
                    name: "policies/contoso.yaml",
                    contents: """
                        tenantId: \(Self.tenant(900))
                        domains: [contoso.example]
                        isolation:
                          enabled: true
                          rules:
                            - {tenant: fabrikam.example, direction: both}

                        """
                ),
                .init(
                    name: "policies/directory.yaml",
                    contents: "tenants:\n  - {tenantId: \(Self.tenant(901)), domains: [fabrikam.example]}\n"
                ),
            ]
        let library = PolicyLibrary(files: files)
        let contoso = try #require(try library.outcome.get().isolation.tenant(Self.tenant(900)))
        #expect(contoso.isolation.rule(allowing: Self.tenant(901), .inbound) != nil)

        // A second document for a governed tenant.
        let twice = library.updating(["policies/zz-copy.json": Self.powerPlatform(3, rules: 2)])
        #expect(twice.parsedDocuments == library.parsedDocuments + 1)
        let governedTwice = try #require(Self.errors(twice).first)
        #expect(governedTwice.contains("is already governed by policies/\(Self.tenant(3)).json"))

        // The directory loses the domain a rule in an unchanged document names: that document is resolved again.
        let lost = library.updating(["policies/directory.yaml": "tenants: []\n"])
        #expect(Self.errors(lost).contains { $0.contains("domain 'fabrikam.example' does not resolve to a tenant") })
        // …and moving the domain to another tenant moves the rule with it.
        let moved = library.updating([
            "policies/directory.yaml": "tenants:\n  - {tenantId: \(Self.tenant(902)), domains: [fabrikam.example]}\n"
        ])
        let movedContoso = try #require(try moved.outcome.get().isolation.tenant(Self.tenant(900)))
        #expect(movedContoso.isolation.rule(allowing: Self.tenant(902), .inbound) != nil)
        #expect(movedContoso.isolation.rule(allowing: Self.tenant(901), .inbound) == nil)

        // A domain claimed by two tenants.
        let claimed = library.updating([
            "policies/directory.yaml":
                "tenants:\n  - {tenantId: \(Self.tenant(901)), domains: [fabrikam.example, contoso.example]}\n"
        ])
        #expect(Self.errors(claimed).contains { $0.contains("domain 'contoso.example' already belongs to tenant") })

        // A resource host or an Azure DevOps organisation mapped to two tenants by two directory files (`.yaml` and
        // `.yml`): an error, as within one file, not the later file's mapping quietly.
        let directory = "tenants:\n  - {tenantId: \(Self.tenant(901)), domains: [fabrikam.example]}\n"
        let mapped =
            "resourceHosts: {northwind.sharepoint.com: \(Self.tenant(901))}\n"
            + "azureDevOpsOrganizations: {northwindorg: \(Self.tenant(901))}\n"
        let remapped =
            "resourceHosts: {northwind.sharepoint.com: \(Self.tenant(900))}\n"
            + "azureDevOpsOrganizations: {NorthwindOrg: \(Self.tenant(900))}\n"
        let secondDirectory = library.updating([
            "policies/directory.yaml": directory + mapped, "policies/directory.yml": mapped,
        ])
        #expect(Self.errors(secondDirectory).isEmpty)
        let twoOwners = Self.errors(secondDirectory.updating(["policies/directory.yml": remapped]))
        #expect(twoOwners.count == 2, "\(twoOwners)")
        #expect(
            twoOwners.contains {
                $0.contains("'northwind.sharepoint.com' already belongs to tenant \(Self.tenant(901))")
            }
        )
        #expect(twoOwners.contains { $0.contains("'northwindorg' already belongs to tenant \(Self.tenant(901))") })

        // A broken change, then the mended one: each judged against the documents as stored.
        let broken = library.updating(["policies/\(Self.tenant(4)).json": "{\"properties\": {"])
        #expect(!Self.errors(broken).isEmpty)
        let mended = broken.updating(["policies/\(Self.tenant(4)).json": Self.powerPlatform(4, rules: 5)])
        #expect(try mended.outcome.get().version == library.version)
    }

    /// The fast path reads exactly what the general path reads, or leaves the document to it: checked on the
    /// seeded mutations of a Power Platform document (most of which it must leave alone) and on spellings it takes.
    @Test func theFastPathReadsWhatTheGeneralPathReads() throws {
        let seed = Array(Self.powerPlatform(1, rules: 6).utf8)
        let alphabet = Array("{}[]:,\"'*- \n\t\r\\&!0123456789abcdefTtrueflsn".utf8)
        var state: UInt64 = 0x29
        var taken = 0
        for iteration in 0..<3_000 {
            var bytes = seed
            for _ in 0..<(iteration % 3) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let position = Int(state >> 33) % bytes.count
                bytes[position] = alphabet[Int(state >> 17) % alphabet.count]
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let fast = PowerPlatformJSONReader.read(text) else { continue }
            taken += 1
            let (general, diagnostics) = PolicyFileParser.parseGenerally(
                file: "f.json",
                contents: text,
                isDirectory: false
            )
            #expect(diagnostics.isEmpty, "the fast path took a document the general path finds fault with: \(text)")
            #expect(general?.isolation == fast, "the paths read differently: \(text)")
        }
        #expect(taken > 1_000)
        for spelling in [
            #"{"properties":{"tenantId":"\#(Self.tenant(2))","isDisabled":true,"allowedTenants":[]}}"#,
            #"{"properties":{"tenantId":"\#(Self.tenant(2))","isDisabled":false,"allowedTenants":[{"tenantId":"*","direction":{"outbound":true}}]},"id":null}"#,
            "{\n\n \"id\": 7,\n \"properties\": {\"allowedTenants\": [{\"direction\": {\"inbound\": true, \"outbound\": false}, \"tenantId\": \"\(Self.tenant(3))\"}], \"isDisabled\": false, \"tenantId\": \"\(Self.tenant(2))\"}\n}\n",
        ] {
            let fast = try #require(PowerPlatformJSONReader.read(spelling))
            let (general, diagnostics) = PolicyFileParser.parseGenerally(
                file: "f.json",
                contents: spelling,
                isDirectory: false
            )
            #expect(diagnostics.isEmpty)
            #expect(general?.isolation == fast)
        }
        // Left to the general path, which explains: a repeated field, a tenant as a domain, an unknown field.
        for refused in [
            #"{"properties":{"tenantId":"\#(Self.tenant(2))","tenantId":"\#(Self.tenant(2))","isDisabled":true}}"#,
            #"{"properties":{"tenantId":"\#(Self.tenant(2))","isDisabled":true,"allowedTenants":[{"tenantId":"fabrikam.example","direction":{"inbound":true}}]}}"#,
            #"{"properties":{"tenantId":"\#(Self.tenant(2))","isDisabled":true,"extra":1}}"#,
        ] {
            #expect(PowerPlatformJSONReader.read(refused) == nil)
        }
    }

    @Test func aDirectoryRefreshReadsOnlyWhatChanged() throws {
        let manager = FileManager.default
        let directory = manager.temporaryDirectory.appendingPathComponent("library-\(UUID())").path
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: directory) }
        for number in 0..<30 {
            try Self.powerPlatform(number, rules: 10).write(
                toFile: "\(directory)/\(Self.tenant(number)).json",
                atomically: true,
                encoding: .utf8
            )
        }
        var contents = try PolicyDirectoryContents.read(directory).get()
        #expect(contents.library.parsedDocuments == 30)
        #expect(contents.refresh().isEmpty)

        let path = "\(directory)/\(Self.tenant(5)).json"
        // In place, the same size: within the timestamps' granularity only the content tells.
        let edited = Self.powerPlatform(5, rules: 10).replacingOccurrences(of: "Partner 1\"", with: "Partner X\"")
        try edited.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(contents.refresh() == [path])
        #expect(contents.library.parsedDocuments == 31)
        #expect(contents.refresh().isEmpty)
        #expect(contents.library.parsedDocuments == 31)

        try manager.removeItem(atPath: "\(directory)/\(Self.tenant(6)).json")
        #expect(contents.refresh() == ["\(directory)/\(Self.tenant(6)).json"])
        #expect(try contents.library.outcome.get().isolation.tenant(Self.tenant(6)) == nil)
        #expect(contents.library.parsedDocuments == 31)
    }

    /// A policy file named in upper case (`CONTOSO.YAML`) was left out without a word, and its tenant's isolation
    /// with it (review 28). It is an error now, at the first read and when it comes later, until it is renamed.
    @Test func aPolicyFileNamedInAnotherCaseIsAnErrorNotLeftOut() throws {
        let manager = FileManager.default
        let directory = manager.temporaryDirectory.appendingPathComponent("library-\(UUID())").path
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: directory) }
        try Self.powerPlatform(1, rules: 3).write(toFile: "\(directory)/a.json", atomically: true, encoding: .utf8)
        var contents = try PolicyDirectoryContents.read(directory).get()
        #expect((try? contents.library.outcome.get()) != nil)
        let shouting = "\(directory)/\(Self.tenant(2)).JSON"
        try Self.powerPlatform(2, rules: 3).write(toFile: shouting, atomically: true, encoding: .utf8)
        #expect(contents.refresh() == [shouting])
        guard case .failure(let error) = contents.library.outcome else {
            Issue.record("the set is refused while the file is there")
            return
        }
        #expect(error.errors.contains { $0.file == shouting && $0.message.contains("in lower case; rename it") })
        guard case .failure = PolicyDirectoryLoader.load(directory: directory) else {
            Issue.record("a first read refuses it too")
            return
        }
        try manager.moveItem(atPath: shouting, toPath: "\(directory)/\(Self.tenant(2)).json")
        _ = contents.refresh()
        #expect(try contents.library.outcome.get().isolation.tenant(Self.tenant(2)) != nil)
    }

    /// A file stamped past what Int64 nanoseconds since 1970 hold (`touch -d 2300-01-01`, an archive's times): the
    /// watcher's refresh asks about it every second, and trapped on it.
    @Test func aFileStampedCenturiesAheadIsRefreshedWithoutTrapping() throws {
        let manager = FileManager.default
        let directory = manager.temporaryDirectory.appendingPathComponent("library-\(UUID())").path
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: directory) }
        let path = "\(directory)/\(Self.tenant(1)).json"
        try Self.powerPlatform(1, rules: 3).write(toFile: path, atomically: true, encoding: .utf8)
        var times = [timespec(tv_sec: 10_413_792_000, tv_nsec: 0), timespec(tv_sec: 10_413_792_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        var contents = try PolicyDirectoryContents.read(directory).get()
        for _ in 0..<3 { _ = contents.refresh() }
        #expect(try contents.library.outcome.get().isolation.tenant(Self.tenant(1)) != nil)
    }

    /// A name that cannot be `stat`ed (a dangling link, as a ConfigMap volume leaves a removed key's) is an error
    /// while it is there and forgotten once it is gone, whether it was there at the first read or came later: it
    /// was kept for good, and refused every later reload and admin change until a restart.
    @Test(arguments: [true, false])
    func aDanglingLinkIsForgottenOnceRemoved(presentAtFirstRead: Bool) throws {
        let manager = FileManager.default
        let directory = manager.temporaryDirectory.appendingPathComponent("library-\(UUID())").path
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: directory) }
        try Self.powerPlatform(1, rules: 3).write(
            toFile: "\(directory)/\(Self.tenant(1)).json",
            atomically: true,
            encoding: .utf8
        )
        let dangling = "\(directory)/next.yaml"
        if presentAtFirstRead { #expect(symlink("/nonexistent/x.yaml", dangling) == 0) }
        var contents = try PolicyDirectoryContents.read(directory).get()
        if !presentAtFirstRead {
            #expect(symlink("/nonexistent/x.yaml", dangling) == 0)
            #expect(contents.refresh() == [dangling])
        }
        #expect(Self.errors(contents.library).contains { $0.contains("next.yaml") })

        #expect(unlink(dangling) == 0)
        #expect(contents.refresh() == [dangling])
        #expect(Self.errors(contents.library).isEmpty, "\(Self.errors(contents.library))")
    }

    static func errors(_ library: PolicyLibrary) -> [String] {
        guard case .failure(let error) = library.outcome else { return [] }
        return error.errors.map(\.description)
    }
}

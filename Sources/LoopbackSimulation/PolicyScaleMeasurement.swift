import Foundation
import PolicyFiles
import TenantPolicy

/// What a large policy set costs a running `tenantgate serve`: how long it takes to listen and how much memory it
/// holds, and how long one change takes to be in force through each path — the admin API (the call returns once it
/// is), SIGHUP and the directory watcher (from the file's rename to `/readyz`'s `policy_loaded_at`), or, with a policy
/// store, the admin API of one instance of a fleet to the others. Each change removes or restores one rule of one
/// tenant (the tenant rotates for file edits), so every change is real and the set stays the same size. The
/// resident size is read after start and after each path's changes, to show that a change does not grow it.
package struct PolicyScaleMeasurement {
    package struct Result {
        package var validateSeconds = 0.0
        package var startSeconds: [Double] = []
        package var residentMiB: [(after: String, mebibytes: Double)] = []
        /// Milliseconds from each change to its set in force, by path.
        package var inForceMilliseconds: [(path: String, milliseconds: [Double])] = []
        package var decisionsPerSecond = 0.0
        /// The share of the measured decisions that allowed (about half, by construction).
        package var allowedShare = 0.0
        package var tenants = 0
        package var rules = 0
    }

    package let binary: String
    /// A generated set; it is copied, since the measurement edits it.
    package let policiesDirectory: String
    package let rounds: Int
    /// With a store (holding the same set: `policies import`), `instances` serve processes share it.
    package let policyStore: String?
    package let instances: Int

    package init(binary: String, policiesDirectory: String, rounds: Int, policyStore: String?, instances: Int) {
        self.binary = binary
        self.policiesDirectory = policiesDirectory
        self.rounds = rounds
        self.policyStore = policyStore
        self.instances = instances
    }

    /// One governed tenant's document, its text, and the same text without its first rule.
    private struct Edit {
        let tenant: TenantID
        let path: String
        let original: String
        let withoutFirstRule: String
        let firstRule: (tenant: String, direction: String)
    }

    private struct Member {
        let instance: ServeInstance
        let adminPort: Int
    }

    package func run() async throws -> Result {
        let manager = FileManager.default
        let work = manager.temporaryDirectory.appendingPathComponent("tenantgate-scale-\(UUID().uuidString)")
        let copy = work.appendingPathComponent("policies")
        try manager.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? manager.removeItem(at: work) }
        try manager.copyItem(atPath: policiesDirectory, toPath: copy.path)

        var result = Result()
        let clock = ContinuousClock()
        let loadStart = clock.now
        let contents = try PolicyDirectoryContents.read(copy.path).get()
        let bundle = try contents.library.outcome.get()
        result.validateSeconds = (clock.now - loadStart).seconds
        result.tenants = bundle.isolation.tenants.count
        result.rules = bundle.isolation.tenants.values.reduce(0) { $0 + $1.isolation.ruleCount }
        (result.decisionsPerSecond, result.allowedShare) = Self.decisionsPerSecond(bundle.isolation)
        let edits = try Self.edits(contents.library.names.filter { $0.hasSuffix(".json") }.prefix(rounds))

        let key = SimulationAdminKey()
        let adminKeys = work.appendingPathComponent("admin-jwks.json").path
        try key.jwksJSON().write(toFile: adminKeys, atomically: true, encoding: .utf8)
        let members = try await start(work: work, policies: copy.path, adminKeys: adminKeys, result: &result)
        do {
            try await measure(members, edits: edits, key: key, result: &result)
        } catch {
            for member in members { await member.instance.stop() }
            throw error
        }
        for member in members { await member.instance.stop() }
        return result
    }

    private func start(work: URL, policies: String, adminKeys: String, result: inout Result) async throws -> [Member] {
        var members: [Member] = []
        for index in 0..<(policyStore == nil ? 1 : instances) {
            let adminPort = try LoopbackPort.free()
            var arguments = [
                "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:\(adminPort)",
                "--ca-cert", work.appendingPathComponent("ca.pem").path,
                "--ca-key", work.appendingPathComponent("ca.key").path,
                "--audit-log", work.appendingPathComponent("audit-\(index).jsonl").path,
                "--admin-jwks", adminKeys, "--admin-audience", SimulationAdminKey.audience,
            ]
            arguments += policyStore.map { ["--policy-store", $0] } ?? ["--policies", policies]
            let started = ContinuousClock.now
            let instance = try await ServeInstance(
                binary: binary,
                arguments: arguments,
                directory: work,
                name: "instance-\(index)",
                seconds: 120
            )
            result.startSeconds.append((ContinuousClock.now - started).seconds)
            members.append(Member(instance: instance, adminPort: adminPort))
            result.residentMiB.append(("start of instance \(index)", instance.residentMiB()))
        }
        return members
    }

    private func measure(_ members: [Member], edits: [Edit], key: SimulationAdminKey, result: inout Result) async throws
    {
        // Admin API: the call returns once the change is in force on the instance that took it.
        var admin: [Double] = []
        var others: [Double] = []
        for round in 0..<rounds {
            let edit = edits[0]
            let writer = members[round % members.count]
            let token = try await key.adminToken(tenant: edit.tenant)
            let before = try await Self.loadedAt(members)
            let called = Date()
            admin.append(try await Self.toggleRule(edit, round: round, adminPort: writer.adminPort, token: token))
            for (index, member) in members.enumerated() where index != round % members.count {
                let loaded = try await Self.waitForLoad(member, after: before[index])
                others.append(max(0, loaded.timeIntervalSince(called) * 1000))
            }
        }
        result.inForceMilliseconds.append(("admin API (call returned)", admin))
        result.residentMiB.append(("\(rounds) admin changes", members[0].instance.residentMiB()))
        guard policyStore == nil else {
            result.inForceMilliseconds.append(("policy store, the other instances", others))
            return
        }
        let member = members[0]
        for signal in [true, false] {
            var milliseconds: [Double] = []
            for round in 0..<rounds {
                let edit = edits[round % edits.count]
                let before = try await Self.loadedAt([member])[0]
                let written = try Self.write(edit, removing: round / edits.count % 2 == 0)
                if signal { member.instance.signal(SIGHUP) }
                let loaded = try await Self.waitForLoad(member, after: before)
                milliseconds.append(max(0, loaded.timeIntervalSince(written) * 1000))
            }
            // Restore what the last rounds left edited, so the next path starts from the set as generated.
            for edit in edits { try Self.write(edit, removing: false) }
            if signal { member.instance.signal(SIGHUP) }
            _ = try await Self.waitForLoad(
                member,
                after: try await Self.loadedAt([member])[0],
                seconds: 3,
                required: false
            )
            let path = signal ? "SIGHUP (file renamed -> in force)" : "watcher, 1 s poll (file renamed -> in force)"
            result.inForceMilliseconds.append((path, milliseconds))
            result.residentMiB.append(
                ("\(rounds) \(signal ? "SIGHUP" : "watcher") changes", member.instance.residentMiB())
            )
        }
    }

    /// Removes (even rounds) or restores (odd rounds) the first rule of `edit`'s tenant; the call's duration in ms.
    private static func toggleRule(_ edit: Edit, round: Int, adminPort: Int, token: String) async throws -> Double {
        let rules =
            "http://127.0.0.1:\(adminPort)/providers/PowerPlatform.Governance/v1/tenants/\(edit.tenant)/tenantIsolationPolicy/rules"
        let removing = round % 2 == 0
        let arguments =
            removing
            ? ["-X", "DELETE", "\(rules)/\(edit.firstRule.tenant)"]
            : [
                "-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                #"{"tenant":"\#(edit.firstRule.tenant)","direction":"\#(edit.firstRule.direction)"}"#, rules,
            ]
        let answer = try await Curl.run(
            [
                "-s", "-m", "60", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H",
                "Authorization: Bearer \(token)",
            ]
                + arguments,
            timeoutSeconds: 70
        )
        let fields = answer.split(separator: " ")
        guard fields.first == (removing ? "204" : "201"), let seconds = fields.last.flatMap({ Double($0) }) else {
            throw Curl.Failure(description: "the admin API answered '\(answer)' to round \(round)")
        }
        return seconds * 1000
    }

    /// Writes the edited or original text under a temporary name and renames it over the file, as editors and
    /// configuration tools do; returns the moment of the rename.
    @discardableResult
    private static func write(_ edit: Edit, removing: Bool) throws -> Date {
        let temporary = (edit.path as NSString).deletingLastPathComponent + "/.edit-\(UUID().uuidString)"
        try (removing ? edit.withoutFirstRule : edit.original).write(
            toFile: temporary,
            atomically: false,
            encoding: .utf8
        )
        let renamed = Date()
        guard rename(temporary, edit.path) == 0 else {
            throw Curl.Failure(description: "cannot rename over \(edit.path)")
        }
        return renamed
    }

    private static func edits(_ paths: some Sequence<String>) throws -> [Edit] {
        try paths.map { path in
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                var properties = object["properties"] as? [String: Any],
                let tenant = (properties["tenantId"] as? String).flatMap({ TenantID($0) }),
                var allowed = properties["allowedTenants"] as? [[String: Any]], let first = allowed.first,
                let other = first["tenantId"] as? String, let direction = first["direction"] as? [String: Bool]
            else { throw Curl.Failure(description: "\(path) is not a Power Platform document with a rule") }
            allowed.removeFirst()
            properties["allowedTenants"] = allowed
            object["properties"] = properties
            let without = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            let name =
                switch (direction["inbound"] == true, direction["outbound"] == true) {
                case (true, true): "both"
                case (true, false): "inbound"
                default: "outbound"
                }
            return Edit(
                tenant: tenant,
                path: path,
                original: text,
                withoutFirstRule: String(decoding: without, as: UTF8.self),
                firstRule: (other, name)
            )
        }
    }

    /// Every instance's `policy_loaded_at`.
    private static func loadedAt(_ members: [Member]) async throws -> [Date] {
        var times: [Date] = []
        for member in members {
            let body = try await Curl.run(["-s", "-m", "10", "http://127.0.0.1:\(member.adminPort)/readyz"])
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            guard let text = object?["policy_loaded_at"] as? String,
                let time = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
            else { throw Curl.Failure(description: "/readyz gave no policy_loaded_at: \(body)") }
            times.append(time)
        }
        return times
    }

    /// Polls `/readyz` until `policy_loaded_at` is later than `previous`; the new time.
    private static func waitForLoad(
        _ member: Member,
        after previous: Date,
        seconds: Double = 30,
        required: Bool = true
    ) async throws -> Date {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let loaded = try await loadedAt([member])[0]
            if loaded > previous { return loaded }
            try await Task.sleep(for: .milliseconds(5))
        }
        if required { throw Curl.Failure(description: "no new policy set in force within \(seconds) s") }
        return previous
    }

    /// Decisions per second over the loaded set: each governed tenant creating toward a tenant its rules name and
    /// toward one they do not.
    private static func decisionsPerSecond(_ set: PolicySet) -> (perSecond: Double, allowedShare: Double) {
        var pairs: [(TenantID, TenantID)] = []
        for tenant in set.tenants.values.prefix(1_000) {
            for rule in tenant.isolation.rules.prefix(8) {
                guard case .tenant(let other) = rule.subject else { continue }
                pairs.append((tenant.id, other))
                pairs.append((tenant.id, TenantID(high: other.high ^ 1, low: other.low)))
            }
        }
        guard !pairs.isEmpty else { return (0, 0) }
        let clock = ContinuousClock()
        var allowed = 0
        let rounds = max(1, 2_000_000 / pairs.count)
        let started = clock.now
        for _ in 0..<rounds {
            for (creator, signIn) in pairs where set.decide(creator: creator, signIn: signIn).isAllowed { allowed += 1 }
        }
        let seconds = (clock.now - started).seconds
        let decisions = Double(rounds * pairs.count)
        return (decisions / seconds, Double(allowed) / decisions)
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

import Foundation
import MockSTS
import NIOCore
import NIOPosix

/// How long an admin change on one instance of a fleet takes to reach the others' token exchanges. Starts
/// `instances` real `tenantgate serve` processes sharing one PostgreSQL policy store (which must hold the example
/// policies: `policies import`) in front of one mock STS; each round changes the Northwind rule through one
/// instance's admin API (the writer rotates) and, as soon as the call returns, sends token exchanges through every
/// other instance until one is decided under the new policy.
///
/// With `dataPlane`, the instances judge `graph.microsoft.com` (`--resource-host`) and what is sent is not an
/// exchange but a Graph request with a Northwind token on a connection to each instance opened before the first
/// change and kept open across all of them: a change must reach the connections already open.
///
/// Two figures per other instance and round: from the call returning to that instance's first exchange decided
/// under the new policy (its audit line's time), and to the new set being in force there (`/readyz`'s
/// `policy_loaded_at`). An exchange decided under the old policy is stale if it was sent after the new set was in
/// force on its instance, and so is any old decision after the first new one; the run must have none.
package struct FleetPropagationMeasurement {
    package struct Result {
        /// Milliseconds from each change returning to each other instance's first exchange decided under it.
        package let decidedMilliseconds: [Double]
        /// Milliseconds from each change returning to the new set in force on each other instance (0 if earlier).
        package let inForceMilliseconds: [Double]
        /// Exchanges sent in all.
        package let exchanges: Int
        /// Exchanges decided under the old policy before the notification reached their instance (allowed).
        package let beforeNotification: Int
        /// Exchanges decided under the old policy after it had (must be 0).
        package let stale: Int
    }

    package let binary: String
    package let policyStore: String
    package let instances: Int
    package let rounds: Int
    package let dataPlane: Bool

    /// - Parameter binary: the `tenantgate` executable to start (`simulate` passes itself).
    package init(binary: String, policyStore: String, instances: Int, rounds: Int, dataPlane: Bool = false) {
        self.binary = binary
        self.policyStore = policyStore
        self.instances = instances
        self.rounds = rounds
        self.dataPlane = dataPlane
    }

    /// What is sent through an instance, answered 200 or 403 by the Northwind rule: a token exchange, or a Graph
    /// request on the instance's held connection.
    private typealias Probe = @Sendable (Member) async throws -> Int

    /// One `serve` process and what the measurement needs of it.
    private struct Member {
        let instance: ServeInstance
        let adminPort: Int
        let auditPath: String

        func auditLines() -> [String] {
            ((try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    /// What one instance showed in one round.
    private struct Observation {
        var decided: Date
        var inForce: Date
        var exchanges = 0
        var beforeNotification = 0
        var stale = 0
    }

    package func run() async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tenantgate-fleet-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sts = try await MockSTS.start(group: group, options: MockSTSOptions())
        var members: [Member] = []
        do {
            let key = SimulationAdminKey()
            members = try await start(directory: directory, sts: sts, key: key)
            let makerToken = try await sts.makerToken(tenant: NorthwindRuleToggle.contoso)
            let caPath = directory.appendingPathComponent("ca.pem").path
            let adminToken = try await key.adminToken(tenant: NorthwindRuleToggle.contoso)
            var connections: [HeldConnection] = []
            let probe: Probe
            if dataPlane {
                let graphToken = try await sts.graphToken(tenant: NorthwindRuleToggle.northwind)
                for member in members {
                    connections.append(
                        try await HeldConnection.open(
                            proxyPort: member.instance.proxyPort,
                            caPath: caPath,
                            host: "graph.microsoft.com",
                            makerToken: makerToken,
                            group: group
                        )
                    )
                }
                let byPort = Dictionary(
                    uniqueKeysWithValues: zip(members.map(\.instance.proxyPort), connections)
                )
                probe = { member in
                    guard let connection = byPort[member.instance.proxyPort] else { return 0 }
                    return try await connection.get("/v1.0/me", bearer: graphToken)
                }
            } else {
                probe = { member in try await Self.exchange(member, makerToken: makerToken, caPath: caPath) }
            }
            let result = try await measure(members, adminToken: adminToken, probe: probe)
            for connection in connections { await connection.close() }
            await stop(members, sts: sts, group: group)
            return result
        } catch {
            await stop(members, sts: sts, group: group)
            throw error
        }
    }

    /// The instances, one after the other: the first creates the fleet's interception CA, the others use it, as
    /// instances behind one load balancer share one CA.
    private func start(directory: URL, sts: MockSTS, key: SimulationAdminKey) async throws -> [Member] {
        let stsCA = directory.appendingPathComponent("sts-ca.pem").path
        try sts.caCertificatePEM.write(toFile: stsCA, atomically: true, encoding: .utf8)
        let creatorKeys = directory.appendingPathComponent("creator-jwks.json").path
        try sts.jwksJSON.write(toFile: creatorKeys, atomically: true, encoding: .utf8)
        let adminKeys = directory.appendingPathComponent("admin-jwks.json").path
        try key.jwksJSON().write(toFile: adminKeys, atomically: true, encoding: .utf8)
        var members: [Member] = []
        for index in 0..<instances {
            let adminPort = try LoopbackPort.free()
            let auditPath = directory.appendingPathComponent("instance-\(index)-audit.jsonl").path
            var arguments = [
                "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:\(adminPort)", "--policy-store", policyStore,
                "--ca-cert", directory.appendingPathComponent("ca.pem").path,
                "--ca-key", directory.appendingPathComponent("ca.key").path,
                "--upstream-ca", stsCA, "--creator-jwks", creatorKeys, "--audit-log", auditPath,
                "--admin-jwks", adminKeys, "--admin-audience", SimulationAdminKey.audience,
            ]
            for host in MockSTS.hosts { arguments += ["--upstream-override", "\(host):443=127.0.0.1:\(sts.port)"] }
            if dataPlane { arguments += ["--resource-host", "graph.microsoft.com"] }
            let instance = try await ServeInstance(
                binary: binary,
                arguments: arguments,
                directory: directory,
                name: "instance-\(index)"
            )
            members.append(Member(instance: instance, adminPort: adminPort, auditPath: auditPath))
            try await Self.waitUntilReady(adminPort: adminPort)
        }
        return members
    }

    private func stop(_ members: [Member], sts: MockSTS, group: MultiThreadedEventLoopGroup) async {
        for member in members { await member.instance.stop() }
        try? await sts.shutdown()
        try? await group.shutdownGracefully()
    }

    private func measure(_ members: [Member], adminToken: String, probe: @escaping Probe) async throws -> Result {
        var decided: [Double] = []
        var inForce: [Double] = []
        var exchanges = 0
        var beforeNotification = 0
        var stale = 0
        try await NorthwindRuleToggle.reset(adminPort: members[0].adminPort, token: adminToken)
        // One request through each instance first: the interception certificate is minted and the upstream
        // connection opened once per instance, which is not what the measurement is about.
        for member in members { _ = try await probe(member) }
        for round in 0..<rounds {
            let writer = round % members.count
            try await NorthwindRuleToggle.change(round: round, adminPort: members[writer].adminPort, token: adminToken)
            let returned = Date()
            let observations = try await withThrowingTaskGroup(of: Observation.self) { group in
                for (index, member) in members.enumerated() where index != writer {
                    group.addTask {
                        try await Self.observe(member, round: round, probe: probe)
                    }
                }
                return try await group.reduce(into: [Observation]()) { $0.append($1) }
            }
            for observation in observations {
                decided.append(max(0, observation.decided.timeIntervalSince(returned) * 1000))
                inForce.append(max(0, observation.inForce.timeIntervalSince(returned) * 1000))
                exchanges += observation.exchanges
                beforeNotification += observation.beforeNotification
                stale += observation.stale
            }
        }
        return Result(
            decidedMilliseconds: decided,
            inForceMilliseconds: inForce,
            exchanges: exchanges,
            beforeNotification: beforeNotification,
            stale: stale
        )
    }

    /// Requests through `member` (at most 250, for at most 5 s) until one is decided under round `round`'s
    /// policy, then one more that must be too; then when that policy came into force there.
    private static func observe(_ member: Member, round: Int, probe: Probe) async throws -> Observation {
        let wanted = NorthwindRuleToggle.statusAfter(round: round)
        let previous = NorthwindRuleToggle.statusAfter(round: round + 1)
        let deadline = Date().addingTimeInterval(5)
        var oldSentAt: [Date] = []
        var firstNew: Date?
        var exchanges = 0
        while firstNew == nil, exchanges < 250, Date() < deadline {
            let sent = Date()
            let status = try await probe(member)
            exchanges += 1
            if status == wanted {
                guard let time = NorthwindRuleToggle.lastDecisionTime(member.auditLines()) else {
                    throw Curl.Failure(description: "no audit line on port \(member.instance.proxyPort)")
                }
                firstNew = time
            } else if status == previous {
                oldSentAt.append(sent)
            } else {
                throw Curl.Failure(description: "an exchange was answered \(status), neither \(wanted) nor \(previous)")
            }
        }
        guard let firstNew else {
            throw Curl.Failure(
                description: "port \(member.instance.proxyPort) did not decide under round \(round)'s policy in 5 s"
            )
        }
        let confirmed = try await probe(member) == wanted
        let inForce = try await loadedAt(adminPort: member.adminPort)
        let late = oldSentAt.filter { $0 > inForce }.count
        return Observation(
            decided: firstNew,
            inForce: inForce,
            exchanges: exchanges + 1,
            beforeNotification: oldSentAt.count - late,
            stale: late + (confirmed ? 0 : 1)
        )
    }

    private static func exchange(_ member: Member, makerToken: String, caPath: String) async throws -> Int {
        try await Curl.tokenRequest(
            proxyPort: member.instance.proxyPort,
            caPath: caPath,
            makerToken: makerToken,
            path: NorthwindRuleToggle.exchangePath
        ).status
    }

    /// When the instance's policy set came into force (`/readyz`).
    private static func loadedAt(adminPort: Int) async throws -> Date {
        let body = try await Curl.run(["-s", "-m", "10", "http://127.0.0.1:\(adminPort)/readyz"])
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        guard let text = object?["policy_loaded_at"] as? String,
            let time = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
        else { throw Curl.Failure(description: "/readyz on port \(adminPort) gave no policy_loaded_at: \(body)") }
        return time
    }

    /// Polls `/readyz` every 100 ms for at most 30 s until it answers 200.
    private static func waitUntilReady(adminPort: Int) async throws {
        for _ in 0..<300 {
            let status = try await Curl.run([
                "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(adminPort)/readyz",
            ])
            if status == "200" { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Curl.Failure(description: "the admin listener on port \(adminPort) was not ready within 30 s")
    }
}

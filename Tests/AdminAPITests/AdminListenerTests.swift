import AdminAPI
import ExchangePolicy
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PolicyFiles
import PolicyService
import TenantPolicy
import Testing

/// The admin listener on real sockets: a client that sends its request head or its body too slowly is cut off, one
/// that sends it whole is answered.
struct AdminListenerTests {
    @Test func aSlowRequestHeadIsCutOff() async throws {
        try await Self.withListener { port in
            let slow = try RawConnection(port: port)
            try slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            let started = Date()
            #expect(await slow.receiveUntilClosed().isEmpty)
            let elapsed = Date().timeIntervalSince(started)
            // Cut off by the 300 ms head deadline, not by the 60 s idle time, whatever the machine's load.
            #expect(elapsed > 0.2 && elapsed < 30, "closed after \(elapsed) s")

            let whole = try RawConnection(port: port)
            try whole.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(await whole.receiveUntilClosed().hasPrefix("HTTP/1.1 200"))
        }
    }

    /// A body trickled after a whole head held a connection past every timer: the deadline covers the whole
    /// request, whatever the route answers meanwhile.
    @Test(arguments: ["POST /healthz", "PUT /api/v1/tenants/x/isolation", "POST /nowhere"])
    func aSlowBodyIsCutOff(_ request: String) async throws {
        try await Self.withListener { port in
            let slow = try RawConnection(port: port)
            try slow.send("\(request) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{\"a\":")
            let started = Date()
            _ = await slow.receiveUntilClosed()
            let elapsed = Date().timeIntervalSince(started)
            // Closed before the idle timeout (60 s), whatever the machine's load: 0.3 s alone, 16 s once in a
            // whole suite beside other work on 2 cores.
            #expect(elapsed < 45, "\(request): closed after \(elapsed) s")
        }
    }

    static func withListener(_ body: (Int) async throws -> Void) async throws {
        let store = PolicyStore(bundle: PolicyBundle(isolation: PolicySet(), version: "v1"), nonEntraSTS: .audit)
        let router = AdminRouter.make(policies: store, renderMetrics: { [] }, policyAPI: nil, secureCookies: false)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let listener = try AdminListener(
            host: "127.0.0.1",
            port: 0,
            router: router,
            tls: nil,
            requestHeadTimeout: .milliseconds(300),
            group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test"),
            onListening: { address in
                portSink.yield(address.port ?? 0)
                portSink.finish()
            }
        )
        let running = Task { try await listener.run() }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        try await body(try #require(await iterator.next()))
    }
}

/// A blocking TCP connection to loopback, every read bounded by a 20 s timeout (a whole suite on 2 cores is slow).
/// Reads run on a Dispatch thread: a blocked read on the cooperative pool would starve the router's handlers, which
/// run there too.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
    }

    /// Everything the peer sends until it closes (or 5 s pass without a byte).
    func receiveUntilClosed() async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.readUntilClosed()) }
        }
    }

    private func readUntilClosed() -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

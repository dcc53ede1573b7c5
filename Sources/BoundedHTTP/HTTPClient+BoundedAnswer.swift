import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ServerIdentity

/// An answer read whole: its status, headers and at most the body's limit.
package struct BoundedAnswer: Sendable {
    package let status: HTTPResponseStatus
    package let headers: HTTPHeaders
    package let body: ByteBuffer
}

/// No whole answer came within the exchange's time.
package struct AnswerTimedOut: Error, CustomStringConvertible {
    package let timeout: Duration
    package var description: String { "no whole answer within \(timeout)" }
}

extension HTTPClient {
    /// Sends `request` and reads at most `limit` bytes of its answer (more throws `NIOTooManyBytesError`), the whole
    /// exchange within `timeout`.
    ///
    /// AsyncHTTPClient's own deadline ends once the answer's head has arrived, and its read timeout bounds each pause
    /// between reads: a server that sends its head and then trickles the body a byte at a time holds the caller for
    /// as long as it likes. Here the exchange is cancelled at `timeout`, which closes its connection.
    package func boundedAnswer(
        to request: HTTPClientRequest,
        within timeout: Duration,
        upTo limit: Int
    ) async throws -> BoundedAnswer {
        if let host = URL(string: request.url)?.host { RequestedHosts.shared.add(host) }
        return try await withThrowingTaskGroup(of: BoundedAnswer?.self) { group in
            group.addTask {
                // AsyncHTTPClient's own deadline a little earlier: a server it cannot connect to (a certificate not
                // trusted, a refused port) is then reported as what it is, not as an answer that did not come.
                let connecting = TimeAmount.nanoseconds(timeout.wholeNanoseconds * 9 / 10)
                let response = try await self.execute(request, timeout: connecting)
                let body = try await response.body.collect(upTo: limit)
                return BoundedAnswer(status: response.status, headers: response.headers, body: body)
            }
            group.addTask {
                try await _Concurrency.Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let answer = try await group.next() ?? nil else { throw AnswerTimedOut(timeout: timeout) }
            return answer
        }
    }
}

extension HTTPClient.Configuration {
    /// A connection of this configuration is used only once its certificate names a host asked for through
    /// `boundedAnswer` (`RequestedHosts`), by a DNS name, or an address literal by its address.
    package mutating func requireNamedServers() {
        http1_1ConnectionDebugInitializer = { RequestedHosts.shared.verify($0) }
        http2ConnectionDebugInitializer = { RequestedHosts.shared.verify($0) }
    }
}

extension Duration {
    /// For NIO's `TimeAmount`; the timeouts here are seconds, far from overflowing.
    fileprivate var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

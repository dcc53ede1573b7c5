import Foundation
import Synchronization

package enum LoopbackPort {
    /// A loopback port free at this moment, for a listener whose port must be known before it starts.
    package static func free() throws -> Int {
        let reservation = try Reservation()
        defer { reservation.release() }
        return reservation.port
    }

    /// A loopback port bound, not listening, until released: a connection to it is refused, and meanwhile no other
    /// listener takes it, nor does the kernel give it to a client's connection as its own port. A port found free
    /// and left alone was, once: a sink meant to find nothing there connected (to another test's listener, or to
    /// itself) and looked well.
    package final class Reservation: Sendable {
        package let port: Int
        /// Nil once released, so that a second release cannot close a descriptor the process has since reused.
        private let descriptor: Mutex<Int32?>

        /// A port the kernel picks, or `port` itself: one a listener of the test held and has just let go of (its
        /// closed connections may linger in TIME_WAIT there, which SO_REUSEADDR lets a bind pass).
        package init(port wanted: Int = 0) throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            if wanted != 0 {  // not for a port the kernel picks: it could then pick one another reservation holds
                var reuse: Int32 = 1
                setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
            }
            guard let port = Self.bindLoopback(descriptor, port: wanted) else {
                close(descriptor)
                throw Curl.Failure(
                    description: wanted == 0 ? "no free loopback port" : "loopback port \(wanted) is taken"
                )
            }
            self.port = port
            self.descriptor = Mutex(descriptor)
        }

        deinit { release() }

        /// Frees the port for the listener that is to take it.
        package func release() {
            descriptor.withLock {
                if let open = $0 { close(open) }
                $0 = nil
            }
        }

        private static func bindLoopback(_ descriptor: Int32, port: Int) -> Int? {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
                }
            }
            return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
        }
    }
}

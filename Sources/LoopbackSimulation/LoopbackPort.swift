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

        package init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard let port = Self.bindAnyPort(descriptor) else {
                close(descriptor)
                throw Curl.Failure(description: "no free loopback port")
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

        private static func bindAnyPort(_ descriptor: Int32) -> Int? {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
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

import NIOCore
import NetworkPolicy

#if canImport(Glibc)
import Glibc
#endif

/// Blocking name resolution (`getaddrinfo`) that keeps every answer; run off the event loop.
enum NameResolution {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func addresses(of host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw Failure(description: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let current = entry?.pointee {
            entry = current.ai_next
            guard let raw = current.ai_addr else { continue }
            let address: SocketAddress
            switch CInt(current.ai_family) {
            case AF_INET:
                address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            case AF_INET6:
                address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            default:
                continue
            }
            if let text = address.ipAddress, let parsed = IPAddress(text), !addresses.contains(parsed) {
                addresses.append(parsed)
            }
        }
        return addresses
    }
}

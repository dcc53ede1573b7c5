import AsyncHTTPClient
import BoundedHTTP
import Foundation
import NIOCore
import NIOSSL

/// How sinks reach their receivers: the system's roots plus the `--ship-ca` files (a collector or SIEM behind a
/// private CA), with time-outs that keep one stuck sink from holding its batch for long. Redirects are not followed:
/// a 3xx is the receiver's answer, and a failure. Followed, a 302 or 303 turned the batch into a bodiless GET whose
/// 200 moved the position past lines nobody received, and a 307 sent them to a host the operator never named.
package enum ShipTransport {
    package static func httpClient(extraCAFiles: [String]) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        configuration.tlsConfiguration = tlsConfiguration(extraCAFiles: extraCAFiles)
        configuration.requireNamedServers()
        return HTTPClient(eventLoopGroupProvider: .shared(ShippingThread.shared.group), configuration: configuration)
    }

    /// For syslog over TLS (RFC 5425). Throws when a `--ship-ca` file cannot be read.
    package static func tlsContext(extraCAFiles: [String]) throws -> NIOSSLContext {
        try NIOSSLContext(configuration: tlsConfiguration(extraCAFiles: extraCAFiles))
    }

    private static func tlsConfiguration(extraCAFiles: [String]) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = extraCAFiles.map { .file($0) }
        return tls
    }

    /// This machine's name, as sinks report the sender (syslog HOSTNAME, OTLP `host.name`, Splunk `host`, ASIM `Dvc`).
    package static let hostname: String = {
        var buffer = [UInt8](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }()

    /// A sink's name for logs, metrics and its position file: `kind-` and `detail` with everything but letters and
    /// digits as `-`.
    package static func sinkName(_ kind: String, _ detail: String) -> String {
        kind + "-" + String(detail.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }
}

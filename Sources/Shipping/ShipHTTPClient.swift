import AsyncHTTPClient
import NIOCore
import NIOSSL

/// The HTTP client each HTTPS sink uses: the system's roots, plus the `--ship-ca` files (a collector or SIEM
/// behind a private CA), with time-outs that keep one stuck sink from holding its batch for long.
package enum ShipHTTPClient {
    package static func make(extraCAFiles: [String]) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        if !extraCAFiles.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = extraCAFiles.map { .file($0) }
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

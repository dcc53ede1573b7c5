import NIOCore
import NIOSSL

/// How the proxy's own TLS client verifies the real servers (STYLE 4: the upstream's certificate is checked, never
/// passed on unverified).
enum UpstreamTLSConfiguration {
    /// How long a closing connection waits for the peer's `close_notify`, reading and decrypting meanwhile. NIOSSL's
    /// 5 s let a server that streamed 1-byte records past a refused answer keep a core busy for those 5 s (review
    /// 35); a peer that answers the close at all does so well within one.
    static let closeNotifyWait = TimeAmount.seconds(1)

    /// The upstream TLS configuration: system roots plus the PEM files given with `--upstream-ca`.
    static func make(extraCAFiles: [String]) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["http/1.1"]
        tls.shutdownTimeout = closeNotifyWait
        if !extraCAFiles.isEmpty {
            var roots: [NIOSSLCertificate] = []
            for file in extraCAFiles {
                do {
                    roots += try NIOSSLCertificate.fromPEMFile(file)
                } catch {
                    throw UpstreamCAFileError(path: file, underlying: "\(error)")
                }
            }
            tls.additionalTrustRoots = [.certificates(roots)]
        }
        return tls
    }
}

/// An `--upstream-ca` file that cannot be read as PEM certificates.
package struct UpstreamCAFileError: Error, CustomStringConvertible {
    package let path: String
    package let underlying: String
    package var description: String { "--upstream-ca \(path): not a readable PEM certificate file (\(underlying))" }
}

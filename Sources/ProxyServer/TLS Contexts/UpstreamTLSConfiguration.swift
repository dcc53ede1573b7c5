import NIOSSL

/// How the proxy's own TLS client verifies the real servers (STYLE 4: the upstream's certificate is checked, never
/// passed on unverified).
enum UpstreamTLSConfiguration {
    /// The upstream TLS configuration: system roots plus the PEM files given with `--upstream-ca`.
    static func make(extraCAFiles: [String]) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["http/1.1"]
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

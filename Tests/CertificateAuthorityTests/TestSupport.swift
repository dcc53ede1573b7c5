import CertificateAuthority
import Foundation
import SwiftASN1
import TestSupport
import Testing
@_spi(FixedExpiryValidationTime) import X509

/// Shared fixtures: a fixed reference time, temporary directories, file modes, verification and openssl runs.
enum TestSupport {
    /// 2027-01-15T08:00:00Z: every generated certificate is judged at this instant, not the wall clock.
    static let referenceTime = Date(timeIntervalSince1970: 1_800_000_000)

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ca-tests-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The permission bits of a file, as stat(2) reports them.
    static func mode(_ path: String) -> Int? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue
    }

    /// Verifies a leaf against one root with RFC 5280 and server identity (a name, or an IP literal).
    static func verify(
        leafDER: [UInt8],
        root: Certificate,
        hostname: String? = nil,
        ip: String? = nil,
        at time: Date
    ) async throws -> CertificateValidationResult {
        let leaf = try Certificate(derEncoded: leafDER)
        var verifier = Verifier(rootCertificates: CertificateStore([root])) {
            RFC5280Policy(fixedExpiryValidationTime: time)
            ServerIdentityPolicy(serverHostname: hostname, serverIP: ip)
        }
        return await verifier.validate(leaf: leaf, intermediates: CertificateStore())
    }

    static func isValid(_ result: CertificateValidationResult) -> Bool {
        if case .validCertificate = result { return true }
        return false
    }

    static let openSSLPath = "/usr/bin/openssl"
    static var hasOpenSSL: Bool { FileManager.default.isExecutableFile(atPath: openSSLPath) }

    /// Runs openssl with a 60 s deadline; returns its exit status and combined output.
    @discardableResult
    static func openssl(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let outcome = try ChildProcess.runBlocking(openSSLPath, arguments, deadlineSeconds: 60, directory: directory)
        return (outcome.status, outcome.output + outcome.errors)
    }
}

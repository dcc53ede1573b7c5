import CertificateAuthority
import Foundation
import SwiftASN1
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openSSLPath)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let outputPath = "\(directory)/openssl-\(UUID()).out"
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outputPath)
        else { throw CocoaError(.fileWriteUnknown) }
        defer {
            try? output.close()
            try? FileManager.default.removeItem(atPath: outputPath)
        }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        if process.isRunning {
            process.terminate()
            Issue.record("openssl \(arguments.joined(separator: " ")) did not finish in 60 s")
            return (-1, "")
        }
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

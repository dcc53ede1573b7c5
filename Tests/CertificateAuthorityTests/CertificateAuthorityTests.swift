import Foundation
import Testing
import SwiftASN1
import X509

import CertificateAuthority

/// CA files (modes, refusal, reload) and leaf minting verified by X509's verifier.
struct CertificateAuthorityTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    @Test func createsKeyWithMode0600AndLoadsItBack() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (created, wasCreated) = try CertificateAuthority.loadOrCreate(
            certificatePath: "\(directory)/certs/ca.pem", keyPath: "\(directory)/certs/ca.key", now: Date())
        #expect(wasCreated)
        #expect(Self.mode("\(directory)/certs/ca.key") == 0o600)
        #expect(Self.mode("\(directory)/certs/ca.pem") == 0o644)
        let (loaded, again) = try CertificateAuthority.loadOrCreate(
            certificatePath: "\(directory)/certs/ca.pem", keyPath: "\(directory)/certs/ca.key", now: Date())
        #expect(!again)
        #expect(loaded.certificate == created.certificate)
    }

    @Test func refusesAKeyReadableByOthers() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try CertificateAuthority.loadOrCreate(certificatePath: "\(directory)/ca.pem", keyPath: "\(directory)/ca.key", now: Date())
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: "\(directory)/ca.key")
        #expect {
            try CertificateAuthority.loadOrCreate(certificatePath: "\(directory)/ca.pem", keyPath: "\(directory)/ca.key", now: Date())
        } throws: { error in
            (error as? CertificateAuthorityError)?.code == .keyReadableByOthers && "\(error)".contains("chmod 600")
        }
    }

    @Test func refusesOnlyOneFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "x".write(toFile: "\(directory)/ca.pem", atomically: true, encoding: .utf8)
        #expect(throws: CertificateAuthorityError.self) {
            try CertificateAuthority.loadOrCreate(certificatePath: "\(directory)/ca.pem", keyPath: "\(directory)/ca.key", now: Date())
        }
    }

    @Test func mintedLeafVerifiesForItsHost() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let leaf = try Certificate(pemEncoded: try authority.mintLeaf(for: "login.microsoftonline.com", now: now).certificatePEM)
        var verifier = Verifier(rootCertificates: CertificateStore([authority.certificate])) {
            RFC5280Policy(fixedValidationTime: now)
            ServerIdentityPolicy(serverHostname: "login.microsoftonline.com", serverIP: nil)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore())
        guard case .validCertificate = result else {
            Issue.record("leaf did not verify: \(result)")
            return
        }
    }

    @Test func cacheEvictsAtCapacity() {
        let cache = BoundedCache<String, Int>(capacity: 2)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")
        _ = cache.value(for: "a")
        cache.insert(3, for: "c")
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1)
        #expect(cache.count == 2)
        #expect(cache.evictions == 1)
    }
}

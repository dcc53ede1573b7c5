import CertificateAuthority
import Foundation
import SwiftASN1
import Testing
import X509

/// `loadOrCreate`: file modes on creation, reload, and every refusal (SPEC 4 `--ca-cert`/`--ca-key`, SPEC 5).
struct CertificateAuthorityFileTests {
    let now = TestSupport.referenceTime

    @Test func createsKey0600AndCertificate0644ThenLoadsThemBack() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificatePath = "\(directory)/certs/ca.pem"
        let keyPath = "\(directory)/certs/ca.key"
        let (created, wasCreated) = try CertificateAuthority.loadOrCreate(
            certificatePath: certificatePath,
            keyPath: keyPath,
            now: now
        )
        #expect(wasCreated)
        #expect(TestSupport.mode(keyPath) == 0o600)
        #expect(TestSupport.mode(certificatePath) == 0o644)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/certs").sorted()
        #expect(leftovers == ["ca.key", "ca.pem"])
        let keyText = try String(contentsOfFile: keyPath, encoding: .utf8)
        #expect(keyText.hasPrefix("-----BEGIN PRIVATE KEY-----"))

        let (loaded, createdAgain) = try CertificateAuthority.loadOrCreate(
            certificatePath: certificatePath,
            keyPath: keyPath,
            now: now
        )
        #expect(!createdAgain)
        #expect(loaded.certificate == created.certificate)
        #expect(loaded.certificateDER == created.certificateDER)
        #expect(loaded.certificatePEM == created.certificatePEM)
        // The loaded key is the created one: its leaves verify against the first certificate.
        let leaf = try loaded.mintLeaf(for: "login.microsoftonline.com", now: now)
        let result = try await TestSupport.verify(
            leafDER: leaf.certificateDER,
            root: created.certificate,
            hostname: "login.microsoftonline.com",
            at: now
        )
        #expect(TestSupport.isValid(result), "\(result)")
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o620, 0o602, 0o660] as [Int16])
    func refusesAKeyOpenToGroupOrOthers(mode: Int16) throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyPath = "\(directory)/ca.key"
        _ = try CertificateAuthority.loadOrCreate(certificatePath: "\(directory)/ca.pem", keyPath: keyPath, now: now)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: keyPath)
        #expect {
            try CertificateAuthority.loadOrCreate(certificatePath: "\(directory)/ca.pem", keyPath: keyPath, now: now)
        } throws: { error in
            guard let error = error as? CertificateAuthorityError else { return false }
            return error.code == .keyReadableByOthers && error.path == keyPath
                && error.description.contains("chmod 600 \(keyPath)")
        }
    }

    @Test func refusesAKeyThatIsNotTheCertificates() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try CertificateAuthority.loadOrCreate(
            certificatePath: "\(directory)/a.pem",
            keyPath: "\(directory)/a.key",
            now: now
        )
        _ = try CertificateAuthority.loadOrCreate(
            certificatePath: "\(directory)/b.pem",
            keyPath: "\(directory)/b.key",
            now: now
        )
        #expect {
            try CertificateAuthority.loadOrCreate(
                certificatePath: "\(directory)/a.pem",
                keyPath: "\(directory)/b.key",
                now: now
            )
        } throws: { error in
            guard let error = error as? CertificateAuthorityError else { return false }
            return error.code == .keyDoesNotMatch && error.description.contains("\(directory)/b.key")
        }
    }

    @Test func refusesWhenOnlyOneFileExists() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try CertificateAuthority.loadOrCreate(
            certificatePath: "\(directory)/ca.pem",
            keyPath: "\(directory)/ca.key",
            now: now
        )
        for (certificatePath, keyPath) in [
            ("\(directory)/ca.pem", "\(directory)/none.key"), ("\(directory)/none.pem", "\(directory)/ca.key"),
        ] {
            #expect {
                try CertificateAuthority.loadOrCreate(certificatePath: certificatePath, keyPath: keyPath, now: now)
            } throws: { error in
                guard let error = error as? CertificateAuthorityError else { return false }
                return error.code == .onlyOneFilePresent && error.description.contains(certificatePath)
                    && error.description.contains(keyPath)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/none.key"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/none.pem"))
    }

    @Test func refusesFilesThatAreNotPEM() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try CertificateAuthority.loadOrCreate(
            certificatePath: "\(directory)/ca.pem",
            keyPath: "\(directory)/ca.key",
            now: now
        )
        try FileManager.default.removeItem(atPath: "\(directory)/ca.pem")
        try "not a certificate".write(toFile: "\(directory)/ca.pem", atomically: true, encoding: .utf8)
        #expect {
            try CertificateAuthority.loadOrCreate(
                certificatePath: "\(directory)/ca.pem",
                keyPath: "\(directory)/ca.key",
                now: now
            )
        } throws: { ($0 as? CertificateAuthorityError)?.path == "\(directory)/ca.pem" }
    }

    @Test func refusesALeafCertificateAsTheCA() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let leaf = try authority.mintLeaf(for: "a.example", now: now)
        try leaf.certificatePEM.write(toFile: "\(directory)/leaf.pem", atomically: true, encoding: .utf8)
        #expect(
            FileManager.default.createFile(
                atPath: "\(directory)/leaf.key",
                contents: Data(leaf.privateKeyPEM.utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        #expect {
            try CertificateAuthority.loadOrCreate(
                certificatePath: "\(directory)/leaf.pem",
                keyPath: "\(directory)/leaf.key",
                now: now
            )
        } throws: { ($0 as? CertificateAuthorityError)?.code == .notACertificateAuthority }
    }

    /// The benchmark hands TenantGate CAs made by openssl: RSA 2048 or EC P-256, in PKCS#8, PKCS#1 or SEC1 PEM.
    /// Needs /usr/bin/openssl (.ci/run installs it): without it the test fails rather than skips.
    @Test(arguments: ["rsa-pkcs8", "rsa-pkcs1", "ec-pkcs8", "ec-sec1-with-parameters"])
    func loadsACAMadeByOpenSSL(kind: String) async throws {
        try #require(TestSupport.hasOpenSSL, "needs /usr/bin/openssl")
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyCommand: [String]
        switch kind {
        case "rsa-pkcs8":
            keyCommand = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "ca.key"]
        case "rsa-pkcs1": keyCommand = ["genrsa", "-traditional", "-out", "ca.key", "2048"]
        case "ec-pkcs8":
            keyCommand = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"]
        default: keyCommand = ["ecparam", "-name", "prime256v1", "-genkey", "-out", "ca.key"]
        }
        try #require(try TestSupport.openssl(keyCommand, in: directory).status == 0)
        let request = try TestSupport.openssl(
            [
                "req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "30", "-subj", "/O=Bench/CN=Bench CA",
                "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-addext", "subjectKeyIdentifier=hash",
                "-out", "ca.pem",
            ],
            in: directory
        )
        try #require(request.status == 0, "\(request.output)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: "\(directory)/ca.key")
        let keyText = try String(contentsOfFile: "\(directory)/ca.key", encoding: .utf8)
        #expect(
            keyText.contains(
                kind == "rsa-pkcs1"
                    ? "BEGIN RSA PRIVATE KEY" : kind.hasPrefix("ec-sec1") ? "BEGIN EC PRIVATE KEY" : "BEGIN PRIVATE KEY"
            )
        )

        let now = Date()
        let (authority, created) = try CertificateAuthority.loadOrCreate(
            certificatePath: "\(directory)/ca.pem",
            keyPath: "\(directory)/ca.key",
            now: now
        )
        #expect(!created)
        let minted = try authority.mintLeaf(for: "login.microsoftonline.com", now: now)
        let leaf = try Certificate(derEncoded: minted.certificateDER)
        #expect(leaf.signatureAlgorithm == (kind.hasPrefix("rsa") ? .sha256WithRSAEncryption : .ecdsaWithSHA256))
        let result = try await TestSupport.verify(
            leafDER: minted.certificateDER,
            root: authority.certificate,
            hostname: "login.microsoftonline.com",
            at: now
        )
        #expect(TestSupport.isValid(result), "\(result)")

        // openssl agrees: the leaf chains to the CA for TLS server use and names the host.
        try minted.certificatePEM.write(toFile: "\(directory)/leaf.pem", atomically: true, encoding: .utf8)
        let verify = try TestSupport.openssl(
            [
                "verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "-verify_hostname", "login.microsoftonline.com",
                "leaf.pem",
            ],
            in: directory
        )
        #expect(verify.status == 0, "\(verify.output)")
    }
}

import CertificateAuthority
import Foundation
import SwiftASN1
import Testing
import X509

/// The generated CA is a CA, and the leaves it mints verify with X509's verifier at a fixed reference time.
struct LeafMintingTests {
    let now = TestSupport.referenceTime

    @Test func generatedCertificateIsASelfSignedCA() throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let certificate = authority.certificate
        #expect(certificate.issuer == certificate.subject)
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(certificate.extensions[oid: .X509ExtensionID.basicConstraints]?.critical == true)
        let usage = try #require(try certificate.extensions.keyUsage)
        #expect(usage.keyCertSign && usage.cRLSign && !usage.digitalSignature)
        #expect(try certificate.extensions.subjectKeyIdentifier != nil)
        #expect(certificate.notValidBefore == now.addingTimeInterval(-3600))
        #expect(certificate.notValidAfter == now.addingTimeInterval(10 * 365 * 86_400))
        #expect(certificate.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(try Certificate(derEncoded: authority.certificateDER) == certificate)
        #expect(try Certificate(pemEncoded: authority.certificatePEM) == certificate)
    }

    @Test(arguments: [KeyAlgorithm.p256, .rsa2048])
    func mintedLeafVerifiesForItsHost(caKey: KeyAlgorithm) async throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now, keyAlgorithm: caKey)
        let minted = try authority.mintLeaf(for: "login.microsoftonline.com", now: now)
        let result = try await TestSupport.verify(
            leafDER: minted.certificateDER,
            root: authority.certificate,
            hostname: "login.microsoftonline.com",
            at: now
        )
        #expect(TestSupport.isValid(result), "\(result)")
        let other = try await TestSupport.verify(
            leafDER: minted.certificateDER,
            root: authority.certificate,
            hostname: "login.windows.net",
            at: now
        )
        #expect(!TestSupport.isValid(other))

        let leaf = try Certificate(derEncoded: minted.certificateDER)
        #expect(leaf.signatureAlgorithm == (caKey == .p256 ? .ecdsaWithSHA256 : .sha256WithRSAEncryption))
        #expect(leaf.subject == (try DistinguishedName { CommonName("login.microsoftonline.com") }))
        #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try leaf.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        #expect(try leaf.extensions.keyUsage == KeyUsage(digitalSignature: true))
        #expect(
            try leaf.extensions.authorityKeyIdentifier?.keyIdentifier
                == authority.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        )
        #expect(leaf.notValidBefore == now.addingTimeInterval(-3600))
        #expect(leaf.notValidAfter == now.addingTimeInterval(7 * 86_400))
        #expect(minted.notAfter == leaf.notValidAfter)
        #expect(minted.chainDER == [minted.certificateDER, authority.certificateDER])
        #expect(minted.chainPEM == [minted.certificatePEM, authority.certificatePEM])
        #expect(try Certificate(pemEncoded: minted.certificatePEM) == leaf)

        let keyFromDER = try Certificate.PrivateKey(derBytes: minted.privateKeyDER)
        let keyFromPEM = try Certificate.PrivateKey(pemEncoded: minted.privateKeyPEM)
        #expect(keyFromDER.publicKey == leaf.publicKey)
        #expect(keyFromPEM.publicKey == leaf.publicKey)
        #expect(minted.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test func eachLeafHasItsOwnKeyAndSerial() throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let first = try Certificate(derEncoded: try authority.mintLeaf(for: "a.example", now: now).certificateDER)
        let second = try Certificate(derEncoded: try authority.mintLeaf(for: "a.example", now: now).certificateDER)
        #expect(first.serialNumber != second.serialNumber)
        #expect(first.publicKey != second.publicKey)
    }

    @Test(arguments: ["127.0.0.1", "::1", "[::1]"])
    func ipLiteralGetsAnIPAddressSAN(host: String) async throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let minted = try authority.mintLeaf(for: host, now: now)
        let address = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let result = try await TestSupport.verify(
            leafDER: minted.certificateDER,
            root: authority.certificate,
            ip: address,
            at: now
        )
        #expect(TestSupport.isValid(result), "\(result)")
        let names = try #require(try Certificate(derEncoded: minted.certificateDER).extensions.subjectAlternativeNames)
        #expect(Array(names).count == 1)
        guard case .ipAddress(let bytes) = names.first else {
            Issue.record("expected an iPAddress SAN, got \(names)")
            return
        }
        #expect(bytes.bytes.count == (address.contains(":") ? 16 : 4))
    }

    @Test func oneLeafCanNameSeveralHosts() async throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let hosts = ["login.microsoftonline.com", "login.windows.net", "app.vssps.visualstudio.com"]
        let minted = try authority.mintLeaf(for: hosts + ["127.0.0.1"], now: now)
        for host in hosts {
            let result = try await TestSupport.verify(
                leafDER: minted.certificateDER,
                root: authority.certificate,
                hostname: host,
                at: now
            )
            #expect(TestSupport.isValid(result), "\(host): \(result)")
        }
        let byIP = try await TestSupport.verify(
            leafDER: minted.certificateDER,
            root: authority.certificate,
            ip: "127.0.0.1",
            at: now
        )
        #expect(TestSupport.isValid(byIP))
    }

    @Test func aHostTooLongForTheCommonNameIsNamedOnlyInACriticalSAN() async throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let host = String(repeating: "a", count: 60) + ".example.com"
        let minted = try authority.mintLeaf(for: host, now: now)
        let leaf = try Certificate(derEncoded: minted.certificateDER)
        #expect(leaf.subject == DistinguishedName())
        #expect(leaf.extensions[oid: .X509ExtensionID.subjectAlternativeName]?.critical == true)
        let result = try await TestSupport.verify(
            leafDER: minted.certificateDER,
            root: authority.certificate,
            hostname: host,
            at: now
        )
        #expect(TestSupport.isValid(result), "\(result)")
    }

    @Test func leafNeverOutlivesTheCA() throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        let late = authority.certificate.notValidAfter.addingTimeInterval(-86_400)
        #expect(try authority.mintLeaf(for: "a.example", now: late).notAfter == authority.certificate.notValidAfter)
        #expect {
            try authority.mintLeaf(for: "a.example", now: authority.certificate.notValidAfter.addingTimeInterval(1))
        } throws: { ($0 as? CertificateAuthorityError)?.code == .expired }
    }

    @Test(arguments: ["", "bad host", "tab\tname", "[]"])
    func refusesNamesThatAreNotHosts(host: String) throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        #expect {
            try authority.mintLeaf(for: host, now: now)
        } throws: { ($0 as? CertificateAuthorityError)?.code == .invalidHost }
    }

    @Test func refusesAnEmptyHostList() throws {
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: now)
        #expect {
            try authority.mintLeaf(for: [String](), now: now)
        } throws: { ($0 as? CertificateAuthorityError)?.code == .invalidHost }
    }
}

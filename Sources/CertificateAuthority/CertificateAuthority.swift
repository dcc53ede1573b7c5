import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// TenantGate's interception CA: loads or creates the CA files and mints leaf certificates for intercepted hosts
/// (SPEC 3, SPEC 5 "the CA key is created 0600 and refused when readable by others").
public final class CertificateAuthority: Sendable {
    public let certificate: Certificate
    private let privateKey: Certificate.PrivateKey
    private let subjectKeyIdentifier: ArraySlice<UInt8>?

    init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws {
        guard certificate.publicKey == privateKey.publicKey else {
            throw CertificateAuthorityError(.keyDoesNotMatch, "the CA key does not belong to the CA certificate")
        }
        self.certificate = certificate
        self.privateKey = privateKey
        self.subjectKeyIdentifier = (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier
    }

    /// A new self-signed P-256 CA, in memory.
    public static func generate(commonName: String, now: Date) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("TenantGate")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Loads the CA from its two PEM files, or creates both when neither exists.
    public static func loadOrCreate(certificatePath: String, keyPath: String, now: Date) throws -> (CertificateAuthority, created: Bool) {
        let manager = FileManager.default
        switch (manager.fileExists(atPath: certificatePath), manager.fileExists(atPath: keyPath)) {
        case (true, true):
            return (try load(certificatePath: certificatePath, keyPath: keyPath), false)
        case (false, false):
            let authority = try generate(commonName: "TenantGate interception CA", now: now)
            try authority.write(certificatePath: certificatePath, keyPath: keyPath)
            return (authority, true)
        case (true, false), (false, true):
            throw CertificateAuthorityError(
                .onlyOneFilePresent,
                "only one of \(certificatePath) and \(keyPath) exists: give both, or remove the other to create a new CA")
        }
    }

    static func load(certificatePath: String, keyPath: String) throws -> CertificateAuthority {
        var status = stat()
        guard stat(keyPath, &status) == 0 else {
            throw CertificateAuthorityError(.unreadable, "cannot read \(keyPath)")
        }
        if status.st_mode & 0o077 != 0 {
            throw CertificateAuthorityError(
                .keyReadableByOthers,
                "\(keyPath) is readable or writable by group or others (mode \(String(status.st_mode & 0o777, radix: 8))); "
                    + "run 'chmod 600 \(keyPath)'")
        }
        guard let certificateText = try? String(contentsOfFile: certificatePath, encoding: .utf8),
            let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8)
        else { throw CertificateAuthorityError(.unreadable, "cannot read \(certificatePath) or \(keyPath)") }
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: certificateText)
        } catch {
            throw CertificateAuthorityError(.unreadable, "\(certificatePath) is not a PEM certificate (\(error))")
        }
        do {
            key = try Certificate.PrivateKey(pemEncoded: keyText)
        } catch {
            throw CertificateAuthorityError(.unsupportedKey, "\(keyPath) is not a PEM EC or RSA private key (\(error))")
        }
        if let constraints = try? certificate.extensions.basicConstraints, case .notCertificateAuthority = constraints {
            throw CertificateAuthorityError(.notACertificateAuthority, "\(certificatePath) is not a CA certificate")
        }
        do {
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch let error as CertificateAuthorityError {
            throw CertificateAuthorityError(error.code, "\(keyPath): \(error.message) \(certificatePath)")
        }
    }

    /// Writes the certificate (0644) and the key (created 0600, never widened) to new files.
    func write(certificatePath: String, keyPath: String) throws {
        for path in [certificatePath, keyPath] {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
        }
        try Self.createFile(keyPath, contents: try privateKey.serializeAsPEM().pemString + "\n", mode: 0o600)
        try Self.createFile(certificatePath, contents: certificatePEM, mode: 0o644)
    }

    private static func createFile(_ path: String, contents: String, mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw CertificateAuthorityError(.cannotWrite, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(descriptor) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw CertificateAuthorityError(.cannotWrite, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    public var certificatePEM: String {
        ((try? certificate.serializeAsPEM().pemString) ?? "") + "\n"
    }

    /// A leaf for one host (or several names); P-256 key, serverAuth, valid 7 days or until the CA expires.
    public func mintLeaf(for host: String, now: Date) throws -> MintedLeaf {
        try mintLeaf(for: [host], now: now)
    }

    public func mintLeaf(for hosts: [String], now: Date) throws -> MintedLeaf {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let names: [GeneralName] = hosts.map { host in
            if let address = Self.ipAddressBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: address[...])) }
            return .dnsName(host)
        }
        let notAfter = min(now.addingTimeInterval(7 * 86_400), certificate.notValidAfter)
        let signatureAlgorithm = Self.signatureAlgorithm(for: privateKey.publicKey)
        let subjectKeyIdentifier = self.subjectKeyIdentifier
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: notAfter,
            issuer: certificate.subject,
            subject: try DistinguishedName { CommonName(hosts.first ?? "tenantgate") },
            signatureAlgorithm: signatureAlgorithm,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                if let subjectKeyIdentifier { AuthorityKeyIdentifier(keyIdentifier: subjectKeyIdentifier) }
            },
            issuerPrivateKey: privateKey)
        let leafPEM = try leaf.serializeAsPEM().pemString
        return MintedLeaf(
            certificatePEM: leafPEM, privateKeyPEM: try key.serializeAsPEM().pemString,
            chainPEM: [leafPEM, try certificate.serializeAsPEM().pemString], notAfter: notAfter)
    }

    /// The algorithm a CA key signs with: RSA PKCS#1 v1.5 SHA-256, or ECDSA with the curve's hash.
    static func signatureAlgorithm(for key: Certificate.PublicKey) -> Certificate.SignatureAlgorithm {
        if _RSA.Signing.PublicKey(key) != nil { return .sha256WithRSAEncryption }
        if P384.Signing.PublicKey(key) != nil { return .ecdsaWithSHA384 }
        return .ecdsaWithSHA256
    }

    /// The 4 or 16 bytes of an IP literal, or nil for a name.
    static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

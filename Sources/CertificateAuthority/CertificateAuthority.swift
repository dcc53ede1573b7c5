import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// TenantGate's interception CA: the certificate and key that sign a leaf for every intercepted host (SPEC 3).
/// Loading and creating the files is in `CertificateAuthority+Files.swift`, minting in `CertificateAuthority+Leaf.swift`.
/// Immutable once made, so one instance serves every event loop.
package final class CertificateAuthority: Sendable {
    package let certificate: Certificate
    /// The CA certificate, DER, serialised once.
    package let certificateDER: [UInt8]
    /// The CA certificate, PEM with a final newline, serialised once.
    package let certificatePEM: String
    let privateKey: Certificate.PrivateKey
    /// How this CA signs: ECDSA with the curve's hash, or RSA PKCS#1 v1.5 SHA-256.
    let signatureAlgorithm: Certificate.SignatureAlgorithm
    /// The CA's subject key identifier, repeated as each leaf's authority key identifier.
    let subjectKeyIdentifier: ArraySlice<UInt8>?

    /// Pairs a CA certificate with its key; refuses a key that is not the certificate's or that cannot sign.
    package init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws {
        guard certificate.publicKey == privateKey.publicKey else {
            throw CertificateAuthorityError(
                .keyDoesNotMatch,
                "the CA private key does not belong to the CA certificate"
            )
        }
        self.signatureAlgorithm = try Self.signatureAlgorithm(for: privateKey)
        self.certificate = certificate
        self.privateKey = privateKey
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        self.certificateDER = serializer.serializedBytes
        self.certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        self.subjectKeyIdentifier = (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier
    }

    /// A new self-signed CA in memory: basicConstraints CA (critical, path length 0), keyUsage keyCertSign and
    /// cRLSign (critical), a subject key identifier, valid from an hour before `now` for ten years.
    package static func generate(
        commonName: String,
        now: Date,
        keyAlgorithm: KeyAlgorithm = .p256
    ) throws -> CertificateAuthority {
        let key = try keyAlgorithm.generatePrivateKey()
        let name = try DistinguishedName {
            OrganizationName("TenantGate")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: try signatureAlgorithm(for: key),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key
        )
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// The algorithm a CA key signs with: RSA PKCS#1 v1.5 SHA-256, or ECDSA with the hash matching the curve.
    static func signatureAlgorithm(for key: Certificate.PrivateKey) throws -> Certificate.SignatureAlgorithm {
        let publicKey = key.publicKey
        if _RSA.Signing.PublicKey(publicKey) != nil { return .sha256WithRSAEncryption }
        if P256.Signing.PublicKey(publicKey) != nil { return .ecdsaWithSHA256 }
        if P384.Signing.PublicKey(publicKey) != nil { return .ecdsaWithSHA384 }
        if P521.Signing.PublicKey(publicKey) != nil { return .ecdsaWithSHA512 }
        throw CertificateAuthorityError(
            .unsupportedKey,
            "the CA key must be EC (P-256, P-384, P-521) or RSA, not \(publicKey)"
        )
    }
}

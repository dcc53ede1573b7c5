import Crypto
import Foundation
import SwiftASN1
import X509

extension CertificateAuthority {
    /// A leaf for one host: subject CN and SAN name the host (an `iPAddress` SAN for an IP literal).
    package func mintLeaf(for host: String, now: Date) throws -> MintedLeaf {
        try mintLeaf(for: [host], now: now)
    }

    /// A leaf for several names (the first is the subject CN): a fresh P-256 key, EKU serverAuth, keyUsage
    /// digitalSignature, not a CA, the CA's key identifier, a random serial, valid from an hour before `now` for
    /// 7 days or until the CA itself expires, signed with the CA's key. Minting costs a key generation and a
    /// signature: cache the result and keep it off event loops (STYLE 4).
    package func mintLeaf(for hosts: [String], now: Date) throws -> MintedLeaf {
        guard !hosts.isEmpty else {
            throw CertificateAuthorityError(.invalidHost, "a leaf certificate needs at least one host name")
        }
        let names = try hosts.map(LeafName.init)
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = min(now.addingTimeInterval(7 * 86_400), certificate.notValidAfter)
        guard notAfter > now, certificate.notValidBefore <= now else {
            throw CertificateAuthorityError(
                .expired,
                "the CA certificate is valid from \(certificate.notValidBefore) to \(certificate.notValidAfter), "
                    + "not now (\(now)): replace the CA files to mint leaves"
            )
        }
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subjectKeyIdentifier = self.subjectKeyIdentifier
        let commonName = names.first?.commonName
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: certificate.subject,
            subject: try DistinguishedName {
                if let commonName { CommonName(commonName) }
            },
            signatureAlgorithm: signatureAlgorithm,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                // RFC 5280 4.2.1.6: with an empty subject the SAN extension is critical.
                if commonName == nil {
                    Critical(SubjectAlternativeNames(names.map(\.generalName)))
                } else {
                    SubjectAlternativeNames(names.map(\.generalName))
                }
                SubjectKeyIdentifier(hash: publicKey)
                if let subjectKeyIdentifier { AuthorityKeyIdentifier(keyIdentifier: subjectKeyIdentifier) }
            },
            issuerPrivateKey: privateKey
        )
        var serializer = DER.Serializer()
        try serializer.serialize(leaf)
        let leafDER = serializer.serializedBytes
        let leafPEM = PEMDocument(type: "CERTIFICATE", derBytes: leafDER).pemString + "\n"
        return MintedLeaf(
            certificateDER: leafDER,
            privateKeyDER: Array(key.derRepresentation),
            certificatePEM: leafPEM,
            privateKeyPEM: key.pemRepresentation + "\n",
            chainDER: [leafDER, certificateDER],
            chainPEM: [leafPEM, certificatePEM],
            notAfter: notAfter
        )
    }
}

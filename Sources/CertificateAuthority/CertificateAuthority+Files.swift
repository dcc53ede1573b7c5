import Foundation
import Plumbing
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CertificateAuthority {
    /// The CA from `--ca-cert` and `--ca-key` (SPEC 4): both files present are loaded (EC or RSA key, PKCS#8,
    /// SEC1 or PKCS#1 PEM); neither present, a new P-256 CA is generated and written (key 0600 from creation,
    /// certificate 0644, directories made as needed); only one present is an error. A key readable or writable
    /// by group or others is refused (SPEC 5), as is a key that is not the certificate's.
    package static func loadOrCreate(
        certificatePath: String,
        keyPath: String,
        now: Date
    ) throws -> (CertificateAuthority, created: Bool) {
        switch (exists(certificatePath), exists(keyPath)) {
        case (true, true):
            return (try load(certificatePath: certificatePath, keyPath: keyPath), false)
        case (false, false):
            let authority = try generate(commonName: "TenantGate interception CA", now: now)
            try authority.write(certificatePath: certificatePath, keyPath: keyPath)
            return (authority, true)
        case (true, false):
            throw CertificateAuthorityError(
                .onlyOneFilePresent,
                "\(certificatePath) exists but its key \(keyPath) does not: give the key, or remove \(certificatePath) "
                    + "to have a new CA created",
                path: keyPath
            )
        case (false, true):
            throw CertificateAuthorityError(
                .onlyOneFilePresent,
                "\(keyPath) exists but its certificate \(certificatePath) does not: give the certificate, or remove "
                    + "\(keyPath) to have a new CA created",
                path: certificatePath
            )
        }
    }

    /// Loads a CA from its PEM files, checking the key's mode before reading it.
    package static func load(certificatePath: String, keyPath: String) throws -> CertificateAuthority {
        var status = stat()
        guard stat(keyPath, &status) == 0 else {
            throw CertificateAuthorityError(
                .unreadable,
                "cannot read \(keyPath): \(String(cString: strerror(errno)))",
                path: keyPath
            )
        }
        let mode = status.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw CertificateAuthorityError(
                .keyReadableByOthers,
                "\(keyPath) is readable or writable by group or others (mode \(String(mode, radix: 8))): "
                    + "run 'chmod 600 \(keyPath)'",
                path: keyPath
            )
        }
        let certificate = try readCertificate(certificatePath)
        let key = try readPrivateKey(keyPath)
        try requireCertificateAuthority(certificate, certificatePath)
        guard certificate.publicKey == key.publicKey else {
            throw CertificateAuthorityError(
                .keyDoesNotMatch,
                "\(keyPath) is not the private key of the certificate in \(certificatePath)",
                path: keyPath
            )
        }
        do {
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch let error as CertificateAuthorityError {
            throw CertificateAuthorityError(error.code, "\(keyPath): \(error.message)", path: keyPath)
        }
    }

    /// Writes the key then the certificate as new files; if the certificate fails, the new key is removed so the
    /// next start does not find only one of them.
    /// A new file, all at once, its mode set from the moment it exists: a reader never sees a partial CA key, and
    /// the key is never readable by others, not even for an instant (SPEC 5).
    private static func create(_ path: String, contents: String, mode: mode_t, exactMode: Bool) throws {
        do {
            try DurableFile.createExclusively(path, contents: Array(contents.utf8), mode: mode, exactMode: exactMode)
        } catch {
            throw CertificateAuthorityError(.cannotWrite, error.description, path: error.path)
        }
    }

    func write(certificatePath: String, keyPath: String) throws {
        try Self.makeDirectory(containing: keyPath, mode: 0o700)
        try Self.makeDirectory(containing: certificatePath, mode: 0o755)
        let keyPEM = try privateKey.serializeAsPEM().pemString + "\n"
        try Self.create(keyPath, contents: keyPEM, mode: 0o600, exactMode: false)
        do {
            try Self.create(certificatePath, contents: certificatePEM, mode: 0o644, exactMode: true)
        } catch {
            unlink(keyPath)
            throw error
        }
    }

    private static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    private static func makeDirectory(containing path: String, mode: Int) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !exists(directory) else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: mode]
            )
        } catch {
            throw CertificateAuthorityError(
                .cannotWrite,
                "cannot create the directory \(directory) for \(path): \(error)",
                path: directory
            )
        }
    }

    private static func pemDocuments(_ path: String) throws -> [PEMDocument] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CertificateAuthorityError(.unreadable, "cannot read \(path): \(error)", path: path)
        }
        do {
            return try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw CertificateAuthorityError(.unreadable, "\(path) is not a PEM file (\(error))", path: path)
        }
    }

    private static func readCertificate(_ path: String) throws -> Certificate {
        guard let document = try pemDocuments(path).first(where: { $0.discriminator == "CERTIFICATE" }) else {
            throw CertificateAuthorityError(.unreadable, "\(path) holds no BEGIN CERTIFICATE block", path: path)
        }
        do {
            return try Certificate(pemDocument: document)
        } catch {
            throw CertificateAuthorityError(
                .unreadable,
                "\(path) holds a certificate that cannot be parsed (\(error))",
                path: path
            )
        }
    }

    /// The first private key block: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`, possibly after an
    /// `EC PARAMETERS` block) or PKCS#1 (`RSA PRIVATE KEY`).
    private static func readPrivateKey(_ path: String) throws -> Certificate.PrivateKey {
        let documents = try pemDocuments(path)
        if documents.contains(where: { $0.discriminator == "ENCRYPTED PRIVATE KEY" }) {
            throw CertificateAuthorityError(
                .unsupportedKey,
                "\(path) is encrypted: store it unencrypted with mode 0600 "
                    + "('openssl pkey -in \(path) -out \(path).plain', then move it into place)",
                path: path
            )
        }
        let kinds = ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]
        guard let document = documents.first(where: { kinds.contains($0.discriminator) }) else {
            throw CertificateAuthorityError(
                .unreadable,
                "\(path) holds no BEGIN PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block",
                path: path
            )
        }
        do {
            return try Certificate.PrivateKey(pemDocument: document)
        } catch {
            throw CertificateAuthorityError(
                .unsupportedKey,
                "\(path) is not an EC (P-256, P-384, P-521) or RSA private key (\(error))",
                path: path
            )
        }
    }

    /// A CA certificate must say so (basicConstraints CA) and, when it limits key usage, allow certificate signing.
    private static func requireCertificateAuthority(_ certificate: Certificate, _ path: String) throws {
        let constraints = (try? certificate.extensions.basicConstraints) ?? nil
        guard case .isCertificateAuthority = constraints else {
            throw CertificateAuthorityError(
                .notACertificateAuthority,
                "\(path) is not a CA certificate (its basicConstraints extension does not say CA:TRUE)",
                path: path
            )
        }
        if let usage = (try? certificate.extensions.keyUsage) ?? nil, !usage.keyCertSign {
            throw CertificateAuthorityError(
                .notACertificateAuthority,
                "\(path) is a CA certificate whose keyUsage does not allow keyCertSign",
                path: path
            )
        }
    }
}

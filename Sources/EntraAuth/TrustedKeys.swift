import JWTKit
import TokenInspection

/// The signing keys trusted at one moment, each pinned to one algorithm and kept to the issuers it signs for.
///
/// jwt-kit lets the token header choose the algorithm for a key without `alg`, and falls back to its default key
/// for an unknown `kid`. Pinning each key and insisting on a known `kid` means a token cannot pick how it is checked:
/// no `alg: none`, no HMAC keyed with a package key, no second key tried.
struct TrustedKeys: Sendable {
    private let collection: JWTKeyCollection
    private let algorithms: [String: String]
    private let scopes: [String: KeyScope]

    init(_ published: PublishedKeys, source: String) async throws(JWKSError) {
        let keys = try Self.pinned(published, source: source)
        let collection = JWTKeyCollection()
        for key in keys {
            do {
                try await collection.add(jwk: key)
            } catch {
                let kid = key.keyIdentifier?.string ?? ""
                throw JWKSError(source: source, reason: "has a key '\(kid)' that cannot be used: \(error)")
            }
        }
        self.collection = collection
        self.algorithms = Dictionary(
            keys.compactMap { key in key.keyIdentifier.map { ($0.string, key.algorithm?.rawValue ?? "") } },
            uniquingKeysWith: { _, last in last }
        )
        self.scopes = published.scopes
    }

    /// The keys with `alg` set: the JWK's own, or the one its key type and curve imply (Entra's RSA keys carry none
    /// and sign with RS256). A key published for encryption only is refused as one with an encryption `alg` is.
    static func pinned(_ published: PublishedKeys, source: String) throws(JWKSError) -> [JWK] {
        let jwks = published.jwks
        guard !jwks.keys.isEmpty else { throw JWKSError(source: source, reason: "contains no keys") }
        return try jwks.keys.map { (key: JWK) throws(JWKSError) -> JWK in
            guard let kid = key.keyIdentifier?.string else {
                throw JWKSError(source: source, reason: "has a key without a kid")
            }
            if let scope = published.scopes[kid], !scope.verifiesSignatures {
                let reason = "has a key '\(kid)' published for encryption (use/key_ops), not to verify signatures"
                throw JWKSError(source: source, reason: reason)
            }
            guard let algorithm = signingAlgorithm(for: key) else {
                let described = "kty \(key.keyType.rawValue), alg \(key.algorithm?.rawValue ?? "none given")"
                let reason = "has a key '\(kid)' (\(described)) that cannot verify signatures"
                throw JWKSError(source: source, reason: reason)
            }
            var pinned = key
            pinned.algorithm = algorithm
            return pinned
        }
    }

    private static func signingAlgorithm(for key: JWK) -> JWK.Algorithm? {
        let allowed: [JWK.Algorithm]
        let implied: JWK.Algorithm?
        if key.keyType == .rsa {
            allowed = [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512]
            implied = .rs256
        } else if key.keyType == .ecdsa {
            let byCurve: [String: JWK.Algorithm] = ["P-256": .es256, "P-384": .es384, "P-521": .es512]
            implied = key.curve.flatMap { byCurve[$0.rawValue] }
            allowed = implied.map { [$0] } ?? []
        } else {
            allowed = [.eddsa]
            implied = .eddsa
        }
        guard let algorithm = key.algorithm ?? implied, allowed.contains(algorithm) else { return nil }
        return algorithm
    }

    /// Verifies the signature with the key the token names, only if the token names that key's algorithm.
    func verify(
        _ token: String,
        keyID: String,
        algorithm: String
    ) async throws(AuthenticationFailure) -> EntraTokenClaims {
        guard let pinned = algorithms[keyID] else { throw .unknownKey }
        guard algorithm == pinned else { throw .algorithmNotAllowed }
        do {
            return try await collection.verify(token, as: EntraTokenClaims.self)
        } catch {
            throw .invalidSignature
        }
    }

    /// What the key set says the key signs for; nil when it says nothing.
    func scope(of keyID: String) -> KeyScope? {
        scopes[keyID]
    }

    func trusts(keyID: String) -> Bool {
        algorithms[keyID] != nil
    }
}

import JWTKit
import TenantPolicy
import TokenInspection

/// What a key set says a key is for, beyond its algorithm: RFC 7517's `use` and `key_ops`, and the `issuer` Entra
/// publishes with each key. A key every organisation shares names the template
/// `https://login.microsoftonline.com/{tenantid}/v2.0`; a key of one tenant alone (the personal-account key in the
/// common document, an application's own signing key) names that tenant's issuer. Microsoft's validation rules tie
/// a token's issuer to the scope of the key that signed it: without that, whoever holds one tenant's key signed
/// maker tokens "of" any other and chose the creator tenant with them (review 36 F1).
struct KeyScope: Decodable, Sendable {
    let kid: String?
    let use: String?
    let keyOperations: [String]?
    let issuer: String?

    enum CodingKeys: String, CodingKey {
        case kid, use, issuer
        case keyOperations = "key_ops"
    }

    /// Whether the key may verify signatures: a key published for encryption is for whoever decrypts with it.
    var verifiesSignatures: Bool {
        (use.map { $0 == "sig" } ?? true) && (keyOperations.map { $0.contains("verify") } ?? true)
    }

    /// Whether the key signs for `tokenIssuer`, already tied to the token's `tenant` by `IssuerPolicy`.
    func signs(for tokenIssuer: String, tenant: TenantID) -> Bool {
        guard let issuer, !issuer.contains("{tenantid}") else { return true }
        // One Entra tenant's key signs its v1 and v2 tokens alike (its documents differ only in the issuer's form).
        if let keyTenant = EntraIssuer.parse(issuer)?.tenant { return keyTenant == tenant }
        return issuer == tokenIssuer
    }
}

/// A JSON Web Key Set as published: the keys, and what each may be used for.
package struct PublishedKeys: Sendable {
    let jwks: JWKS
    /// By `kid`; the last of a duplicated `kid` wins, as it does among the keys.
    let scopes: [String: KeyScope]
}

import Foundation
import NetworkPolicy
import Plumbing
import TenantPolicy
import TestSupport
import Testing

@testable import ExchangePolicy

/// Where the creator tenant comes from: a token that is sent must verify and never falls back; without one, the
/// most specific address range, then the default (SPEC 3, 4.1).
struct CreatorResolverTests {
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = ExampleTenants.northwind

    static func resolver(defaultCreator: TenantID? = northwind) -> CreatorResolver {
        CreatorResolver(
            verifier: nil,
            byClientAddress: AddressMap([
                (AddressRange(cidr: "10.0.0.0/8")!, [contoso]),
                (AddressRange(cidr: "10.1.2.0/24")!, [fabrikam, contoso]),
            ]),
            defaultCreator: defaultCreator
        )
    }

    static func resolve(
        _ resolver: CreatorResolver,
        token: String?,
        address: String?
    ) async -> CreatorResolver.Resolution {
        switch resolver.lookUp(proxyAuthorization: token, clientAddress: address.flatMap { IPAddress($0) }) {
        case .resolved(let resolution): resolution
        case .verify(let token): await resolver.verify(token, clientAddress: address.flatMap { IPAddress($0) })
        }
    }

    @Test(arguments: [
        ("10.1.2.3", fabrikam), ("::ffff:10.1.2.3", fabrikam), ("10.9.9.9", contoso), ("192.0.2.1", northwind),
    ])
    func withoutATokenTheMostSpecificRangeThenTheDefaultDecides(address: String, expected: TenantID) async {
        guard case .known(let tenant, _) = await Self.resolve(Self.resolver(), token: nil, address: address) else {
            Issue.record("no creator for \(address)")
            return
        }
        #expect(tenant == expected)
    }

    /// Neither the address map nor the default stands in for a token that does not verify.
    @Test(arguments: ["Bearer eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"])
    func aTokenThatDoesNotVerifyIsRefusedWithoutFallback(_ header: String) async {
        let resolution = await Self.resolve(Self.resolver(), token: header, address: "10.1.2.3")
        guard case .refused(let reason) = resolution else {
            Issue.record("\(header) was not refused: \(resolution)")
            return
        }
        #expect(!reason.contains("eyJ"))
    }

    @Test func noSourceLeavesTheCreatorUnknown() async {
        let resolution = await Self.resolve(Self.resolver(defaultCreator: nil), token: nil, address: "192.0.2.1")
        guard case .unknown = resolution else {
            Issue.record("expected unknown, got \(resolution)")
            return
        }
    }
    /// Review 19: a session opened with a maker token kept acting for its tenant after the token expired, and after
    /// the policy that let a client granted nothing act for it was removed. Each request's creator is its standing.
    @Test func aMakerTokensGrantEndsWithTheTokenOrWithThePolicy() {
        let governed = Locked(true)
        let clock = Locked(Date(timeIntervalSince1970: 1_000))
        let resolver = CreatorResolver(
            verifier: nil,
            byClientAddress: AddressMap([(AddressRange(cidr: "10.0.0.0/8")!, [Self.contoso])]),
            defaultCreator: nil,
            ungrantedMakers: .governed,
            isGoverned: { _ in governed.withLock { $0 } },
            now: { clock.withLock { $0 } }
        )
        let shared = IPAddress("192.0.2.1")
        let opened = CreatorResolver.Resolution.known(
            Self.fabrikam,
            source: .verifiedToken(expiresAt: Date(timeIntervalSince1970: 1_060))
        )
        #expect(resolver.standing(opened, clientAddress: shared) == opened)
        governed.withLock { $0 = false }
        guard case .refused(let reason) = resolver.standing(opened, clientAddress: shared) else {
            Issue.record("an ungoverned tenant still stands")
            return
        }
        #expect(reason.contains("not governed"))
        governed.withLock { $0 = true }
        clock.withLock { $0 = Date(timeIntervalSince1970: 1_061) }
        guard case .unknown(let unknown) = resolver.standing(opened, clientAddress: shared) else {
            Issue.record("an expired maker token still stands")
            return
        }
        #expect(unknown.reason.contains("expired"))
        // The address map and the default are start-up grants: they stand.
        let mapped = CreatorResolver.Resolution.known(Self.contoso, source: .clientAddress)
        #expect(resolver.standing(mapped, clientAddress: IPAddress("10.1.1.1")) == mapped)
    }
}

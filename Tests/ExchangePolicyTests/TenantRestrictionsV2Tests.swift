import ExchangePolicy
import Testing

/// `--tenant-restrictions-v2 TENANT:POLICY`: the header goes upstream as Microsoft documents it,
/// `<TenantId>:<policyGuid>`, however the operator wrote either GUID (review 54: braces went upstream as given).
struct TenantRestrictionsV2Tests {
    @Test(arguments: [
        "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0:9f4e6c2a-1b3d-4e5f-8a7b-6c5d4e3f2a1b",
        "{BB1B10FB-A1FF-4CA4-B979-03FCF4AF49A0}:{9F4E6C2A-1B3D-4E5F-8A7B-6C5D4E3F2A1B}",
    ])
    func theHeaderCarriesBothGUIDsInTheirCanonicalForm(_ written: String) throws {
        let restrictions = try #require(TenantRestrictionsV2(parsing: written))
        #expect(
            restrictions.headerValue == "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0:9f4e6c2a-1b3d-4e5f-8a7b-6c5d4e3f2a1b"
        )
    }

    @Test(arguments: ["bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0", "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0:policy", ":x"])
    func anythingElseIsRefused(_ written: String) {
        #expect(TenantRestrictionsV2(parsing: written) == nil)
    }
}

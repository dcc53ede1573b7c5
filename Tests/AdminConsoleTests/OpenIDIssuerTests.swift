import Foundation
import Testing

@testable import AdminConsole

/// The configuration document must name the issuer the operator configured: whoever answers the discovery URL
/// otherwise chooses whose tokens sign administrators in.
struct OpenIDIssuerTests {
    @Test(arguments: [
        ("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/organizations/v2.0"),
        ("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/common/v2.0/"),
        (
            "https://login.microsoftonline.com/bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0/v2.0",
            "https://login.microsoftonline.com/bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0/v2.0"
        ),
    ])
    func theConfiguredIssuerIsAccepted(_ discovered: String, _ configured: String) throws {
        #expect(OpenIDProvider.issuer(discovered, isTheConfigured: try #require(URL(string: configured))))
    }

    @Test(arguments: [
        ("https://evil.example/{tenantid}/v2.0", "https://login.microsoftonline.com/organizations/v2.0"),
        (
            "https://login.microsoftonline.com/0da59725-89fe-4a2f-bf22-fd4536c9baac/v2.0",
            "https://login.microsoftonline.com/bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0/v2.0"
        ),
        ("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/x/v2.0"),
        ("http://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/common/v2.0"),
    ])
    func anotherIssuerIsRefused(_ discovered: String, _ configured: String) throws {
        #expect(!OpenIDProvider.issuer(discovered, isTheConfigured: try #require(URL(string: configured))))
    }
}

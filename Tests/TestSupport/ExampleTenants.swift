import TenantPolicy

/// The tenants of the example policies (`policies/`) and of the seed's scenarios, spelt once for every test target.
package enum ExampleTenants {
    package static let contoso = tenant("bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0")
    package static let fabrikam = tenant("0da59725-89fe-4a2f-bf22-fd4536c9baac")
    package static let northwind = tenant("8ac90d1b-d459-4375-a421-dd0005f9d0d1")
    package static let adatum = tenant("4760d329-4de4-4d52-bfed-ecc7ef0af950")

    private static func tenant(_ text: String) -> TenantID {
        guard let tenant = TenantID(text) else { preconditionFailure("\(text) is not a tenant ID") }
        return tenant
    }
}

import EntraAuth
import Foundation
import TenantPolicy
import TestSupport
import Testing

@testable import AdminAPI

/// The `policy_change` and `policy_change_failed` lines, whole, at a fixed time and correlation ID: keys sorted, the
/// actor's absent fields left out, an absent policy an explicit null.
struct PolicyChangeRecordTests {
    static let time = Date(timeIntervalSince1970: 1_798_761_600.5)
    static let correlationID = UUID(uuidString: "6F1C2D3E-0000-4000-8000-000000000001")!
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam

    static var record: PolicyChangeRecord {
        var directory = TenantDirectory()
        directory.register(displayName: "Fabrikam / EU", for: fabrikam)
        let isolation = IsolationPolicy(
            tenantID: contoso,
            isEnabled: true,
            rules: [IsolationRule(subject: .tenant(fabrikam), directions: .inbound)]
        )
        return PolicyChangeRecord(
            time: time,
            actor: AdminPrincipal(
                tenant: contoso,
                objectID: nil,
                displayName: "Ada \"the\" Admin",
                username: nil,
                roles: [.globalAdministrator],
                applicationID: nil
            ),
            tenant: contoso,
            resource: "tenantIsolationPolicy",
            operation: "POST rules",
            before: nil,
            after: .isolation(PowerPlatformIsolationDocument(isolation, directory: directory)),
            policyVersion: "v7",
            correlationID: correlationID
        )
    }

    @Test func theChangeLine() throws {
        let line = String(decoding: try Self.record.jsonLine(), as: UTF8.self)
        #expect(
            line
                == #"{"actor":{"name":"Ada \"the\" Admin","tenant":"\#(Self.contoso)"},"after":{"properties":{"#
                + #""allowedTenants":[{"direction":{"inbound":true,"outbound":false},"tenantDisplayName":"Fabrikam / EU","#
                + #""tenantId":"\#(Self.fabrikam)"}],"isDisabled":false,"tenantId":"\#(Self.contoso)"}},"before":null,"#
                + #""correlation_id":"6f1c2d3e-0000-4000-8000-000000000001","event":"policy_change","#
                + #""operation":"POST rules","policy_version":"v7","resource":"tenantIsolationPolicy","#
                + #""tenant":"\#(Self.contoso)","time":"2027-01-01T00:00:00.500Z"}"# + "\n"
        )
    }

    @Test func theWithdrawalLineKeepsTheCorrelationID() throws {
        let withdrawal = Self.record.withdrawal(reason: "disk full", time: Self.time.addingTimeInterval(1))
        #expect(
            String(decoding: try withdrawal.jsonLine(), as: UTF8.self)
                == #"{"correlation_id":"6f1c2d3e-0000-4000-8000-000000000001","event":"policy_change_failed","#
                + #""reason":"the change was not applied: disk full","tenant":"\#(Self.contoso)","#
                + #""time":"2027-01-01T00:00:01.500Z"}"# + "\n"
        )
    }
}

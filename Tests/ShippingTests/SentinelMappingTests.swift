import Foundation
import NIOCore
import Testing

@testable import Shipping

/// The Sentinel sink's rows (ASIM), its calls within the API's limit, and its URL.
struct SentinelMappingTests {
    @Test func aPolicyChangeIsAnASIMAuditEvent() throws {
        let line = Data(
            (#"{"time":"2026-12-05T10:00:00.000Z","event":"policy_change","actor":{"tenant":"t1","object_id":"o1","#
                + #""name":"admin@contoso.com","application_id":null},"tenant":"t1","resource":"tenantIsolationPolicy","#
                + #""operation":"replace","before":null,"after":{"enabled":true},"policy_version":"v2","#
                + #""correlation_id":"c1"}"#).utf8
        )
        let row = ASIMRecord.row(AuditRecord(line: line), device: "proxy-1")
        for (field, value) in [
            ("EventSchema", "AuditEvent"), ("EventSchemaVersion", "0.1"), ("EventType", "Set"),
            ("EventResult", "Success"), ("Operation", "replace"), ("Object", "tenantIsolationPolicy"),
            ("ObjectType", "Policy Rule"), ("ActorUsername", "admin@contoso.com"), ("ActorScopeId", "t1"),
            ("NewValue", #"{"enabled":true}"#), ("Dvc", "proxy-1"), ("EventOriginalUid", "c1"),
            ("TimeGenerated", "2026-12-05T10:00:00.000Z"),
        ] {
            #expect(row[field] == .text(value), "\(field): \(String(describing: row[field]))")
        }
        #expect(row["OldValue"] == nil)
        #expect(row["EventCount"] == .number(1))
        let failed = ASIMRecord.row(
            AuditRecord(line: Data(#"{"event":"policy_change_failed","tenant":"t1","correlation_id":"c1"}"#.utf8)),
            device: "d"
        )
        #expect(failed["EventResult"] == .text("Failure"))
        // A bare value (an edited line): Foundation on Linux stops the process for one unless it may write fragments.
        let bare = ASIMRecord.row(
            AuditRecord(line: Data(#"{"event":"policy_change","before":"x","after":1.5}"#.utf8)),
            device: "d"
        )
        #expect(bare["OldValue"] == .text(#""x""#) && bare["NewValue"] == .text("1.5"))
    }

    /// A blocked exchange as an Authentication logon, and a line that is not JSON carried whole as a string; both as
    /// the API receives them, one JSON array.
    @Test func aDecisionIsALogonAndALineThatIsNotJSONGoesAsAString() throws {
        let decision = AuditRecord(
            line: Data(
                (#"{"time":"2026-12-05T10:00:00.000Z","decision":"blocked","setting":"outbound","#
                    + #""creator_tenant":"c","sign_in_tenant":"s","host":"login.microsoftonline.com","#
                    + #""path":"/s/oauth2/v2.0/token","client_id":"app","reason":"no rule","correlation_id":"c1"}"#)
                    .utf8
            )
        )
        let text = "not \"JSON\" \\ \u{1}"
        let garbage = AuditRecord(line: Data(text.utf8))
        let calls = SentinelSink.calls([decision, garbage].map { ASIMRecord.row($0, device: "proxy-1") })
        #expect(calls.count == 1)
        let call = try #require(calls.first)
        let array = try JSONSerialization.jsonObject(with: Data(call.readableBytesView))
        let rows = try #require(array as? [[String: Any]])
        #expect(rows.count == 2)
        for (column, value) in [
            ("EventSchema", "Authentication"), ("EventType", "Logon"), ("EventResult", "Failure"),
            ("EventSeverity", "Medium"), ("EventResultDetails", "blocked: outbound"),
            ("TargetUrl", "https://login.microsoftonline.com/s/oauth2/v2.0/token"), ("TargetAppId", "app"),
            ("TenantGateCreatorTenant", "c"), ("TenantGateSignInTenant", "s"), ("TargetDvcScopeId", "s"),
            ("EventMessage", "no rule"), ("EventOriginalUid", "c1"), ("TimeGenerated", "2026-12-05T10:00:00.000Z"),
        ] {
            #expect(rows[0][column] as? String == value, "\(column): \(String(describing: rows[0][column]))")
        }
        #expect((rows[0]["AdditionalFields"] as? [String: Any])?["correlation_id"] as? String == "c1")
        #expect((rows[1]["AdditionalFields"] as? [String: Any])?["line"] as? String == text)
        #expect(rows[1]["EventOriginalUid"] as? String == "")
    }

    /// Review 20: a 100 KB token from the token endpoint made the next ingestion request's head stop the process
    /// inside AsyncHTTPClient. Such a token is the sink's error, as a refusal is.
    @Test func anAccessTokenThatIsTooLongOrNotABearerIsRefused() {
        #expect(SentinelSink.problem(withAccessToken: "eyJ0eXAi.eyJ0aWQi.c2ln-_~+/=") == nil)
        #expect(SentinelSink.problem(withAccessToken: String(repeating: "A", count: 32 * 1024)) == nil)
        let long = SentinelSink.problem(withAccessToken: String(repeating: "A", count: 100_000))
        #expect(long?.contains("100000 bytes") == true)
        #expect(SentinelSink.problem(withAccessToken: "a\r\nX-Injected: 1") != nil)
        #expect(SentinelSink.problem(withAccessToken: "") != nil)
    }

    @Test func aBatchGoesInCallsOfAtMostOneMegabyte() throws {
        var row = ASIMRow()
        row.set("EventSchema", .text("Authentication"))
        row.set("EventMessage", .text(String(repeating: "x", count: 3000)))
        let calls = SentinelSink.calls(Array(repeating: row, count: 1000))
        #expect(calls.count == 4)
        #expect(calls.allSatisfy { $0.readableBytes <= SentinelSink.maxCallBytes })
        let rows = try calls.flatMap { call in
            try #require(try JSONSerialization.jsonObject(with: Data(call.readableBytesView)) as? [Any])
        }
        #expect(rows.count == 1000)
    }

    /// Review 32: a policy change of thousands of rules made a row (the line, and the policy before and after again)
    /// larger than a call may be: refused, and sent again for good. Such a row goes shortened, each long value cut to
    /// what Log Analytics keeps of a column, and the rows around it as they are.
    @Test func aRowLargerThanACallGoesShortened() throws {
        let large = (0..<20_000).map { #"{"tenantId":"t\#($0)","direction":"both"}"# }.joined(separator: ",")
        let change = AuditRecord(
            line: Data(
                #"{"event":"policy_change","tenant":"t1","correlation_id":"c1","before":null,"after":{"rules":[\#(large)]}}"#
                    .utf8
            )
        )
        let decision = AuditRecord(line: Data(#"{"decision":"allowed","correlation_id":"c2"}"#.utf8))
        let calls = SentinelSink.calls([decision, change, decision].map { ASIMRecord.row($0, device: "proxy-1") })
        #expect(calls.allSatisfy { $0.readableBytes <= SentinelSink.maxCallBytes }, "\(calls.map(\.readableBytes))")
        let rows = try calls.flatMap { call in
            try #require(try JSONSerialization.jsonObject(with: Data(call.readableBytesView)) as? [[String: Any]])
        }
        #expect(rows.map { $0["EventOriginalUid"] as? String } == ["c2", "c1", "c2"])
        let shortened = rows[1]
        #expect((shortened["AdditionalFields"] as? [String: Any])?["shortened"] as? Bool == true)
        let newValue = try #require(shortened["NewValue"] as? String)
        #expect(newValue.utf8.count <= ASIMRow.columnLimit && newValue.hasSuffix(" bytes]"))
        #expect(shortened["TenantGateCreatorTenant"] as? String == "t1")
        #expect((rows[0]["AdditionalFields"] as? [String: Any])?["correlation_id"] as? String == "c2")
    }

    @Test func theURLNamesEndpointRuleStreamAndApplication() throws {
        let ingestion = try SentinelIngestion(
            parsing: "https://dce-1.westeurope-1.ingest.monitor.azure.com/dataCollectionRules/dcr-00ff/streams/"
                + "Custom-TenantGate?tenant=contoso.onmicrosoft.com&client_id=app-1",
            secrets: ["sentinel": "s"]
        )
        #expect(
            ingestion.ingestionURL
                == "https://dce-1.westeurope-1.ingest.monitor.azure.com/dataCollectionRules/dcr-00ff/streams/"
                + "Custom-TenantGate?api-version=2023-01-01"
        )
        #expect(ingestion.tokenURL == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
        #expect(ingestion.scope == "https://monitor.azure.com//.default")
        #expect(throws: SentinelIngestion.Problem.self) {
            try SentinelIngestion(
                parsing: "https://dce/dataCollectionRules/d/streams/s?tenant=t&client_id=c",
                secrets: [:]
            )
        }
        #expect(throws: SentinelIngestion.Problem.self) {
            try SentinelIngestion(parsing: "https://dce/streams/s?tenant=t&client_id=c", secrets: ["sentinel": "s"])
        }
    }

    /// SPEC 4.2's form names no application: the tenant and client ID come from the environment Azure's SDKs read.
    @Test func theSpecsFormTakesTheApplicationFromTheEnvironment() throws {
        let url = "https://dce-1.westeurope-1.ingest.monitor.azure.com/dataCollectionRules/dcr-00ff/streams/Custom-TG"
        let ingestion = try SentinelIngestion(
            parsing: url,
            secrets: ["sentinel": "s"],
            environment: ["AZURE_TENANT_ID": "contoso.onmicrosoft.com", "AZURE_CLIENT_ID": "app-1"]
        )
        #expect(ingestion.tokenURL == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
        #expect(ingestion.clientID == "app-1")
        #expect(ingestion.stream == "Custom-TG")
        #expect {
            try SentinelIngestion(parsing: url, secrets: ["sentinel": "s"], environment: [:])
        } throws: { error in
            "\(error)".contains("AZURE_TENANT_ID and AZURE_CLIENT_ID")
        }
    }
}

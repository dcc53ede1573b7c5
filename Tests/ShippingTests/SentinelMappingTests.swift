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
}

/// Enforce, or let blocked exchanges through and audit them as `would_block` (SPEC 4 `--mode`).
package enum EnforcementMode: String, Sendable, CaseIterable {
    case enforce
    case reportOnly = "report-only"
}

/// When the audit log asks the kernel to put written lines on disk (`fdatasync(2)`).
///
/// Every mode survives a crash of the process, `kill -9` included: a line is in the kernel's page cache before its
/// completion runs. The modes differ in what survives a power cut or a kernel crash, and in what it costs: a sync
/// waits for the device, so `always` makes each group of lines wait for one (never one per line: PostgreSQL's group
/// commit, HARDENING-FACTS 4).
package enum AuditSync: String, Sendable, CaseIterable {
    /// After each group write, before that group's completions run: an answered exchange's line is on disk.
    case always
    /// At most once per sync interval, off the completions' path: a power cut loses about one interval of lines.
    case interval
    /// Never: the kernel writes back when it chooses (Linux: within about 30 s).
    case never
}

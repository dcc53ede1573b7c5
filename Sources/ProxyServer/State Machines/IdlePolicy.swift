/// The one rule for a connection that has been idle for its timeout (the client connection's `--idle-timeout`, a
/// tunnel's `--tunnel-idle-timeout`): it is closed, unless the proxy owes the client an answer, which is the
/// upstream's deadline to keep, not the client's.
enum IdlePolicy {
    static func closes(owesAnswer: Bool) -> Bool { !owesAnswer }
}

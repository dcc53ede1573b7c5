/// What `DestinationPolicy` says about one destination address and port.
package enum DestinationVerdict: Sendable, Equatable {
    /// The proxy may connect there on the client's behalf.
    case allowed
    /// The proxy must not connect there; `reason` is a sentence for the client's error page and the audit log,
    /// naming the rule and, where one exists, the flag that would open it.
    case refused(reason: String)
}

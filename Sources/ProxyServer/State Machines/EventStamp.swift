import Foundation
import NIOCore

/// When an event happened, and the identifiers it may need, handed to the machines with the event: they read no
/// clock and draw no random number, so every action is a whole value a test can compare.
struct EventStamp: Equatable {
    /// Monotonic time, for latencies.
    var now: NIODeadline
    /// Wall-clock time, for audit lines and answer bodies.
    var date: Date
    /// The correlation ID of what the event starts, if it starts a request or an answer of the proxy's own.
    var correlationID: UUID
    /// The trace ID of an Entra-shaped refusal, if the event ends in one.
    var traceID: UUID
}

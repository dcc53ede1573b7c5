import NIOCore

/// A streamed body's pieces of one read, gathered into one part before they are written on. Each part written costs
/// its own chunk framing, TLS record and pending write: a client sending 1-byte chunks made tens of thousands of them
/// per read, 35 MiB per connection waiting in the upstream's TLS handler and the event loop busy for seconds
/// (review 22). A part goes on at the read's end, or as soon as it holds `limit` bytes (one TLS record's worth).
struct BodyCoalescing {
    static let limit = 16 * 1024

    private var gathered: ByteBuffer?

    /// Adds a piece; true when the gathered bytes reached `limit` and should be written now.
    mutating func add(_ piece: ByteBuffer) -> Bool {
        guard piece.readableBytes > 0 else { return false }
        if gathered == nil {
            gathered = piece
        } else {
            var piece = piece
            gathered?.writeBuffer(&piece)
        }
        return (gathered?.readableBytes ?? 0) >= Self.limit
    }

    /// What was gathered, if anything, leaving nothing.
    mutating func take() -> ByteBuffer? {
        defer { gathered = nil }
        return gathered
    }
}

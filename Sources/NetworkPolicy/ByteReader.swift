/// A cursor over bytes that answers nil instead of reading past the end.
///
/// Every length in a ClientHello comes from the client, so each read checks the bound itself; this keeps the
/// parser free of index arithmetic that could trap on hostile input.
struct ByteReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The number of bytes not yet read.
    var remaining: Int { bytes.count - index }

    var isAtEnd: Bool { remaining == 0 }

    mutating func readUInt8() -> Int? {
        readBytes(1).map { Int($0[0]) }
    }

    /// A big-endian 16-bit number, as every TLS length of up to 64 KiB is written.
    mutating func readUInt16() -> Int? {
        readBytes(2).map { Int($0[0]) << 8 | Int($0[1]) }
    }

    /// The next `count` bytes, or nil (reading nothing) when fewer remain.
    mutating func readBytes(_ count: Int) -> UnsafeBufferPointer<UInt8>? {
        guard count >= 0, count <= remaining else { return nil }
        defer { index += count }
        return UnsafeBufferPointer(rebasing: bytes[index..<(index + count)])
    }
}

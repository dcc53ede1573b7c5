#if canImport(Glibc)
import Glibc
#endif

/// The audit journal's on-disk format (`AuditJournal`), little-endian throughout.
///
/// - Block 0, the checkpoint: "TGJC", CRC-32C of bytes 8..<16, the sequence number of the last batch whose lines are
///   on disk in the log itself; then the kernel's boot ID when the journal started (36 ASCII bytes, 16..<52) and the
///   CRC-32C of those (52..<56). A checkpoint without them (an older journal) names no boot.
/// - From block 1, batches, each on a block boundary and padded with zeros to the next: "TGJB", CRC-32C of everything
///   after it to the end of the chunks, the batch's sequence number, the chunks' length in bytes and their count, then
///   per chunk the log file's device and inode, the offset of its bytes in that file, their count, and the bytes.
enum JournalFormat {
    static let blockSize = 4096

    private static let checkpointMagic: UInt32 = 0x434A_4754  // "TGJC"
    private static let batchMagic: UInt32 = 0x424A_4754  // "TGJB"
    private static let batchHeaderSize = 24
    private static let chunkHeaderSize = 32

    /// A batch's size on disk: its header and chunks, rounded up to whole blocks.
    static func batchSize(_ chunks: [AuditJournal.Chunk]) -> Int {
        let content = chunks.reduce(batchHeaderSize) { $0 + chunkHeaderSize + $1.bytes.count }
        return (content + blockSize - 1) / blockSize * blockSize
    }

    private static let bootIDRange = 16..<52

    /// Writes the checkpoint block's fields into `block` (zeroed, `blockSize` bytes).
    static func encodeCheckpoint(_ sequence: UInt64, boot: BootID?, into block: UnsafeMutableRawPointer) {
        block.storeBytes(of: checkpointMagic.littleEndian, toByteOffset: 0, as: UInt32.self)
        block.storeBytes(of: sequence.littleEndian, toByteOffset: 8, as: UInt64.self)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(start: block + 8, count: 8))
        block.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
        guard let boot else { return }
        boot.bytes.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { (block + bootIDRange.lowerBound).copyMemory(from: base, byteCount: 36) }
        }
        let bootCRC = CRC32C.checksum(UnsafeRawBufferPointer(start: block + bootIDRange.lowerBound, count: 36))
        block.storeBytes(of: bootCRC.littleEndian, toByteOffset: bootIDRange.upperBound, as: UInt32.self)
    }

    /// The checkpoint in `block`, or nil when it is not one (never written, or torn), with the boot it was written
    /// in when it names one.
    static func decodeCheckpoint(_ block: UnsafeRawBufferPointer) -> (sequence: UInt64, boot: BootID?)? {
        guard block.count >= 16, block.loadUnaligned(as: UInt32.self).littleEndian == checkpointMagic else {
            return nil
        }
        let crc = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
        guard crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: block[8..<16])) else { return nil }
        let sequence = block.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        guard block.count >= bootIDRange.upperBound + 4 else { return (sequence, nil) }
        let bootBytes = UnsafeRawBufferPointer(rebasing: block[bootIDRange])
        let bootCRC = block.loadUnaligned(fromByteOffset: bootIDRange.upperBound, as: UInt32.self).littleEndian
        guard bootCRC == CRC32C.checksum(bootBytes) else { return (sequence, nil) }
        return (sequence, BootID(bytes: Array(bootBytes)))
    }

    /// Writes the batch numbered `sequence` into `buffer` (at least `size` bytes, `batchSize(chunks)`), padding
    /// included.
    static func encodeBatch(
        _ chunks: [AuditJournal.Chunk],
        sequence: UInt64,
        into buffer: UnsafeMutableRawPointer,
        size: Int
    ) {
        var offset = batchHeaderSize
        for chunk in chunks {
            buffer.storeBytes(of: chunk.file.device.littleEndian, toByteOffset: offset, as: UInt64.self)
            buffer.storeBytes(of: chunk.file.inode.littleEndian, toByteOffset: offset + 8, as: UInt64.self)
            buffer.storeBytes(of: chunk.offset.littleEndian, toByteOffset: offset + 16, as: UInt64.self)
            buffer.storeBytes(of: UInt64(chunk.bytes.count).littleEndian, toByteOffset: offset + 24, as: UInt64.self)
            offset += chunkHeaderSize
            chunk.bytes.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { (buffer + offset).copyMemory(from: base, byteCount: bytes.count) }
            }
            offset += chunk.bytes.count
        }
        memset(buffer + offset, 0, size - offset)
        buffer.storeBytes(of: batchMagic.littleEndian, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: sequence.littleEndian, toByteOffset: 8, as: UInt64.self)
        buffer.storeBytes(of: UInt32(offset - batchHeaderSize).littleEndian, toByteOffset: 16, as: UInt32.self)
        buffer.storeBytes(of: UInt32(chunks.count).littleEndian, toByteOffset: 20, as: UInt32.self)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(start: buffer + 8, count: offset - 8))
        buffer.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
    }

    /// The batch at the start of `bytes` if it is whole and numbered `sequence`, with its size on disk; nil where the
    /// journal ends (zeros, a torn batch, or one left from a lap before).
    static func decodeBatch(
        _ bytes: UnsafeRawBufferPointer,
        sequence: UInt64
    ) -> (chunks: [AuditJournal.Chunk], size: Int)? {
        guard bytes.count >= batchHeaderSize,
            bytes.loadUnaligned(as: UInt32.self).littleEndian == batchMagic,
            bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian == sequence
        else { return nil }
        let length = Int(bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian)
        let count = Int(bytes.loadUnaligned(fromByteOffset: 20, as: UInt32.self).littleEndian)
        let end = batchHeaderSize + length
        guard end <= bytes.count,
            bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
                == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[8..<end]))
        else { return nil }
        var chunks: [AuditJournal.Chunk] = []
        var offset = batchHeaderSize
        for _ in 0..<count {
            guard offset + chunkHeaderSize <= end else { return nil }
            let file = FileIdentity(
                device: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian,
                inode: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self).littleEndian
            )
            let position = bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self).littleEndian
            let byteCount = bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self).littleEndian
            offset += chunkHeaderSize
            guard byteCount <= UInt64(end - offset) else { return nil }
            let chunkEnd = offset + Int(byteCount)
            chunks.append(.init(file: file, offset: position, bytes: Array(bytes[offset..<chunkEnd])))
            offset = chunkEnd
        }
        return (chunks, (end + blockSize - 1) / blockSize * blockSize)
    }
}

/// The kernel's ID of the running boot (`/proc/sys/kernel/random/boot_id`): a journal written in this boot holds
/// nothing the log's pages lack, as a process that dies (kill -9, a crash) leaves every `write(2)` it made in the
/// page cache. Only a crash of the machine needs a replay; one after a process crash wrote old lines back over a
/// log that copytruncate had emptied, or over another process's lines (review 59 F2).
struct BootID: Equatable {
    let bytes: [UInt8]

    init?(bytes: [UInt8]) {
        guard bytes.count == 36 else { return nil }
        self.bytes = bytes
    }

    /// This boot's, or nil where the kernel does not say (then every journal is replayed).
    static let current: BootID? = {
        let descriptor = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { _ = close(descriptor) }
        var text = [UInt8](repeating: 0, count: 36)
        let read = text.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, 36) }
        return read == 36 ? BootID(bytes: text) : nil
    }()
}

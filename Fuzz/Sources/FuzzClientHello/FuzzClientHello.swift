import LibFuzzerDriver
import NetworkPolicy

// `TLSClientHello.read` on the first bytes of a CONNECT tunnel, whole and as the proxy receives them: segment by
// segment, asking again after each (ClientHelloPeekHandler), until an answer other than `needMoreBytes`.
//
// What the reader promises, and so what is checked: `needMoreBytes` is the only answer that is not final, and
// bytes after what decided an answer are ignored. So the prefixes of any input read `needMoreBytes` up to some
// length and from there on what the whole input reads; a valid hello's prefixes are never malformed. (Only the
// kind of a malformed answer is final, not its sentence: `[22, 33]` is "major version 33", `[22, 33, 33]`
// "version 33.33".) `notTLS` is exactly a first byte other than 22. A server name is 1 to 255 ASCII letters,
// digits, `-`, `.` or `_` (case is kept, not lowered). A malformed sentence is made of the reader's words and
// numbers, never the client's bytes. No record body is longer than 16,640 bytes, so zero bytes enough to end the
// record being read and begin another (of content type 0) always give an answer. Reading is deterministic, and
// contiguous, sliced and non-contiguous collections read alike.

/// `TLSClientHello.maximumRecordLength` (internal): the longest record body, 2^14 + 256 bytes.
private let maximumRecordLength = 16384 + 256
/// Inputs up to this long have every prefix read; longer ones are cut into pseudo-random segments.
private let everyPrefixUpTo = 256

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzClientHello_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let whole = TLSClientHello.read(bytes)
    check(whole, firstByte: bytes.first)

    guard TLSClientHello.read(bytes) == whole else { fatalError("the same \(count) bytes read differently twice") }
    // A slice not starting at index 0 (as NIO's ByteBufferView after earlier reads), and the copying path.
    let shifted = ([22] + bytes)[1...]
    guard TLSClientHello.read(shifted) == whole else { fatalError("a slice reads differently: \(whole)") }
    // The non-contiguous path copies through unspecialised generic code, slow per byte: short inputs only.
    if count <= 256, TLSClientHello.read(bytes.lazy.map { $0 }) != whole {
        fatalError("contiguous and non-contiguous bytes read differently: \(whole)")
    }

    checkPrefixes(of: bytes, whole: whole)
    if whole == .needMoreBytes {
        // Bounded wait: the record being read ends within 16,640 bytes, and a content type 0 cannot continue it.
        let filled = bytes + [UInt8](repeating: 0, count: maximumRecordLength + 5)
        let reading = TLSClientHello.read(filled)
        check(reading, firstByte: filled.first)
        guard reading != .needMoreBytes else {
            fatalError("still needMoreBytes after \(maximumRecordLength + 5) zero bytes more")
        }
    } else {
        // An answer stays the answer whatever follows: another record, a header announcing a full one, garbage,
        // the same bytes again.
        for suffix: [UInt8] in [[20, 3, 3, 0, 1, 1], [22, 3, 3, 0x41, 0x00], [0], [0xff, 0xff, 0xff], bytes] {
            let longer = TLSClientHello.read(bytes + suffix)
            guard longer.isSameAnswer(as: whole) else {
                fatalError("\(count) bytes read \(whole), with \(suffix.count) appended \(longer)")
            }
        }
    }
    return 0
}

extension TLSClientHello.Reading {
    /// The same answer for the proxy: equal, or both malformed (the sentence may name a problem more exactly once
    /// more of the same bytes are in).
    fileprivate func isSameAnswer(as other: Self) -> Bool {
        switch (self, other) {
        case (.malformed, .malformed): true
        default: self == other
        }
    }
}

/// What holds for any reading on its own.
private func check(_ reading: TLSClientHello.Reading, firstByte: UInt8?) {
    func wrongFirstByte() -> Never { fatalError("\(reading) on first byte \(firstByte.map { "\($0)" } ?? "none")") }
    switch reading {
    case .needMoreBytes:
        guard firstByte == nil || firstByte == 22 else { wrongFirstByte() }
    case .notTLS:
        guard firstByte != nil, firstByte != 22 else { wrongFirstByte() }
    case .malformed(let sentence):
        guard firstByte == 22 else { wrongFirstByte() }
        let utf8 = sentence.utf8
        guard !utf8.isEmpty, utf8.count < 200, utf8.allSatisfy({ (0x20...0x7e).contains($0) }) else {
            fatalError("a malformed sentence is empty, long or not printable ASCII: \(sentence.debugDescription)")
        }
    case .clientHello(let serverName), .encryptedClientHello(outerName: let serverName):
        guard firstByte == 22 else { wrongFirstByte() }
        guard let serverName else { return }
        let utf8 = serverName.utf8
        guard (1...255).contains(utf8.count), utf8.allSatisfy(isHostNameByte) else {
            fatalError("server name \(serverName.debugDescription) is not 1 to 255 host name characters")
        }
    }
}

private func isHostNameByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
        true
    default:
        false
    }
}

/// The input as the proxy receives it: every proper prefix of a short input; for a long one, prefixes at
/// pseudo-random segment ends (1 to 64 bytes apart, seeded by the input), then every length between the last
/// that needed more bytes and the first that did not. Each reads `needMoreBytes` or the whole's answer, and none
/// needs more bytes after a shorter one was answered.
private func checkPrefixes(of bytes: [UInt8], whole: TLSClientHello.Reading) {
    var lastNeedingMore = 0
    var firstAnswered: Int?
    func read(_ length: Int) {
        let reading = TLSClientHello.read(bytes[..<length])
        if reading == .needMoreBytes {
            if let firstAnswered, firstAnswered < length {
                fatalError("the first \(firstAnswered) of \(bytes.count) bytes read \(whole), \(length) do not")
            }
            lastNeedingMore = max(lastNeedingMore, length)
        } else {
            guard reading.isSameAnswer(as: whole) else {
                fatalError("the first \(length) of \(bytes.count) bytes read \(reading), all of them \(whole)")
            }
            if lastNeedingMore > length {
                fatalError("the first \(length) of \(bytes.count) bytes read \(whole), \(lastNeedingMore) do not")
            }
            firstAnswered = min(firstAnswered ?? length, length)
        }
    }
    if bytes.count <= everyPrefixUpTo {
        for length in 0..<bytes.count { read(length) }
        return
    }
    // FNV-1a of the input seeds a linear congruential generator for the segment lengths.
    var state: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
    var length = 0
    while length < bytes.count {
        read(length)
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        length += 1 + Int((state >> 33) % 64)
    }
    // Where the answer comes, to the byte (the whole input, already read, ends the range).
    for between in (lastNeedingMore + 1)..<(firstAnswered ?? bytes.count) { read(between) }
}

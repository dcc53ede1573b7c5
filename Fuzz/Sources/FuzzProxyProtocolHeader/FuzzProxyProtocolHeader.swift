import LibFuzzerDriver
import NetworkPolicy

// `ProxyProtocolHeader.read` on the first bytes of a connection from a trusted load balancer, whole and as they
// arrive (ProxyProtocolHandler asks again after each read, until an answer other than `needMoreBytes`).
//
// What the reader promises, and so what is checked: a complete header is 1 to `maximumLength` bytes of the input,
// ends where v1's line ends (`\r\n`) or after v2's 16-byte header and its length; every shorter prefix of it needs
// more bytes; no input needs more bytes once it is `maximumLength` long (a balancer cannot keep the proxy waiting
// for ever); an answer other than `needMoreBytes` stays the answer whatever follows; a v1 source reads back from its
// own text; a refusal's sentence is the reader's words, under 200 characters of printable ASCII. Reading is
// deterministic, and contiguous and non-contiguous collections read alike.

/// SwiftPM links this as `main` (see LibFuzzerDriver.h): libFuzzer's driver runs `fuzz` on its inputs.
@_cdecl("FuzzProxyProtocolHeader_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    TenantGateFuzzMain(argc, argv, fuzz)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let whole = ProxyProtocolHeader.read(bytes)
    guard ProxyProtocolHeader.read(bytes) == whole else { fatalError("the same \(count) bytes read differently") }
    guard ProxyProtocolHeader.read(([0] + bytes)[1...]) == whole else { fatalError("a slice reads differently") }
    if count <= 2048, ProxyProtocolHeader.read(bytes.lazy.map { $0 }) != whole {
        fatalError("contiguous and non-contiguous bytes read differently: \(whole)")
    }
    switch whole {
    case .needMoreBytes:
        guard count < ProxyProtocolHeader.maximumLength else {
            fatalError("still needs more bytes after \(count), past the longest header")
        }
    case .invalid(let sentence):
        let utf8 = sentence.utf8
        guard !utf8.isEmpty, utf8.count < 200, utf8.allSatisfy({ (0x20...0x7e).contains($0) }) else {
            fatalError("a refusal's sentence is empty, long or not printable ASCII: \(sentence.debugDescription)")
        }
    case .complete(let source, let length):
        guard (1...min(count, ProxyProtocolHeader.maximumLength)).contains(length) else {
            fatalError("a header of \(length) bytes in \(count)")
        }
        if bytes.first == UInt8(ascii: "P") {
            guard length >= 8, bytes[length - 2] == 0x0D, bytes[length - 1] == 0x0A else {
                fatalError("a v1 header of \(length) bytes does not end its line")
            }
            if let source, IPAddress(source.description) != source {
                fatalError("the source \(source) does not read back from its text")
            }
        } else {
            guard length >= 16, length == 16 + (Int(bytes[14]) << 8 | Int(bytes[15])) else {
                fatalError("a v2 header of \(length) bytes is not 16 plus its length")
            }
        }
        // The header is whole only at its end: as the proxy receives it, every part before needs more bytes.
        for prefix in 0..<length where ProxyProtocolHeader.read(bytes[..<prefix]) != .needMoreBytes {
            fatalError("the first \(prefix) bytes of a \(length)-byte header do not need more")
        }
    }
    if whole != .needMoreBytes {
        for suffix: [UInt8] in [[0x0D, 0x0A], [0], Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8), bytes] {
            let longer = ProxyProtocolHeader.read(bytes + suffix)
            let same: Bool =
                switch (longer, whole) {
                case (.invalid, .invalid): true
                default: longer == whole
                }
            guard same else { fatalError("\(count) bytes read \(whole), with \(suffix.count) appended \(longer)") }
        }
    }
    return 0
}

import NetworkPolicy
import Testing

/// The SNI reader on well-formed, split, truncated, hostile and random ClientHellos.
struct TLSClientHelloTests {
    /// A ClientHello captured from `openssl s_client -connect 127.0.0.1:PORT -servername x.example` (OpenSSL 3.0).
    static let openSSLHello: [UInt8] = hexBytes(
        "160301013601000132030319eae1b1c6f0d915ee31d61af8f0aa73924886b71dcc37b52d0b10b3eca3ef7e205f0d3dcd",
        "94aefd10261dca0d502880004fd4958855798cfbbd31827701d68c1d003e130213031301c02cc030009fcca9cca8ccaa",
        "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000ab",
        "0000000e000c000009782e6578616d706c65000b000403000102000a00160014001d0017001e00190018010001010102",
        "01030104002300000016000000170000000d002a0028040305030603080708080809080a080b08040805080604010501",
        "0601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d0020ff441684d5",
        "8cf05d31aa4851a1e10abd7d953d96610f907a2a3a3c64d51c8650"
    )

    static func hexBytes(_ lines: String...) -> [UInt8] {
        let digits = Array(lines.joined().utf8).map {
            $0 <= UInt8(ascii: "9") ? $0 - UInt8(ascii: "0") : $0 - UInt8(ascii: "a") + 10
        }
        return stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    static func isMalformed(_ reading: TLSClientHello.Reading) -> Bool {
        if case .malformed = reading { return true }
        return false
    }

    // MARK: Well-formed

    /// Encrypted Client Hello (extension 0xfe0d) is told apart: the SNI it carries is only the public name.
    @Test func anEncryptedClientHelloIsToldApart() {
        var hello = ClientHelloBuilder()
        hello.extensions =
            ClientHelloBuilder.serverName("public.example") + ClientHelloBuilder.supportedVersions
            + ClientHelloBuilder.extensionBytes(type: 0xfe0d, body: [0, 0, 1, 0, 1, 7, 0, 0, 0, 0])
        #expect(TLSClientHello.read(hello.records()) == .encryptedClientHello(outerName: "public.example"))
    }

    @Test func withServerName() {
        #expect(TLSClientHello.read(ClientHelloBuilder().records()) == .clientHello(serverName: "x.example"))
    }

    @Test func realOpenSSLHello() {
        #expect(TLSClientHello.read(Self.openSSLHello) == .clientHello(serverName: "x.example"))
    }

    @Test func withoutServerName() {
        var hello = ClientHelloBuilder()
        hello.extensions = ClientHelloBuilder.supportedVersions
        #expect(TLSClientHello.read(hello.records()) == .clientHello(serverName: nil))
        hello.extensions = []
        #expect(TLSClientHello.read(hello.records()) == .clientHello(serverName: nil))
        hello.extensions = nil
        #expect(TLSClientHello.read(hello.records()) == .clientHello(serverName: nil))
    }

    @Test func serverNameAfterOtherExtensionsAndNameTypes() {
        var hello = ClientHelloBuilder()
        hello.extensions =
            ClientHelloBuilder.supportedVersions + ClientHelloBuilder.extensionBytes(type: 0xfafa, body: [1, 2, 3])
            + ClientHelloBuilder.serverNameList([(7, [0xff, 0x00]), (0, Array("login.microsoftonline.com".utf8))])
        #expect(TLSClientHello.read(hello.records()) == .clientHello(serverName: "login.microsoftonline.com"))
    }

    @Test func serverNameListWithoutHostName() {
        var hello = ClientHelloBuilder()
        hello.extensions = ClientHelloBuilder.serverNameList([(7, [1, 2, 3])])
        #expect(TLSClientHello.read(hello.records()) == .clientHello(serverName: nil))
    }

    @Test(arguments: ["a", "_dmarc.example", "xn--bcher-kva.example", "A-1.B_2.", String(repeating: "a", count: 255)])
    func acceptedNames(_ name: String) {
        var hello = ClientHelloBuilder()
        hello.extensions = ClientHelloBuilder.serverName(name)
        #expect(TLSClientHello.read(hello.records()) == .clientHello(serverName: name))
    }

    @Test(arguments: [[1], [3], [4], [50], [100], [1, 2, 3], [4, 30, 60, 90]])
    func splitAcrossRecords(_ splits: [Int]) {
        #expect(
            TLSClientHello.read(ClientHelloBuilder().records(splitAt: splits)) == .clientHello(serverName: "x.example")
        )
    }

    @Test func everyByteInItsOwnRecord() {
        let handshake = ClientHelloBuilder().handshake
        let records = ClientHelloBuilder.records(handshake, splitAt: Array(1..<handshake.count))
        #expect(TLSClientHello.read(records) == .clientHello(serverName: "x.example"))
    }

    /// A hello bigger than one record (post-quantum key shares, padding) must be reassembled.
    @Test func helloLargerThanOneRecord() {
        var hello = ClientHelloBuilder()
        hello.extensions =
            ClientHelloBuilder.extensionBytes(type: 21, body: [UInt8](repeating: 0, count: 20_000))
            + ClientHelloBuilder.serverName("big.example")
        #expect(TLSClientHello.read(hello.records(splitAt: [16_384])) == .clientHello(serverName: "big.example"))
    }

    @Test func bytesAfterTheHelloAreIgnored() {
        let changeCipherSpec: [UInt8] = [20, 3, 3, 0, 1, 1]
        #expect(
            TLSClientHello.read(ClientHelloBuilder().records() + changeCipherSpec)
                == .clientHello(serverName: "x.example")
        )
        #expect(TLSClientHello.read(Self.openSSLHello + [23, 3, 3, 0]) == .clientHello(serverName: "x.example"))
    }

    @Test func recordVersionsAccepted() {
        for minor: UInt8 in 1...4 {
            var hello = ClientHelloBuilder()
            hello.recordVersion = [3, minor]
            #expect(TLSClientHello.read(hello.records()) == .clientHello(serverName: "x.example"))
        }
    }

    @Test func nonContiguousAndSlicedInput() {
        let records = ClientHelloBuilder().records(splitAt: [10])
        #expect(TLSClientHello.read(records.lazy.map { $0 }) == .clientHello(serverName: "x.example"))
        #expect(TLSClientHello.read(([0, 0] + records)[2...]) == .clientHello(serverName: "x.example"))
    }

    // MARK: Truncated

    static let validInputs: [[UInt8]] = [
        ClientHelloBuilder().records(),
        ClientHelloBuilder().records(splitAt: [2]),
        ClientHelloBuilder().records(splitAt: [60, 61]),
        openSSLHello,
    ]

    /// Every prefix of a valid hello is a valid beginning: more bytes are needed, nothing is malformed.
    @Test(arguments: validInputs)
    func everyPrefixNeedsMoreBytes(_ input: [UInt8]) {
        for length in 0..<input.count {
            #expect(TLSClientHello.read(input[..<length]) == .needMoreBytes, "prefix of \(length) bytes")
        }
        #expect(TLSClientHello.read(input) == .clientHello(serverName: "x.example"))
    }

    @Test func headersAnnouncingMoreThanPresent() {
        // A full-size record announced, nothing of it sent yet.
        #expect(TLSClientHello.read([22, 3, 1, 0x41, 0x00]) == .needMoreBytes)
        // A ClientHello of exactly 64 KiB announced.
        #expect(TLSClientHello.read([22, 3, 1, 0x40, 0x00, 1, 0x00, 0xff, 0xfc]) == .needMoreBytes)
    }

    // MARK: Not TLS

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "CONNECT x:443 HTTP/1.1\r\n", "SSH-2.0-OpenSSH_9.6\r\n", "\u{16}",
    ])
    func plainTextIsNotTLS(_ text: String) {
        let expected: TLSClientHello.Reading = text == "\u{16}" ? .needMoreBytes : .notTLS
        #expect(TLSClientHello.read(Array(text.utf8)) == expected)
    }

    @Test(
        arguments: [[0x80, 0x2e, 0x01, 0x03, 0x01], [23, 3, 3, 0, 1, 0], [21, 3, 3, 0, 2, 2, 40], [0], [0xff]]
            as [[UInt8]]
    )
    func otherFirstBytesAreNotTLS(_ bytes: [UInt8]) {
        #expect(TLSClientHello.read(bytes) == .notTLS)
    }

    @Test func emptyInputNeedsMoreBytes() {
        #expect(TLSClientHello.read([UInt8]()) == .needMoreBytes)
    }

    // MARK: Malformed

    struct Broken: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let bytes: [UInt8]
    }

    static func broken(
        _ name: String,
        _ change: (inout ClientHelloBuilder) -> Void,
        splitAt splits: [Int] = []
    )
        -> Broken
    {
        var hello = ClientHelloBuilder()
        change(&hello)
        return Broken(testDescription: name, bytes: hello.records(splitAt: splits))
    }

    static let malformed: [Broken] = [
        Broken(testDescription: "record version 3.0", bytes: [22, 3, 0]),
        Broken(testDescription: "record version 3.5", bytes: [22, 3, 5, 0, 10]),
        Broken(testDescription: "record major version 2", bytes: [22, 2]),
        Broken(testDescription: "empty record", bytes: [22, 3, 1, 0, 0]),
        Broken(testDescription: "oversized record, header only", bytes: [22, 3, 1, 0x41, 0x01]),
        Broken(
            testDescription: "record of 65535 bytes",
            bytes: [22, 3, 1, 0xff, 0xff] + [UInt8](repeating: 1, count: 100)
        ),
        Broken(testDescription: "hello longer than 64 KiB", bytes: [22, 3, 1, 0x40, 0x00, 1, 0x00, 0xff, 0xfd]),
        Broken(testDescription: "hello length 2^24-1", bytes: [22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff]),
        Broken(testDescription: "garbage in a record", bytes: [22, 3, 1, 0, 4, 0xde, 0xad, 0xbe, 0xef]),
        Broken(testDescription: "one-byte hello body", bytes: [22, 3, 1, 0, 5, 1, 0, 0, 1, 0xff]),
        Broken(testDescription: "empty hello body", bytes: [22, 3, 1, 0, 4, 1, 0, 0, 0]),
        broken("ServerHello, not ClientHello", { $0.handshakeType = 2 }),
        broken("second record is application data", { _ in }, splitAt: [40]).replacingByte(at: 5 + 40, with: 23),
        broken("second record is an alert", { _ in }, splitAt: [3]).replacingByte(at: 5 + 3, with: 21),
        broken("second record has version 3.0", { _ in }, splitAt: [40]).replacingByte(at: 5 + 40 + 2, with: 0),
        broken("session id of 33 bytes", { $0.sessionID = [UInt8](repeating: 1, count: 33) }),
        broken("no cipher suites", { $0.cipherSuites = [] }),
        broken("odd cipher suite list", { $0.cipherSuites = [0x13, 0x01, 0x13] }),
        broken("no compression methods", { $0.compressionMethods = [] }),
        broken(
            "one stray byte where extensions start",
            {
                $0.extensions = nil
                $0.compressionMethods = [0]
            }
        ).appendingToHello([0]),
        broken("extensions shorter than declared", { _ in }).adjustingExtensionsLength(by: 1),
        broken("extensions longer than declared", { _ in }).adjustingExtensionsLength(by: -1),
        broken("extension past the end", { $0.extensions = [0, 43, 0, 9, 1] }),
        broken("extension header cut", { $0.extensions = [0, 43, 0] }),
        broken("empty server_name extension", { $0.extensions = ClientHelloBuilder.extensionBytes(type: 0, body: []) }),
        broken("empty server_name list", { $0.extensions = ClientHelloBuilder.extensionBytes(type: 0, body: [0, 0]) }),
        broken(
            "server_name list longer than extension",
            {
                $0.extensions = ClientHelloBuilder.extensionBytes(type: 0, body: [0, 9, 0, 0, 1, 0x61])
            }
        ),
        broken(
            "server_name list shorter than extension",
            {
                $0.extensions = ClientHelloBuilder.extensionBytes(type: 0, body: [0, 3, 0, 0, 1, 0x61])
            }
        ),
        broken(
            "name past the end of its list",
            {
                $0.extensions = ClientHelloBuilder.extensionBytes(type: 0, body: [0, 4, 0, 0, 9, 0x61])
            }
        ),
        broken(
            "two server_name extensions",
            {
                $0.extensions = ClientHelloBuilder.serverName("a.example") + ClientHelloBuilder.serverName("b.example")
            }
        ),
        broken(
            "two host names",
            {
                $0.extensions = ClientHelloBuilder.serverNameList([
                    (0, Array("a.example".utf8)), (0, Array("b.example".utf8)),
                ])
            }
        ),
        broken("empty host name", { $0.extensions = ClientHelloBuilder.serverNameList([(0, [])]) }),
        broken("non-ASCII host name", { $0.extensions = ClientHelloBuilder.serverName("bücher.example") }),
        broken("host name with a space", { $0.extensions = ClientHelloBuilder.serverName("a example") }),
        broken(
            "host name with NUL",
            { $0.extensions = ClientHelloBuilder.serverName("evil.example\u{0}.good.example") }
        ),
        broken("host name with a colon", { $0.extensions = ClientHelloBuilder.serverName("a.example:443") }),
        broken("host name with a slash", { $0.extensions = ClientHelloBuilder.serverName("a.example/x") }),
        broken("host name with CRLF", { $0.extensions = ClientHelloBuilder.serverName("a.example\r\nX: y") }),
        broken(
            "host name of 256 bytes",
            { $0.extensions = ClientHelloBuilder.serverName(String(repeating: "a", count: 256)) }
        ),
    ]

    @Test(arguments: malformed)
    func malformedInput(_ broken: Broken) {
        let reading = TLSClientHello.read(broken.bytes)
        #expect(Self.isMalformed(reading), "\(reading)")
    }

    @Test func malformedSaysWhy() {
        var hello = ClientHelloBuilder()
        hello.sessionID = [UInt8](repeating: 1, count: 33)
        #expect(
            TLSClientHello.read(hello.records())
                == .malformed("the ClientHello's session id is longer than 32 bytes or than the message")
        )
        #expect(
            TLSClientHello.read([22, 3, 1, 0x41, 0x01]) == .malformed("record 1 is 16641 bytes long, not 1 to 16640")
        )
    }

    // MARK: Never traps

    /// 20,000 seeded mutations of valid hellos: flipped bytes, changed lengths, cuts, insertions and repeats.
    /// Each must give some reading, and any name it gives must be a plain host name.
    @Test func mutatedHellosNeverTrap() {
        var generator = SeededGenerator(seed: 0x5eed_c1e7)
        let seeds = Self.validInputs + [ClientHelloBuilder().records(splitAt: [1, 2, 3, 4, 5])]
        var counts: [String: Int] = [:]
        for iteration in 0..<20_000 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                Self.mutate(&bytes, using: &generator)
            }
            let reading = TLSClientHello.read(bytes)
            switch reading {
            case .clientHello(let name?), .encryptedClientHello(let name?):
                #expect(name.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: " ") && $0 != 0 })
                counts["name", default: 0] += 1
            case .clientHello(nil), .encryptedClientHello(nil): counts["no name", default: 0] += 1
            case .needMoreBytes: counts["need more", default: 0] += 1
            case .notTLS: counts["not TLS", default: 0] += 1
            case .malformed: counts["malformed", default: 0] += 1
            }
        }
        // The mutations reach every outcome, so the loop explores more than the first byte.
        #expect(counts.count == 5, "\(counts)")
    }

    /// 20,000 random byte strings behind a plausible record header.
    @Test func randomBytesNeverTrap() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...300, using: &generator)
            let body = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = TLSClientHello.read([22, 3, 1] + ClientHelloBuilder.u16(count) + body)
            _ = TLSClientHello.read(
                [22, 3, 1] + ClientHelloBuilder.u16(count + 4) + [1] + ClientHelloBuilder.u24(count) + body
            )
        }
    }

    static func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else {
            bytes = [22]
            return
        }
        let index = Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<6, using: &generator) {
        case 0:
            bytes[index] = UInt8.random(in: 0...255, using: &generator)
        case 1:
            // Lengths live in small numbers: nudge one by a little.
            bytes[index] &+= [1, 255, 2, 254, 0x80][Int.random(in: 0..<5, using: &generator)]
        case 2:
            bytes.removeSubrange(index..<min(bytes.count, index + Int.random(in: 1...16, using: &generator)))
        case 3:
            bytes.insert(
                contentsOf: (0..<Int.random(in: 1...8, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                },
                at: index
            )
        case 4:
            let end = min(bytes.count, index + Int.random(in: 1...32, using: &generator))
            bytes.insert(contentsOf: bytes[index..<end], at: index)
        default:
            bytes.removeSubrange(index...)
        }
    }
}

extension TLSClientHelloTests.Broken {
    func replacingByte(at index: Int, with byte: UInt8) -> Self {
        var bytes = self.bytes
        bytes[index] = byte
        return Self(testDescription: testDescription, bytes: bytes)
    }

    /// Appends `extra` to the hello body, fixing the record and handshake lengths (single-record hellos only).
    func appendingToHello(_ extra: [UInt8]) -> Self {
        let handshake = Array(bytes[5...])
        let body = Array(handshake[4...]) + extra
        return Self(
            testDescription: testDescription,
            bytes: ClientHelloBuilder.records([1] + ClientHelloBuilder.u24(body.count) + body)
        )
    }

    /// Changes the declared extensions length of a single-record hello built with the default fields.
    func adjustingExtensionsLength(by delta: Int) -> Self {
        // record 5 + handshake 4 + version 2 + random 32 + session 1+32 + suites 2+6 + compression 1+1
        let offset = 5 + 4 + 2 + 32 + 33 + 8 + 2
        var bytes = self.bytes
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        bytes.replaceSubrange(offset..<(offset + 2), with: ClientHelloBuilder.u16(length + delta))
        return Self(testDescription: testDescription, bytes: bytes)
    }
}

/// Reads the server name (SNI) from the TLS ClientHello a client sends first on a CONNECT tunnel.
///
/// The CONNECT line names a host, but the TLS inside may name another; the proxy judges the name the client
/// will really talk to (Squid's `ssl::server_name` uses SNI over the CONNECT URI, HARDENING-FACTS section 3).
/// The bytes come from the client, so the reader checks every length against what is present and against hard
/// limits, answers `malformed` for contradictions, and never traps. Like Envoy's `tls_inspector`, it accepts a
/// ClientHello of up to 64 KiB spread over several records, as post-quantum key shares make hellos larger than
/// one record.
package enum TLSClientHello {
    /// The largest record body accepted: 2^14 bytes of plaintext plus 256, the bound RFC 8446 section 5.2 puts
    /// on any record.
    static let maximumRecordLength = 16384 + 256
    /// The largest ClientHello accepted, its 4-byte handshake header included.
    static let maximumHelloLength = 65536

    private static let handshakeContentType: UInt8 = 22
    private static let clientHelloType: UInt8 = 1
    private static let serverNameExtension = 0
    /// `encrypted_client_hello` (draft-ietf-tls-esni, now RFC 9849).
    private static let encryptedClientHelloExtension = 0xfe0d
    private static let hostNameType = 0

    /// Reads the ClientHello at the start of `bytes`, which may be the first bytes of the tunnel so far.
    ///
    /// Bytes after the ClientHello (more records, early data) are ignored. Contiguous collections (`[UInt8]`,
    /// NIO's `ByteBufferView`) are read in place; others are copied once.
    package static func read(_ bytes: some Collection<UInt8>) -> Reading {
        if let reading = bytes.withContiguousStorageIfAvailable({ read(records: $0) }) { return reading }
        return Array(bytes).withUnsafeBufferPointer { read(records: $0) }
    }

    /// Walks the handshake records (RFC 8446 section 5.1), gathering their bodies until they hold the ClientHello.
    private static func read(records buffer: UnsafeBufferPointer<UInt8>) -> Reading {
        guard let firstByte = buffer.first else { return .needMoreBytes }
        guard firstByte == handshakeContentType else { return .notTLS }
        // Bodies after the first record are copied here; a ClientHello in one record is read in place.
        var gathered: [UInt8] = []
        var offset = 0
        var recordNumber = 1
        while true {
            let header = UnsafeBufferPointer(rebasing: buffer[offset..<min(offset + 5, buffer.count)])
            if let contentType = header.first, contentType != handshakeContentType {
                return .malformed("record \(recordNumber) has content type \(contentType) before the ClientHello ended")
            }
            if header.count >= 3, header[1] != 3 || !(1...4).contains(header[2]) {
                return .malformed("record \(recordNumber) has version \(header[1]).\(header[2]), not 3.1 to 3.4")
            } else if header.count == 2, header[1] != 3 {
                return .malformed("record \(recordNumber) has major version \(header[1]), not 3")
            }
            guard header.count == 5 else { return .needMoreBytes }
            let length = Int(header[3]) << 8 | Int(header[4])
            guard length > 0, length <= maximumRecordLength else {
                return .malformed("record \(recordNumber) is \(length) bytes long, not 1 to \(maximumRecordLength)")
            }
            let bodyStart = offset + 5
            let bodyEnd = bodyStart + length
            let body = buffer[bodyStart..<min(bodyEnd, buffer.count)]
            let reading: Reading?
            if recordNumber == 1 {
                reading = readHandshake(UnsafeBufferPointer(rebasing: body))
            } else {
                gathered.append(contentsOf: body)
                reading = gathered.withUnsafeBufferPointer { readHandshake($0) }
            }
            if let reading { return reading }
            guard bodyEnd <= buffer.count else { return .needMoreBytes }
            if recordNumber == 1 { gathered.append(contentsOf: body) }
            offset = bodyEnd
            recordNumber += 1
        }
    }

    /// The ClientHello in the handshake bytes gathered so far, `malformed`, or nil while it is incomplete.
    private static func readHandshake(_ handshake: UnsafeBufferPointer<UInt8>) -> Reading? {
        guard let type = handshake.first else { return nil }
        guard type == clientHelloType else {
            return .malformed("the first handshake message has type \(type), not ClientHello (1)")
        }
        guard handshake.count >= 4 else { return nil }
        let length = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
        guard 4 + length <= maximumHelloLength else {
            return .malformed("the ClientHello is \(4 + length) bytes long, more than \(maximumHelloLength)")
        }
        guard handshake.count >= 4 + length else { return nil }
        return readHello(UnsafeBufferPointer(rebasing: handshake[4..<(4 + length)]))
    }

    /// The ClientHello body (RFC 8446 section 4.1.2), which must be exactly as long as its handshake header says.
    private static func readHello(_ body: UnsafeBufferPointer<UInt8>) -> Reading {
        var reader = ByteReader(body)
        guard reader.readBytes(2 + 32) != nil else {
            return .malformed("the ClientHello ends inside its version and random")
        }
        guard let sessionIDLength = reader.readUInt8(), sessionIDLength <= 32,
            reader.readBytes(sessionIDLength) != nil
        else { return .malformed("the ClientHello's session id is longer than 32 bytes or than the message") }
        guard let suitesLength = reader.readUInt16(), suitesLength >= 2, suitesLength % 2 == 0,
            reader.readBytes(suitesLength) != nil
        else { return .malformed("the ClientHello's cipher suite list is empty, odd or longer than the message") }
        guard let compressionLength = reader.readUInt8(), compressionLength >= 1,
            reader.readBytes(compressionLength) != nil
        else { return .malformed("the ClientHello's compression method list is empty or longer than the message") }
        // A TLS 1.2 ClientHello may end here, without extensions (RFC 5246 section 7.4.1.2).
        if reader.isAtEnd { return .clientHello(serverName: nil) }
        guard let extensionsLength = reader.readUInt16(), extensionsLength == reader.remaining else {
            return .malformed("the ClientHello's extensions do not fill the rest of the message")
        }
        var serverName: String?
        var sawServerName = false
        var encrypted = false
        while !reader.isAtEnd {
            guard let type = reader.readUInt16(), let length = reader.readUInt16(),
                let extensionBody = reader.readBytes(length)
            else { return .malformed("an extension runs past the end of the ClientHello") }
            if type == encryptedClientHelloExtension { encrypted = true }
            guard type == serverNameExtension else { continue }
            // RFC 8446 section 4.2: no extension type may appear twice.
            guard !sawServerName else { return .malformed("the ClientHello has two server_name extensions") }
            sawServerName = true
            let reading = readServerName(extensionBody)
            guard case .clientHello(let name) = reading else { return reading }
            serverName = name
        }
        return encrypted ? .encryptedClientHello(outerName: serverName) : .clientHello(serverName: serverName)
    }

    /// The server_name extension body (RFC 6066 section 3): a non-empty list with at most one host_name.
    private static func readServerName(_ body: UnsafeBufferPointer<UInt8>) -> Reading {
        var reader = ByteReader(body)
        guard let listLength = reader.readUInt16(), listLength > 0, listLength == reader.remaining else {
            return .malformed("the server_name list is empty or does not fill its extension")
        }
        var hostName: String?
        while !reader.isAtEnd {
            guard let nameType = reader.readUInt8(), let length = reader.readUInt16(),
                let name = reader.readBytes(length)
            else { return .malformed("a server_name entry runs past the end of its list") }
            guard nameType == hostNameType else { continue }
            guard hostName == nil else { return .malformed("the server_name list has two host names") }
            guard isHostName(name) else {
                return .malformed("the server name is not 1 to 255 ASCII letters, digits, '-', '.' or '_'")
            }
            hostName = String(decoding: name, as: UTF8.self)
        }
        return .clientHello(serverName: hostName)
    }

    /// Only the characters of DNS names (plus `_`): anything else, such as UTF-8 or control bytes, could smuggle
    /// a second meaning into logs, policy matching or the certificate the proxy mints for the name.
    private static func isHostName(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        (1...255).contains(name.count)
            && name.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                    true
                default:
                    false
                }
            }
    }
}

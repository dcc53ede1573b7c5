/// Assembles a TLS ClientHello byte by byte (RFC 8446 sections 4.1.2 and 5.1, RFC 6066 section 3), with every
/// field open to change, so each test states exactly which byte it breaks.
struct ClientHelloBuilder {
    var recordVersion: [UInt8] = [3, 1]
    var handshakeType: UInt8 = 1
    var legacyVersion: [UInt8] = [3, 3]
    var random = [UInt8](repeating: 0x5a, count: 32)
    var sessionID = [UInt8](repeating: 0xab, count: 32)
    var cipherSuites: [UInt8] = [0x13, 0x01, 0x13, 0x02, 0x13, 0x03]
    var compressionMethods: [UInt8] = [0]
    /// The encoded extensions, concatenated; nil leaves out the extensions block (a TLS 1.2 hello may).
    var extensions: [UInt8]? = ClientHelloBuilder.serverName("x.example") + ClientHelloBuilder.supportedVersions

    /// supported_versions (43) offering TLS 1.3 and 1.2, as every modern client sends.
    static let supportedVersions = extensionBytes(type: 43, body: [4, 3, 4, 3, 3])

    static func u16(_ value: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    static func u24(_ value: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 16)] + u16(value)
    }

    static func extensionBytes(type: Int, body: [UInt8]) -> [UInt8] {
        u16(type) + u16(body.count) + body
    }

    /// A server_name extension (type 0) listing `entries` as (name_type, name bytes).
    static func serverNameList(_ entries: [(UInt8, [UInt8])]) -> [UInt8] {
        let list = entries.flatMap { [$0.0] + u16($0.1.count) + $0.1 }
        return extensionBytes(type: 0, body: u16(list.count) + list)
    }

    /// A server_name extension with one host_name.
    static func serverName(_ name: String) -> [UInt8] {
        serverNameList([(0, Array(name.utf8))])
    }

    /// The ClientHello body, after the handshake header.
    var body: [UInt8] {
        var body = legacyVersion + random
        body += [UInt8(sessionID.count)] + sessionID
        body += Self.u16(cipherSuites.count) + cipherSuites
        body += [UInt8(compressionMethods.count)] + compressionMethods
        if let extensions { body += Self.u16(extensions.count) + extensions }
        return body
    }

    /// The handshake message: type, 24-bit length, body.
    var handshake: [UInt8] { [handshakeType] + Self.u24(body.count) + body }

    /// The handshake message in handshake records, cut into one more record than there are `splits` (offsets
    /// into the handshake message, ascending).
    func records(splitAt splits: [Int] = []) -> [UInt8] {
        Self.records(handshake, splitAt: splits, version: recordVersion)
    }

    static func records(_ payload: [UInt8], splitAt splits: [Int] = [], version: [UInt8] = [3, 1]) -> [UInt8] {
        let bounds = [0] + splits + [payload.count]
        var records: [UInt8] = []
        for (start, end) in zip(bounds, bounds.dropFirst()) {
            records += [22] + version + u16(end - start)
            records += payload[start..<end]
        }
        return records
    }
}

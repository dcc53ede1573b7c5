import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One name a leaf certificate is issued for, parsed once: a DNS name, or an IPv4/IPv6 literal that must go in an
/// `iPAddress` SAN (clients never match an IP against a `dNSName`).
enum LeafName: Equatable {
    case dns(String)
    /// The text as given (without brackets) and its 4 or 16 network-order bytes.
    case ip(String, [UInt8])

    /// Parses a host as it appears in a CONNECT target or Host header; `[v6]` brackets are accepted.
    init(_ host: String) throws {
        var text = host
        if text.hasPrefix("["), text.hasSuffix("]"), text.count > 2 {
            text = String(text.dropFirst().dropLast())
        }
        if let bytes = Self.addressBytes(text) {
            self = .ip(text, bytes)
            return
        }
        guard !text.isEmpty, text.utf8.count <= 253, text.utf8.allSatisfy(Self.isHostNameByte) else {
            throw CertificateAuthorityError(
                .invalidHost,
                "'\(host)' is not a host name or IP address for a leaf certificate"
            )
        }
        self = .dns(text.lowercased())
    }

    /// Letters, digits, `-`, `.`, `_` (seen in real service names) and `*` (a wildcard label).
    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "*"):
            return true
        default:
            return false
        }
    }

    /// The subject alternative name for this name.
    var generalName: GeneralName {
        switch self {
        case .dns(let name): return .dnsName(name)
        case .ip(_, let bytes): return .ipAddress(ASN1OctetString(contentBytes: bytes[...]))
        }
    }

    /// The text for the subject's common name, or nil when it exceeds the 64 characters X.520 allows (the SAN
    /// still names it, as mitmproxy does).
    var commonName: String? {
        let text: String
        switch self {
        case .dns(let name): text = name
        case .ip(let literal, _): text = literal
        }
        return text.utf8.count <= 64 ? text : nil
    }

    /// The 4 or 16 bytes of an IP literal, or nil for a name.
    private static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

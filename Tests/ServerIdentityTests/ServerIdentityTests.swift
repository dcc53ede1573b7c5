import Crypto
import Foundation
import NIOSSL
import ServerIdentity
import SwiftASN1
import Testing
import X509

/// What a server's certificate must carry to stand for a host (RFC 9525), beyond what NIOSSL accepts.
struct ServerIdentityTests {
    /// A self-issued certificate (the chain is NIOSSL's to verify) with these subjectAltName entries and common name.
    static func certificate(
        _ names: [GeneralName]?,
        commonName: String = "graph.microsoft.com"
    ) throws -> NIOSSLCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(commonName) }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60),
            notValidAfter: Date().addingTimeInterval(3600),
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                if let names { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
    }

    static func address(_ bytes: [UInt8]) -> GeneralName { .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }

    /// Review 51 F1: NIOSSL took an address entry equal to the address connected to for any name.
    @Test func anAddressEntryNamesOnlyThatAddress() throws {
        let loopback = try Self.certificate([Self.address([127, 0, 0, 1])])
        #expect(!ServerIdentity.certificate(loopback, names: "login.microsoftonline.com"))
        #expect(ServerIdentity.certificate(loopback, names: "127.0.0.1"))
        #expect(!ServerIdentity.certificate(loopback, names: "127.0.0.2"))
        let six = try Self.certificate([Self.address([UInt8](repeating: 0, count: 15) + [1])])
        #expect(ServerIdentity.certificate(six, names: "[::1]") && ServerIdentity.certificate(six, names: "::1"))
        #expect(!ServerIdentity.certificate(six, names: "localhost"))
    }

    @Test func aCommonNameNamesNothing() throws {
        #expect(!ServerIdentity.certificate(try Self.certificate(nil), names: "graph.microsoft.com"))
        let other = try Self.certificate([.dnsName("other.example")])
        #expect(!ServerIdentity.certificate(other, names: "graph.microsoft.com"))
    }

    @Test func aDNSNameNamesItsHostInAnyCaseWithOrWithoutTheRootDot() throws {
        let graph = try Self.certificate([.dnsName("Graph.Microsoft.com"), Self.address([127, 0, 0, 1])])
        for host in ["graph.microsoft.com", "GRAPH.MICROSOFT.COM.", "graph.microsoft.com."] {
            #expect(ServerIdentity.certificate(graph, names: host), "\(host)")
        }
        for host in ["microsoft.com", "x.graph.microsoft.com", "graph.microsoft.co", "", "."] {
            #expect(!ServerIdentity.certificate(graph, names: host), "\(host)")
        }
    }

    @Test func aWildcardStandsForOneWholeFirstLabel() throws {
        let wildcard = try Self.certificate([.dnsName("*.sharepoint.com")])
        #expect(ServerIdentity.certificate(wildcard, names: "contoso.sharepoint.com"))
        for host in ["sharepoint.com", "a.b.sharepoint.com", ".sharepoint.com", "contoso.sharepoint.co"] {
            #expect(!ServerIdentity.certificate(wildcard, names: host), "\(host)")
        }
        for entry in ["*.com", "*", "g*.microsoft.com", "*.*.microsoft.com", "graph.*.com", "*graph.microsoft.com"] {
            let certificate = try Self.certificate([.dnsName(entry)])
            #expect(!ServerIdentity.certificate(certificate, names: "graph.microsoft.com"), "\(entry)")
        }
    }

    /// Review 52 F5: a syslog receiver's IPv6 address with a hex letter was sent as a TLS server name, and never
    /// reached.
    @Test func onlyANameIsSentAsTheServerName() {
        #expect(ServerIdentity.serverName(for: "siem.contoso.example") == "siem.contoso.example")
        for address in ["10.0.0.5", "::ffff:127.0.0.1", "[fd00::ab]", "2001:db8::1"] {
            #expect(ServerIdentity.serverName(for: address) == nil, "\(address)")
        }
    }

    @Test func anEntryOfAnotherKindNamesNothing() throws {
        let mail = try Self.certificate([
            .rfc822Name("graph.microsoft.com"), .uniformResourceIdentifier("graph.microsoft.com"),
        ])
        #expect(!ServerIdentity.certificate(mail, names: "graph.microsoft.com"))
    }
}

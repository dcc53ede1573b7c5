import NIOHTTP1
import Testing

@testable import ProxyServer

/// Bodies that may carry `access_token` but cannot be read as a resource would read them: refused, not guessed at.
struct StreamedRequestHeadTests {
    static func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1.0/me", headers: HTTPHeaders(headers))
    }

    @Test(arguments: [
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded;charset=\"us-ascii\"", "application/json; charset=utf-16",
        // ASCII's other registered names, and sets that keep ASCII as is (what Python and Java send under C locales).
        "application/x-www-form-urlencoded; charset=ANSI_X3.4-1968",
        "application/x-www-form-urlencoded; charset=cp1252",
        "application/x-www-form-urlencoded; charset=ISO_8859-1:1987",
        "application/x-www-form-urlencoded; charset=iso-ir-100",
        "application/x-www-form-urlencoded; charset=windows-1250",
        "application/x-www-form-urlencoded; charset=iso-8859-2",
        "application/x-www-form-urlencoded; charset=L1", "application/x-www-form-urlencoded; charset=cp819",
        "application/x-www-form-urlencoded; charset=IBM819",
    ])
    func aFormInAnASCIICharsetIsRead(_ type: String) {
        #expect(StreamedRequestHead.unreadableForm(Self.head([("Content-Type", type)])) == nil)
    }

    @Test(arguments: [
        "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=UTF-32BE",
        "application/x-www-form-urlencoded; charset=utf-8; charset=utf-16",
        "application/x-www-form-urlencoded; charset=utf-7", "application/x-www-form-urlencoded; charset=ibm037",
        "application/x-www-form-urlencoded; charset=unicode", "application/x-www-form-urlencoded; charset=iso-ir-87",
    ])
    func aFormInAnotherCharsetIsRefused(_ type: String) throws {
        let reason = try #require(StreamedRequestHead.unreadableForm(Self.head([("Content-Type", type)])))
        #expect(reason.contains("charset"))
    }

    @Test func twoContentTypesAreAmbiguous() throws {
        let head = Self.head([
            ("Content-Type", "application/json"), ("content-type", "application/x-www-form-urlencoded"),
        ])
        let reason = try #require(StreamedRequestHead.unreadableForm(head))
        #expect(reason.contains("2 Content-Type headers"))
    }

    /// An empty `Content-Encoding`, or `identity`, names no coding.
    @Test(arguments: ["", "identity", " , identity"])
    func aFormWithNoCodingIsRead(_ coding: String) {
        let head = Self.head([("Content-Type", "application/x-www-form-urlencoded"), ("Content-Encoding", coding)])
        #expect(StreamedRequestHead.unreadableForm(head) == nil)
    }

    @Test func anEncodedFormIsRefused() throws {
        let head = Self.head([("Content-Type", "application/x-www-form-urlencoded"), ("Content-Encoding", "gzip")])
        let reason = try #require(StreamedRequestHead.unreadableForm(head))
        #expect(reason.contains("encoded (gzip)"))
    }

    /// llhttp reads `Proxy-Connection` as `Connection`: either one asking to upgrade makes the request the last.
    @Test(arguments: ["Connection", "Proxy-Connection"])
    func aRequestAskingToSwitchProtocolsIsTheConnectionsLast(_ name: String) {
        #expect(
            !StreamedRequestHead.keepsConnection(Self.head([("Upgrade", "websocket"), (name, "keep-alive, Upgrade")]))
        )
        #expect(StreamedRequestHead.keepsConnection(Self.head([(name, "keep-alive")])))
    }
}

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
    ])
    func aFormInAnASCIICharsetIsRead(_ type: String) {
        #expect(StreamedRequestHead.unreadableForm(Self.head([("Content-Type", type)])) == nil)
    }

    @Test(arguments: [
        "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=UTF-32BE",
        "application/x-www-form-urlencoded; charset=utf-8; charset=utf-16",
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

import Testing
import TokenInspection

/// Tokens outside the named carriers, found as a server would decode them (review 34).
struct EmbeddedTokensTests {
    static let token = "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.c2ln"

    @Test(
        arguments: [
            "tempauth=v1.\(token)&x=1", "Bearer \(token)", "session=\(token); other=1", "%65yJ\(token.dropFirst(3))",
            "%u0065yJ\(token.dropFirst(3))", "a=\(token)&b=\(token)",
        ]
    )
    func aTokenIsFoundOnceWhereverItIs(_ text: String) {
        #expect(EmbeddedTokens.find(in: text) == [Self.token], "\(text)")
    }

    @Test func anEncryptedTokenCountsAndShortOrMalformedRunsDoNot() {
        let encrypted = "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"
        #expect(EmbeddedTokens.find(in: "x=\(encrypted)") == [encrypted])
        #expect(EmbeddedTokens.find(in: "eyJa.b.c").isEmpty)
        #expect(EmbeddedTokens.find(in: "keyJ\(Self.token.dropFirst(3))").isEmpty, "inside a longer run")
        #expect(EmbeddedTokens.find(in: "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0").isEmpty, "one period")
        #expect(EmbeddedTokens.find(in: "/v1.0/me?$select=displayName").isEmpty)
    }

    /// Each found token is a bearer once, kept cut past 16 KiB as a named one is, and no more than 16 are read.
    @Test func foundTokensBecomeBearersOnceBounded() throws {
        let long = "eyJ" + String(repeating: "a", count: 20_000) + ".b.c"
        let many = (0..<40).map { "x\($0)=eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ\($0)In0.c2ln" }.joined(separator: "&")
        let read = try ResourceCredentials.read(
            authorization: ["Bearer \(Self.token)"],
            target: "/x?a=\(Self.token)&l=\(long)&\(many)",
            formBody: nil
        ).get()
        #expect(read.credentials.count == EmbeddedTokens.maximumCount)
        #expect(read.credentials.first == .bearer(Self.token))
        #expect(read.credentials.filter { $0 == .bearer(Self.token) }.count == 1)
        #expect(read.credentials.dropFirst().first == .bearer(String(long.prefix(16 << 10))))
    }
}

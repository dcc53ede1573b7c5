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

    /// Each found token is a bearer once, read whole however long a request head lets it be. A request carrying more
    /// tokens than are judged, or one too long to read, is refused: dropped or cut, a blocked tenant's token rode
    /// beside 16 decoys unjudged, or read as opaque (review 43).
    @Test func foundTokensBecomeBearersOnceBounded() throws {
        let long = "eyJ" + String(repeating: "a", count: 20_000) + ".b.c"
        func decoys(_ count: Int, from first: Int = 0) -> String {
            let pairs = (first..<first + count).map { "x\($0)=eyJhbGciOiJub25lIn0.eyJ0aWQiOiJx\($0)In0.c2ln" }
            return pairs.joined(separator: "&")
        }
        let read = try ResourceCredentials.read(
            authorization: ["Bearer \(Self.token)"],
            target: "/x?a=\(Self.token)&l=\(long)&\(decoys(14))",
            formBody: nil
        ).get()
        #expect(read.credentials.count == ResourceCredentials.maximumTokens)
        #expect(read.credentials.first == .bearer(Self.token))
        #expect(read.credentials.filter { $0 == .bearer(Self.token) }.count == 1)
        #expect(read.credentials.dropFirst().first == .bearer(long))

        for (target, cookie, other) in [
            ("/x?\(decoys(16))", nil, []),
            ("/x", "\(decoys(8))", [decoys(8, from: 8)]),
            ("/x?\(decoys(16))&tempauth=v1.\(Self.token)", nil, []),
        ] as [(String, String?, [String])] {
            let refused = ResourceCredentials.read(
                authorization: ["Bearer \(Self.token)"],
                target: target,
                formBody: nil,
                cookie: cookie,
                otherHeaders: other
            )
            guard case .failure(let why) = refused else {
                Issue.record("\(target): 17 tokens read as \(refused)")
                continue
            }
            #expect(why.description.contains("more than 16 tokens"))
        }

        let huge = "eyJ" + String(repeating: "a", count: 100_000) + ".b.c"
        for body in ["access_token=\(huge)", "x=\(huge)"] {
            let refused = ResourceCredentials.read(authorization: [], target: "/x", formBody: Array(body.utf8))
            guard case .failure(let why) = refused else {
                Issue.record("a 100 KB token was read as \(refused)")
                continue
            }
            #expect(why.description.contains("longer than"))
        }
    }
}

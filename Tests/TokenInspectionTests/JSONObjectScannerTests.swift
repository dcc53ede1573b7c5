import Foundation
import Testing

@testable import TokenInspection

/// The single-pass reader of token responses and JWT payloads: what it reads, and everything it refuses.
struct JSONObjectScannerTests {
    static func scan(_ text: String, _ wanted: MemberNames = ["a", "b"]) -> ScannedMembers? {
        JSONObjectScanner.members(of: Array(text.utf8), wanted: wanted)
    }

    @Test func readsChosenMembersAndSkipsTheRest() throws {
        let members = try #require(
            Self.scan(
                #" { "x": {"a": [1, {"b": null}], "c": "\"}"}, "a" : "text", "y": [true, false, -0.5e+3], "b": [ "g1", "g2" ] } "#
            )
        )
        #expect(members["a"] == .string("text"))
        #expect(members["b"]?.strings == ["g1", "g2"])
        #expect(members["x"] == nil)
    }

    @Test func valuesOfOtherKinds() throws {
        let members = try #require(Self.scan(#"{"a": 1700000000, "b": [70000, "x", {"k": 1}, [2]]}"#))
        #expect(members["a"]?.number == 1_700_000_000)
        #expect(members["b"] == .array([.number(70000), .string("x"), .other, .other]))
        #expect(members["b"]?.strings == nil)
        #expect(try #require(Self.scan(#"{"a": {"b": "nested"}, "b": null}"#))["a"] == .other)
        #expect(try #require(Self.scan("{}"))["a"] == nil)
    }

    @Test(arguments: [
        (#"{"a": "q\"b\\s\/n\n\t\r\b\f"}"#, "q\"b\\s/n\n\t\r\u{8}\u{c}"),
        (#"{"a": "\u00e9\u4e2d"}"#, "é中"),
        (#"{"a": "\ud83d\ude00"}"#, "😀"),
        ("{\"a\": \"caf\u{e9}\"}", "café"),
    ])
    func escapesAndUnicode(json: String, expected: String) throws {
        #expect(try #require(Self.scan(json))["a"] == .string(expected))
    }

    @Test(arguments: [
        "", " ", "[]", "\"a\"", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":1}{}",
        "{\"a\":1} x", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":.5}", "{\"a\":tru}",
        "{\"a\":nul}", "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"x\":{\"k\"}}", "{\"x\":{\"k\":1,}}", "{'a':1}",
        "{\"a\":\"unterminated}", "{\"a\":\"tab\there\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}", "{\"a\":\"\\ud83d\\u0041\"}", "{\"a\":1,\"a\":2}",
        "{\"b\":\"x\",\"b\":\"y\"}",
    ])
    func malformedDocumentsAreRefused(json: String) {
        #expect(Self.scan(json) == nil, "\(json)")
        #expect(Self.spans(json) == nil, "spans: \(json)")
    }

    @Test func invalidUTF8InAChosenStringIsRefused() {
        for body: [UInt8] in [[0xC3, 0x28], Array("an escape \\n, then ".utf8) + [0xFF]] {
            let bytes: [UInt8] = Array(#"{"a":""#.utf8) + body + Array(#""}"#.utf8)
            #expect(JSONObjectScanner.members(of: bytes, wanted: ["a"]) == nil)
            #expect(bytes.withUnsafeBufferPointer { JSONObjectScanner.spans(in: $0, wanted: ["a"]) } == nil)
        }
    }

    /// Strings are walked eight bytes at a time: a quote, a backslash or a control character is found at every
    /// offset of a long string, beside both kinds of plain bytes (ASCII and the high bytes of UTF-8).
    @Test(arguments: ["x", "é"])
    func everyByteThatMattersIsFoundWhereverItFalls(plain: String) throws {
        let filler = Array(String(repeating: plain, count: 24).utf8)
        for offset in 0..<20 {
            let before = Array(filler[..<offset])
            let after = Array(filler[offset...])
            func scanned(_ middle: [UInt8]) -> ScannedMembers? {
                JSONObjectScanner.members(of: Array(#"{"a":""#.utf8) + middle + Array(#""}"#.utf8), wanted: ["a"])
            }
            let text = { (bytes: [UInt8]) in ScannedValue.string(String(decoding: bytes, as: UTF8.self)) }
            // Only between whole characters (not after the lead byte of `é`).
            guard before.last.map({ $0 < 0xC0 }) ?? true else { continue }
            #expect(scanned(before + after)?["a"] == text(before + after))
            #expect(scanned(before + Array(#"\n"#.utf8) + after)?["a"] == text(before + [0x0A] + after))
            #expect(scanned(before + Array(#"\""#.utf8) + after)?["a"] == text(before + [0x22] + after))
            #expect(scanned(before + [0x22] + after) == nil, "a quote ends the string, at \(offset)")
            for control in UInt8(0)..<0x20 {
                #expect(scanned(before + [control] + after) == nil, "control \(control) at \(offset)")
            }
        }
    }

    static func spans(_ text: String, _ wanted: MemberNames = ["a", "b"]) -> (ScannedSpans, [UInt8])? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { JSONObjectScanner.spans(in: $0, wanted: wanted) }.map { ($0, bytes) }
    }

    /// Spans say where each chosen value lies, of which kind, and read as the members do.
    @Test func spansLocateChosenValuesWithoutDecodingThem() throws {
        let json = #"{"a": "plain", "b": "q\"uote", "c": -1.5e3, "d": ["x", "y"], "e": {"k": [1]}, "f": null}"#
        let (spans, bytes) = try #require(Self.spans(json, ["a", "b", "c", "d", "e", "f", "g"]))
        func text(_ span: MemberSpan?) -> String? {
            span.map { String(decoding: bytes[$0.range], as: UTF8.self) }
        }
        #expect(spans["a"]?.kind == .plainString)
        #expect(text(spans["a"]) == "plain")
        #expect(spans["b"]?.kind == .escapedString)
        #expect(text(spans["b"]) == #"q\"uote"#)
        #expect(spans["c"]?.kind == .number)
        #expect(text(spans["c"]) == "-1.5e3")
        #expect(spans["d"]?.kind == .array)
        #expect(text(spans["d"]) == #"["x", "y"]"#)
        #expect(spans["e"]?.kind == .other)
        #expect(text(spans["e"]) == #"{"k": [1]}"#)
        #expect(spans["f"]?.kind == .other)
        #expect(spans["g"] == nil)
        bytes.withUnsafeBufferPointer { buffer in
            #expect(spans["a"].flatMap { JSONObjectScanner.string($0, in: buffer) } == "plain")
            #expect(spans["b"].flatMap { JSONObjectScanner.string($0, in: buffer) } == #"q"uote"#)
            #expect(spans["c"].flatMap { JSONObjectScanner.string($0, in: buffer) } == nil)
            #expect(spans["d"].flatMap { JSONObjectScanner.strings($0, in: buffer) } == ["x", "y"])
            #expect(spans["e"].flatMap { JSONObjectScanner.strings($0, in: buffer) } == nil)
        }
    }

    @Test func escapedNamesAreMatchedByWhatTheyMean() {
        #expect(Self.scan(#"{"\u0061": "x", "\u0062\u0063": 1}"#)?["a"] == .string("x"))
        #expect(Self.scan(#"{"\u0061": "x", "a": "y"}"#) == nil)
    }

    /// Names wanted in any letter case match so, and one met twice in two cases makes the object unreadable, as any
    /// chosen repeat does (review 56: `ACCESS_TOKEN` beside `access_token` went to the client unjudged).
    @Test func namesWantedInAnyCaseMatchSoAndTheirRepeatsAreRefused() {
        let names = MemberNames(ignoringCase: "access_token")
        func scan(_ json: String) -> ScannedMembers? { JSONObjectScanner.members(of: Array(json.utf8), wanted: names) }
        #expect(scan(#"{"Access_Token": "x"}"#)?["access_token"] == .string("x"))
        #expect(scan(#"{"access_token": "x", "ACCESS_TOKEN": "y"}"#) == nil)
        #expect(scan(#"{"access_token": "x", "access\u005FTOKEN": "y"}"#) == nil)
        // Letters beyond ASCII that Go's EqualFold and .NET's invariant upper case fold into ASCII ones (review 58).
        #expect(scan("{\"access_token\": \"x\", \"access_to\u{212A}en\": \"y\"}") == nil)
        #expect(scan("{\"access_token\": \"x\", \"acce\u{17F}s_token\": \"y\"}") == nil)
        #expect(scan(#"{"access_token": "x", "access_to\u212aen": "y"}"#) == nil)
        #expect(scan("{\"access_to\u{212A}en\": \"y\"}")?["access_token"] == .string("y"))
        #expect(Self.scan(#"{"A": "x"}"#)?["a"] == nil, "exact names stay exact")
    }

    @Test func duplicateMembersThatAreNotChosenAreAllowed() {
        #expect(Self.scan(#"{"z":1,"z":2,"a":"x"}"#)?["a"] == .string("x"))
    }

    @Test func nestingIsBounded() {
        func nested(_ depth: Int) -> String {
            #"{"x":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        }
        #expect(Self.scan(nested(JSONObjectScanner.maximumDepth - 1)) != nil)
        #expect(Self.scan(nested(JSONObjectScanner.maximumDepth)) == nil)
        #expect(Self.scan(nested(100_000)) == nil)
    }

    /// Documents written by Foundation, read back: every top-level string and string array agrees.
    @Test func agreesWithFoundationOnGeneratedDocuments() throws {
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let pieces = ["a", "é", "\"", "\\", "/", "\n", "\u{1}", "中", "😀", " ", "tid", "\u{7f}"]
        func text() -> String { (0..<next(6)).map { _ in pieces[next(pieces.count)] }.joined() }
        func value(_ depth: Int) -> Any {
            switch next(depth > 3 ? 4 : 6) {
            case 0: return text()
            case 1: return next(1_000_000) - 500_000
            case 2: return next(2) == 0
            case 3: return NSNull()
            case 4: return (0..<next(4)).map { _ in value(depth + 1) }
            default:
                return Dictionary(
                    (0..<next(4)).map { _ in (text(), value(depth + 1)) },
                    uniquingKeysWith: { a, _ in a }
                )
            }
        }
        for _ in 0..<500 {
            var object: [String: Any] = ["a": text(), "b": (0..<next(4)).map { _ in text() }]
            for _ in 0..<next(5) { object["k" + text()] = value(0) }
            let data = try JSONSerialization.data(withJSONObject: object)
            let members = try #require(JSONObjectScanner.members(of: data, wanted: ["a", "b"]))
            #expect(members["a"] == .string(object["a"] as! String))
            #expect(members["b"]?.strings == object["b"] as? [String])
            let bytes = [UInt8](data)
            let spans = try #require(
                bytes.withUnsafeBufferPointer { JSONObjectScanner.spans(in: $0, wanted: ["a", "b"]) }
            )
            bytes.withUnsafeBufferPointer { buffer in
                #expect(spans["a"].flatMap { JSONObjectScanner.string($0, in: buffer) } == object["a"] as? String)
                #expect(spans["b"].flatMap { JSONObjectScanner.strings($0, in: buffer) } == object["b"] as? [String])
            }
        }
    }

    @Test func aTokenWithTwoTenantClaimsIsUnreadable() {
        let token = TokenInspectionTests.token(
            #"{"tid":"\#(TokenInspectionTests.fabrikam)","tid":"\#(TokenInspectionTests.northwind)"}"#
        )
        guard case .failure(let error) = JWTClaimReader.claims(of: token) else {
            Issue.record("two tid claims must make the token unreadable")
            return
        }
        #expect(error.code == .malformedClaims)
    }
}

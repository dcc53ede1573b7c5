import Foundation
import Testing

@testable import Shipping

/// The one-pass reader of decision lines agrees with JSONSerialization wherever it answers, and leaves the rest to it.
struct FlatJSONObjectTests {
    static func agree(_ text: String) -> Bool {
        let data = Data(text.utf8)
        guard let flat = FlatJSONObject.parse(data),
            let foundation = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return false }
        // Both sides as NSDictionary: comparing with the Swift dictionary bridges its values differently.
        return NSDictionary(dictionary: flat).isEqual(NSDictionary(dictionary: foundation))
    }

    @Test func decisionLinesReadAsFoundationReadsThem() {
        for line in [
            #"{"time":"2026-12-05T10:11:12.345Z","decision":"blocked","directions":["outbound","inbound"],"creator_tenant":null,"error_code":500212,"ok":true,"no":false,"ratio":1.5}"#,
            #"{"reason":"said \"no\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 é","empty":"","list":[]}"#,
            #" { "spaced" : [ 1 , "two" , null ] } "#, "{}",
        ] {
            #expect(Self.agree(line), "\(line)")
        }
    }

    @Test func whatItDoesNotTakeIsLeftToFoundation() {
        for line in [
            #"{"actor":{"tenant":"t"}}"#, #"{"a":[[1]]}"#, #"{"a":"b"} trailing"#, #"{"a":"b""#, #"{"a":"\x"}"#,
            #"{"a":"\ud800"}"#, "{\"a\":\"\u{1}\"}", #"["not an object"]"#, "", #"{"a":tru}"#, #"{"a" "b"}"#,
        ] {
            #expect(FlatJSONObject.parse(Data(line.utf8)) == nil, "\(line)")
        }
    }
}

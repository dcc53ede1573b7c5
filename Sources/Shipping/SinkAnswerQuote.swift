import Foundation
import NIOCore

/// The start of a sink's error answer, as logs quote it, without the secrets the request carried: a receiver that
/// echoes the request (`POST /v1/logs?api_key=…`, its `Authorization`) put them in the shipper's log (review 47 F3).
/// Secrets are hidden in the whole answer before it is cut, so none is left in part at the cut either.
enum SinkAnswerQuote {
    static let length = 200

    static func quote(_ answer: ByteBuffer, hiding secrets: [String]) -> String {
        quote(String(buffer: answer), hiding: secrets)
    }

    static func quote(_ answer: String, hiding secrets: [String]) -> String {
        var text = answer
        for secret in secrets where secret.utf8.count >= 4 {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return String(text.prefix(length))
    }

    /// The query of a URL and each of its values, which may carry a key.
    static func querySecrets(of url: String) -> [String] {
        guard let start = url.firstIndex(of: "?") else { return [] }
        let query = url[url.index(after: start)...].prefix { $0 != "#" }
        let values = query.split(separator: "&").compactMap { pair in pair.split(separator: "=", maxSplits: 1).last }
        return [String(query)] + values.map(String.init)
    }
}

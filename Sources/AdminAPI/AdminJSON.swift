import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// How the admin listener writes JSON, answers and policy-change lines alike: keys sorted and slashes unescaped, as
/// the policy files are printed, so that the same value always gives the same bytes.
package enum AdminJSON {
    static func encode(_ value: some Encodable, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
        return try encoder.encode(value)
    }

    /// `value` as one line of JSON Lines, newline included.
    static func line(_ value: some Encodable) throws -> [UInt8] {
        Array(try encode(value)) + [UInt8(ascii: "\n")]
    }

    /// `body` as an answer: its `content-type`, then `headers`.
    package static func response(
        _ status: HTTPResponse.Status,
        _ body: some Encodable,
        headers: HTTPFields = [:]
    ) throws -> Response {
        response(status, json: try encode(body), headers: headers)
    }

    /// JSON already printed (a Graph document keeps Graph's printing) as an answer: its `content-type`, then `headers`.
    static func response(_ status: HTTPResponse.Status, json: Data, headers: HTTPFields) -> Response {
        var fields: HTTPFields = [.lowercaseContentType: "application/json; charset=utf-8"]
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }
}

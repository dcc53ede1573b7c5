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
        return Response(status: status, headers: fields, body: body(json))
    }

    /// Past this, an answer goes out a slice at a time, each when the connection has room for it.
    static let sliceBytes = 64 << 10

    /// A large answer is written in slices that wait for the client to read: whole, a client that never read held
    /// a copy of it, and TLS another, until the deadline (review 32: 600 MiB for sixteen GETs of a large policy).
    private static func body(_ json: Data) -> ResponseBody {
        guard json.count > sliceBytes else { return ResponseBody(byteBuffer: ByteBuffer(bytes: json)) }
        return ResponseBody(contentLength: json.count) { writer in
            var offset = json.startIndex
            while offset < json.endIndex {
                let end = min(offset + sliceBytes, json.endIndex)
                try await writer.write(ByteBuffer(bytes: json[offset..<end]))
                offset = end
            }
            try await writer.finish(nil)
        }
    }
}

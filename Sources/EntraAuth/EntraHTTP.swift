import AsyncHTTPClient
import BoundedHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// The only code in EntraAuth that touches the network: small JSON documents from Entra (key sets, OpenID
/// configuration, token answers) fetched with async-http-client, bounded in size and time.
package enum EntraHTTP {
    /// Entra's documents are a few kilobytes; anything far larger is not one.
    package static let maximumBytes = 1 << 20
    /// Seconds before a call gives up, so that a request waiting on it is answered.
    package static let timeout = Duration.seconds(10)

    package struct Answer: Sendable {
        package let status: Int
        package let body: Data
    }

    package enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case tooLarge

        package var description: String {
            switch self {
            case .unreachable(let reason): "could not be fetched: \(reason)"
            case .tooLarge: "is larger than \(EntraHTTP.maximumBytes) bytes"
            }
        }
    }

    /// Refuses plain HTTP except on loopback: whoever can alter the answer chooses which tokens are valid.
    package static func isAcceptable(_ url: URL) -> Bool {
        switch (url.scheme?.lowercased(), url.host) {
        case ("https"?, _?), ("http"?, "127.0.0.1"?), ("http"?, "localhost"?), ("http"?, "::1"?), ("http"?, "[::1]"?):
            true
        default:
            false
        }
    }

    package static func get(_ url: URL) async throws(Failure) -> Answer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "accept", value: "application/json")
        return try await execute(request)
    }

    /// A form post, as the token endpoint takes it.
    package static func postForm(_ url: URL, _ fields: [(String, String)]) async throws(Failure) -> Answer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: formEncoded(fields)))
        return try await execute(request)
    }

    package static func formEncoded(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
            return encode(name) + "=" + encode(value)
        }.joined(separator: "&")
    }

    /// Redirects are not followed: a key set or an OpenID configuration is what Entra's own URL answers, and a
    /// redirect (to plain http, to another host) would let whoever sends it choose which tokens are valid. A 3xx
    /// comes back as the answer, which the callers refuse as they refuse any answer but 200.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.requireNamedServers()
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    private static func execute(_ request: HTTPClientRequest) async throws(Failure) -> Answer {
        do {
            let response = try await client.boundedAnswer(to: request, within: timeout, upTo: maximumBytes)
            return Answer(status: Int(response.status.code), body: Data(response.body.readableBytesView))
        } catch is NIOTooManyBytesError {
            throw .tooLarge
        } catch {
            throw .unreachable(String(describing: error))
        }
    }
}

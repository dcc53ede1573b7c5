import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ProxyServer

struct HTTPDecodingTests {
    /// After a request that asks to switch protocols NIO's decoder parses nothing more and keeps every byte until it
    /// leaves the pipeline; the bound turns a flood of them into an error (the connection closes) instead of a 4 GiB
    /// buffer and a trap.
    @Test(arguments: [
        "GET /chat HTTP/1.1\r\nHost: graph.microsoft.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n\r\n",
    ])
    func bytesPastASwitchingRequestAreBounded(_ request: String) throws {
        let channel = EmbeddedChannel(handler: HTTPDecoding.requestDecoder(leftOverBytes: .forwardBytes))
        defer { _ = try? channel.finish() }
        try channel.writeInbound(ByteBuffer(string: request))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) != nil)
        let block = ByteBuffer(repeating: UInt8(ascii: "x"), count: 16 << 10)
        var failure: (any Error)?
        for _ in 0..<(HTTPDecoding.maxUnparsedRequestBytes / block.readableBytes + 2) where failure == nil {
            do { try channel.writeInbound(block) } catch { failure = error }
        }
        #expect(failure is ByteToMessageDecoderError.PayloadTooLargeError)
    }

    /// Ordinary requests are parsed as they come, however many arrive at once: the bound never trips on them.
    @Test func pipelinedRequestsBeyondTheBoundAreParsed() throws {
        let channel = EmbeddedChannel(handler: HTTPDecoding.requestDecoder(leftOverBytes: .dropBytes))
        defer { _ = try? channel.finish() }
        let pad = String(repeating: "p", count: 4000)
        let one = "GET /v1.0/me HTTP/1.1\r\nHost: graph.microsoft.com\r\nx-pad: \(pad)\r\n\r\n"
        let count = HTTPDecoding.maxUnparsedRequestBytes / one.utf8.count + 10
        try channel.writeInbound(ByteBuffer(string: String(repeating: one, count: count)))
        var heads = 0
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head = part { heads += 1 }
        }
        #expect(heads == count)
    }
}

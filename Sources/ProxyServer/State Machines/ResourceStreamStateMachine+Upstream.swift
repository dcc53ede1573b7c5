import Foundation
import NIOCore
import NIOHTTP1

/// The upstream side of `ResourceStreamStateMachine`: the connection got, the answer relayed part by part, and the
/// helpers both sides use.
extension ResourceStreamStateMachine {

    /// - Parameter reused: the connection served a request before (the session's own, or one kept in the pool).
    mutating func upstreamConnected(reused: Bool) -> Action {
        guard case .connecting(let pending, let head) = state else { return .none }
        let replayable =
            reused && !pending.replayed && pending.ended && pending.body.readableBytes == 0
            && [.GET, .HEAD, .OPTIONS, .DELETE].contains(pending.head.method)
            && !StreamedRequestHead.asksUpgrade(pending.head)
        state = .streaming(
            Exchange(
                head: pending.head,
                form: StreamedRequestHead.isForm(pending.head) && pending.ended ? pending.body : nil,
                judgedUnder: pending.judgedUnder,
                keepAlive: StreamedRequestHead.keepsConnection(pending.head),
                upgrade: StreamedRequestHead.isWebSocketUpgrade(pending.head) ? pending.head : nil,
                requestEnded: pending.ended,
                replay: replayable ? (pending, head) : nil
            )
        )
        var parts: [HTTPClientRequestPart] = [.head(head)]
        if pending.body.readableBytes > 0 { parts.append(.body(.byteBuffer(pending.body))) }
        if pending.ended { parts.append(.end(nil)) }
        return .startUpstream(parts, sendContinue: !pending.ended && StreamedRequestHead.expectsContinue(pending.head))
    }

    mutating func responseHead(_ head: HTTPResponseHead, at stamp: EventStamp) -> Action {
        guard case .streaming(var exchange) = state else { return .none }
        exchange.responseStarted = true
        exchange.upstreamKeepAlive = head.isKeepAlive
        if head.status == .switchingProtocols {
            guard exchange.upgrade != nil else {
                let failure = UpstreamError(
                    code: .malformedResponse,
                    detail: "the upstream server switched protocols unasked"
                )
                return own(.error(.badGateway, "upstream_error", failure.detail, stamp: stamp, keepAlive: false))
            }
            exchange.switching = true
            state = .streaming(exchange)
            return .respond(.head(head))
        }
        // The body streams as it comes: its length, when the upstream gave one, is the client's too. Without one,
        // an HTTP/1.0 client knows no chunked coding: its answer is an HTTP/1.0 one, ended by the close (review 44
        // F3: chunk markers arrived as part of its body).
        var forwarded = head
        forwarded.headers = HTTPResponseWriting.forwardable(head.headers)
        if let length = head.headers.first(name: "content-length") {
            forwarded.headers.add(name: "content-length", value: length)
        } else if exchange.head.version == .http1_0 {
            forwarded.version = .http1_0
            exchange.keepAlive = false
        }
        state = .streaming(exchange)
        if !exchange.keepAlive { forwarded.headers.add(name: "connection", value: "close") }
        return .respond(.head(forwarded))
    }

    mutating func responseBody(_ chunk: ByteBuffer, at stamp: EventStamp) -> Action {
        guard case .streaming(let exchange) = state, exchange.responseStarted, !exchange.switching else { return .none }
        return stillAllowed(exchange, at: stamp, then: .respond(.body(.byteBuffer(chunk))))
    }

    mutating func responseEnd(_ trailers: HTTPHeaders?) -> Action {
        guard case .streaming(let exchange) = state, exchange.responseStarted else { return .none }
        if exchange.switching, let upgrade = exchange.upgrade {
            state = .spliced(upgrade: upgrade)
            return .splice
        }
        // An upstream that answered before the client finished its body leaves the rest nowhere to go.
        let close = !(exchange.requestEnded && exchange.keepAlive)
        state = close ? .closed : .idle
        // A server that declined the upgrade may parse nothing more on its connection, as this proxy does not: it
        // is not pooled, or the next client's request on it would wait for an answer that never comes.
        return .finishResponse(
            trailers,
            keepUpstream: exchange.requestEnded && exchange.upstreamKeepAlive && exchange.upgrade == nil,
            close: close
        )
    }

    /// The upstream connection is gone. Before the answer began the client gets the proxy's error (502, or 504
    /// when the upstream fell silent); once it began, only closing tells the client it is cut short.
    mutating func upstreamEnded(_ error: UpstreamError?, at stamp: EventStamp) -> Action {
        switch state {
        case .connecting:
            break
        case .streaming(let exchange) where !exchange.responseStarted:
            // Closed under a request it had not answered: the server's own idle close crossing it.
            if var replay = exchange.replay, error == nil || error?.code == .connectionClosed {
                replay.pending.replayed = true
                state = .connecting(replay.pending, upstreamHead: replay.upstreamHead)
                return .openUpstream
            }
        case .streaming:
            return close()
        case .idle, .collectingForm, .judging, .spliced, .closed:
            return .none
        }
        let failure = error ?? .connectionClosed
        return own(.error(failure.httpStatus, "upstream_error", failure.detail, stamp: stamp, keepAlive: false))
    }
}

extension ResourceStreamStateMachine {
    // MARK: - Helpers

    /// Keeps a body part that arrived before the request could stream, within the session's body limit.
    func hold(_ chunk: ByteBuffer, in pending: inout Pending) -> Bool {
        guard pending.body.readableBytes + chunk.readableBytes <= session.maxBodyBytes else { return false }
        pending.body.writeImmutableBuffer(chunk)
        return true
    }

    mutating func tooLarge(at stamp: EventStamp) -> Action {
        let message = "the request body is larger than \(session.maxBodyBytes) bytes"
        return own(.error(.payloadTooLarge, "body_too_large", message, stamp: stamp, keepAlive: false))
    }

    /// The proxy's own answer. It keeps the connection only when the client asked to and its request was read.
    mutating func own(_ answer: SessionAnswer, requestRead: Bool = false) -> Action {
        let close = !(answer.keepAlive && requestRead && !answer.closesConnection)
        state = close ? .closed : .idle
        return .answer(answer, close: close)
    }

    mutating func close() -> Action {
        state = .closed
        return .close
    }
}

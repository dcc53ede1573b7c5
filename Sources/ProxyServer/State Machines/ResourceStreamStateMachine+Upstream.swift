import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1

/// The upstream side of `ResourceStreamStateMachine`: the connection got, the answer relayed part by part, and the
/// helpers both sides use.
extension ResourceStreamStateMachine {

    /// - Parameter reused: the connection served a request before (the session's own, or one kept in the pool).
    mutating func upstreamConnected(reused: Bool, at stamp: EventStamp) -> Action {
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
        let start = Action.startUpstream(
            parts,
            sendContinue: !pending.ended && StreamedRequestHead.expectsContinue(pending.head)
        )
        // The policy may have changed while the connection was made (a new TLS connection, the first line's sync):
        // nothing went yet, so a request the change refuses gets the refusal it would get now (review 61 F1: the
        // whole request went, and only its answer was refused).
        guard case .streaming(let exchange) = state else { return start }
        return stillAllowed(exchange, at: stamp, then: start, refusing: .beforeSending)
    }

    mutating func responseHead(_ head: HTTPResponseHead, at stamp: EventStamp) -> Action {
        guard case .streaming(let judged) = state else { return .none }
        // An answer that comes after a policy change is the client's only if the request is still allowed; else the
        // client gets the refusal a request sent now would get, in place of it, rather than a cut answer.
        let next = stillAllowed(judged, at: stamp, then: .none, refusing: .answerWithheld)
        guard case .streaming(var exchange) = state else { return next }
        // Still allowed under a new version: its first line there goes before the head.
        let recorded: (Action) -> Action = { action in
            if case .recordAudit(let line, then: .none) = next { return .recordAudit(line, then: action) }
            return action
        }
        exchange.responseStarted = true
        exchange.upstreamKeepAlive = head.isKeepAlive
        if head.status == .switchingProtocols {
            guard exchange.upgrade != nil else {
                let failure = UpstreamError(
                    code: .malformedResponse,
                    detail: "the upstream server switched protocols unasked"
                )
                return recorded(
                    own(.error(.badGateway, "upstream_error", failure.detail, stamp: stamp, keepAlive: false))
                )
            }
            exchange.switching = true
            state = .streaming(exchange)
            return recorded(.respond(.head(head)))
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
        return recorded(.respond(.head(forwarded)))
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

    /// A request whose body still comes, or whose answer still goes, was judged on its head under the policy of
    /// that moment. When the policy changed since, the head is judged again before more of either goes, as a
    /// spliced WebSocket's upgrade is: refused, both connections end, so the upstream never gets the whole request
    /// (review 39: a client held back the last byte of a write until the rule allowing it was deleted, and the
    /// write then went through) and the client never the whole answer (a download begun before the change). With
    /// `refusing`, nothing of the answer went out yet: the client gets the refusal itself.
    mutating func stillAllowed(
        _ exchange: Exchange,
        at stamp: EventStamp,
        then next: Action,
        refusing: Refusal? = nil
    ) -> Action {
        var exchange = exchange
        let decider = currentDecider()
        guard decider.generation != exchange.judgedUnder else {
            state = .streaming(exchange)
            return next
        }
        exchange.judgedUnder = decider.generation
        switch SplicedUpgrade.judge(exchange.head, form: exchange.form, session: session, decider: decider, at: stamp) {
        case .stands(let line):
            state = .streaming(exchange)
            return line.map { .recordAudit($0, then: next) } ?? next
        case .ends(var line, var answer):
            if refusing == .answerWithheld || exchange.responseStarted {
                // The resource had the whole request: the refusal must not read as if nothing went.
                if let reason = line?.reason { line?.reason = Self.withheldReason + reason }
                answer = answer.map { $0.withheld() }
            }
            let end: Action
            if refusing != nil, let answer {
                // As any refusal: the connection stays when the request was read whole and the client keeps it.
                let close =
                    !(answer.keepAlive && exchange.requestEnded && exchange.upgrade == nil && !answer.closesConnection)
                state = close ? .closed : .idle
                end = .replaceAnswer(answer, close: close)
            } else {
                end = close()
            }
            return line.map { .recordAudit($0, then: end) } ?? end
        }
    }

    /// Where a request stands when a change refuses it and the client gets the refusal.
    enum Refusal {
        /// Nothing of it went upstream: the refusal is any refusal.
        case beforeSending
        /// It went whole, and its answer comes after the change: the answer is withheld, and the refusal says so.
        case answerWithheld
    }

    /// Opens the line of a request refused after the resource had it (review 61 F3: a write the resource carried
    /// out was audited and answered as a refusal only, and an investigator would conclude it never happened).
    static let withheldReason =
        "The request reached the resource under the previous policy version; what had "
        + "not reached the client of its answer was withheld. "

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

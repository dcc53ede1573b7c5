import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TenantPolicy
import TestSupport
import Testing
import TokenInspection

@testable import ProxyServer

/// A resource host's requests through `ResourceStreamStateMachine`, one event and its whole action at a time: the
/// first request of a token is audited before it goes upstream, the next ones go at once, a refusal is audited and
/// answered 403 without going upstream (nor its body, nor a 100 Continue), an unwritten line keeps the request from
/// going at all; bodies are held only until the request may go, an answer streams part by part, and events out of
/// order change nothing.
struct ResourceStreamMachineTests {
    static let (s1, s2, s3) = (Fixtures.stamp(1), Fixtures.stamp(2), Fixtures.stamp(3))
    static let graph = "graph.microsoft.com"
    /// A token that outlives the stamps' clock (an hour past `Fixtures.stamp`'s dates).
    static func token(_ tenant: TenantID) -> String {
        UnsignedTokens.graph(tenant: tenant, expiresIn: s1.date.timeIntervalSinceNow + 3600)
    }

    /// A machine with a policy of its own: verdicts are cached per decider, and tests must not share them.
    static func machine(maxBodyBytes: Int = 1024) -> ResourceStreamStateMachine {
        let decider = Fixtures.decider()
        return ResourceStreamStateMachine(
            session: InterceptedSession(
                target: HostPort(host: graph, port: 443),
                creator: .known(Fixtures.contoso, source: .defaultTenant),
                client: IPAddress("127.0.0.1")!,
                tokenFlows: .judge,
                maxBodyBytes: maxBodyBytes,
                tenantRestrictionsV2: nil,
                resourcePattern: .exact(graph)
            ),
            currentDecider: { decider }
        )
    }

    static func get(_ token: String) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/v1.0/me",
            headers: ["host": graph, "authorization": "Bearer \(token)"]
        )
    }

    /// What goes upstream: the client's headers with the target's Host, and its own content codings (an answer
    /// that streams is not inspected, so nothing is asked of its encoding).
    static func upstream(_ token: String) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/v1.0/me",
            headers: ["host": graph, "authorization": "Bearer \(token)"]
        )
    }

    static func upload(_ token: String, length: Int, expectContinue: Bool = false) -> HTTPRequestHead {
        var head = HTTPRequestHead(
            version: .http1_1,
            method: .PUT,
            uri: "/v1.0/me/drive/root:/a.bin:/content",
            headers: ["host": graph, "authorization": "Bearer \(token)", "content-length": String(length)]
        )
        if expectContinue { head.headers.add(name: "expect", value: "100-continue") }
        return head
    }

    static func counted(_ decision: AuditDecision) -> ResourceCount {
        ResourceCount(hostPattern: graph, decision: decision)
    }

    /// The line the decider's verdict makes of the request at `stamp`.
    static func line(_ token: String, at stamp: EventStamp) -> AuditEvent {
        let read = try! ResourceCredentials.read(authorization: ["Bearer \(token)"], target: "/v1.0/me", formBody: nil)
            .get()
        let verdict = Fixtures.decider().judgeResource(
            ResourceRequest(creator: Fixtures.contoso, host: graph, path: "/v1.0/me", credentials: read),
            now: stamp.date
        ).verdict
        let record = ExchangeRecord(host: graph, path: "/v1.0/me", clientID: nil, correlationID: stamp.correlationID)
        var event = Fixtures.line(verdict, record, at: stamp)
        event.event = "resource_access"
        event.method = "GET"
        return event
    }

    @Test func aTokensFirstRequestIsAuditedThenStreamedAndTheNextGoesAtOnce() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        let line = Self.line(token, at: Self.s1)
        #expect(line.decision == .allowed)
        #expect(
            machine.requestHead(Self.get(token), at: Self.s1) == .count(Self.counted(.allowed), then: .writeAudit(line))
        )
        #expect(machine.requestEnd(at: Self.s1) == .none, "the end waits with the request")
        #expect(machine.auditWritten() == .openUpstream)
        #expect(
            machine.upstreamConnected(reused: false, at: Self.s1)
                == .startUpstream([.head(Self.upstream(token)), .end(nil)], sendContinue: false)
        )
        let answer = HTTPResponseHead(
            version: .http1_1,
            status: .ok,
            headers: ["content-type": "application/json", "content-length": "2", "connection": "keep-alive"]
        )
        let forwarded = HTTPResponseHead(
            version: .http1_1,
            status: .ok,
            headers: ["content-type": "application/json", "content-length": "2"]
        )
        #expect(machine.responseHead(answer, at: Self.s2) == .respond(.head(forwarded)))
        #expect(
            machine.responseBody(ByteBuffer(string: "{}"), at: Self.s2)
                == .respond(.body(.byteBuffer(ByteBuffer(string: "{}"))))
        )
        #expect(machine.responseEnd(nil) == .finishResponse(nil, keepUpstream: true, close: false))
        #expect(
            machine.requestHead(Self.get(token), at: Self.s3) == .count(Self.counted(.allowed), then: .openUpstream),
            "the token is known: no line, no wait"
        )
    }

    /// A download judged under one policy version is judged again at its next part under the next: a change that
    /// leaves it allowed lets it go on; one that refuses it ends the connection before that part goes, recorded. A
    /// token that came in a form is judged again with that form (review 44 F1: judged on its head alone, the
    /// request named no token, and a harmless change cut it while a refusing one did not).
    @Test(arguments: [false, true])
    func aDownloadIsJudgedAgainWhenThePolicyChanges(tokenInForm: Bool) {
        final class Current { var decider = Fixtures.decider() }
        let current = Current()
        var machine = ResourceStreamStateMachine(session: Self.machine().session) { current.decider }
        let token = Self.token(Fixtures.fabrikam)
        let form = ByteBuffer(string: "access_token=\(token)")
        var request = Self.get(token)
        if tokenInForm {
            request.method = .POST
            request.headers = [
                "host": Self.graph, "content-type": "application/x-www-form-urlencoded",
                "content-length": String(form.readableBytes),
            ]
        }
        let headAction = machine.requestHead(request, at: Self.s1)
        if tokenInForm { #expect(machine.requestBody(form, at: Self.s1) == .none) }
        let endAction = machine.requestEnd(at: Self.s1)
        guard case .count(_, then: .writeAudit) = tokenInForm ? endAction : headAction else {
            Issue.record("the token's first request is audited")
            return
        }
        #expect(machine.auditWritten() == .openUpstream)
        _ = machine.upstreamConnected(reused: false, at: Self.s1)
        #expect(machine.keptFormBytes == (tokenInForm ? form.readableBytes : 0))
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "6"])
        _ = machine.responseHead(head, at: Self.s2)
        let part = ByteBuffer(string: "ab")
        #expect(machine.responseBody(part, at: Self.s2) == .respond(.body(.byteBuffer(part))))
        current.decider = Fixtures.decider()
        guard case .recordAudit(let stands, then: .respond) = machine.responseBody(part, at: Self.s2) else {
            Issue.record("still allowed under the new version: its first sight there is recorded, the part goes")
            return
        }
        #expect(stands.decision == .allowed && stands.signInTenant == Fixtures.fabrikam)
        current.decider = Fixtures.decider(rules: [])
        guard case .recordAudit(let ends, then: .close) = machine.responseBody(part, at: Self.s3) else {
            Issue.record("refused under the new version: the connection ends")
            return
        }
        #expect(ends.decision == .blocked && ends.signInTenant == Fixtures.fabrikam)
        #expect(machine.responseBody(part, at: Self.s3) == .none)
    }

    /// An answer whose head comes after a change that refuses its request is not the client's: it gets the refusal
    /// a request sent now would get, in place of it, not a cut answer, and the connection stays as after any
    /// refusal (the fleet measurement's held connections were cut under them).
    @Test func anAnswerComingAfterARefusingChangeIsReplacedByTheRefusal() {
        final class Current { var decider = Fixtures.decider() }
        let current = Current()
        var machine = ResourceStreamStateMachine(session: Self.machine().session) { current.decider }
        _ = machine.requestHead(Self.get(Self.token(Fixtures.fabrikam)), at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        #expect(machine.auditWritten() == .openUpstream)
        _ = machine.upstreamConnected(reused: false, at: Self.s1)
        current.decider = Fixtures.decider(rules: [])
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "2"])
        let replaced = machine.responseHead(head, at: Self.s2)
        guard case .recordAudit(let line, then: .replaceAnswer(let answer, close: false)) = replaced else {
            Issue.record("the refusal replaces the answer, and the connection stays for the next request")
            return
        }
        #expect(line.decision == .blocked && answer.status == .forbidden)
        // The resource had the request (review 61 F3): neither the line nor the answer may say nothing went.
        #expect(line.reason.hasPrefix(ResourceStreamStateMachine.withheldReason))
        let told = String(buffer: answer.body ?? ByteBuffer())
        #expect(told.contains(ResourceRefusalBody.withheldLead) && !told.contains(ResourceRefusalBody.refusedLead))
        #expect(machine.responseBody(ByteBuffer(string: "{}"), at: Self.s2) == .none)
        guard case .count = machine.requestHead(Self.get(Self.token(Fixtures.fabrikam)), at: Self.s3) else {
            Issue.record("the next request is judged")
            return
        }
    }

    /// A token's verdict is kept for its later requests only once its line is written. Review 59 F3: with the disk
    /// full, the first request got 503; with space back, the same token's later requests went through with no line
    /// at all, as if it had been audited.
    @Test func aTokenWhoseLineFailedIsAFirstSightAgain() {
        let decider = Fixtures.decider()
        func connection() -> ResourceStreamStateMachine {
            ResourceStreamStateMachine(session: Self.machine().session) { decider }
        }
        let token = Self.token(Fixtures.fabrikam)
        var failed = connection()
        _ = failed.requestHead(Self.get(token), at: Self.s1)
        guard
            case .answer(let refused, close: true) = failed.auditFailed(
                correlationID: Self.s1.correlationID,
                at: Self.s1
            )
        else {
            Issue.record("the request whose line failed is answered 503")
            return
        }
        #expect(refused.status == .serviceUnavailable)
        var next = connection()
        guard case .count(_, then: .writeAudit) = next.requestHead(Self.get(token), at: Self.s2) else {
            Issue.record("the token is still to be audited")
            return
        }
        #expect(next.auditWritten() == .openUpstream)
        var written = connection()
        guard case .count(_, then: .openUpstream) = written.requestHead(Self.get(token), at: Self.s3) else {
            Issue.record("once its line is written, the token is known")
            return
        }
    }

    /// A stream judged again after a change records its line without waiting for it, so the token's verdict is not
    /// kept under the new version: its next request elsewhere has a line of its own (review 62 F2: a line that
    /// failed left the token known, and its requests on other connections went through with none).
    @Test func aVerdictReachedWhileStreamingIsNotKeptBeforeItsLineIsWritten() {
        final class Current { var decider = Fixtures.decider() }
        let current = Current()
        var machine = ResourceStreamStateMachine(session: Self.machine().session) { current.decider }
        let token = Self.token(Fixtures.fabrikam)
        _ = machine.requestHead(Self.get(token), at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        #expect(machine.auditWritten() == .openUpstream)
        _ = machine.upstreamConnected(reused: false, at: Self.s1)
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "4"])
        _ = machine.responseHead(head, at: Self.s1)
        let changed = Fixtures.decider()
        current.decider = changed
        guard case .recordAudit(_, then: .respond) = machine.responseBody(ByteBuffer(string: "ab"), at: Self.s2) else {
            Issue.record("still allowed under the new version: its line is recorded, the part goes")
            return
        }
        var elsewhere = ResourceStreamStateMachine(session: Self.machine().session) { changed }
        guard case .count(_, then: .writeAudit) = elsewhere.requestHead(Self.get(token), at: Self.s3) else {
            Issue.record("the token's next request under the new version has a line of its own")
            return
        }
    }

    /// A change that comes while the upstream connection is made (a new TLS handshake, the first line's sync) is
    /// seen before anything is sent (review 61 F1: the whole POST went, and only its answer was refused): the
    /// request gets the plain refusal, and the connection made for it is dropped unused.
    @Test func aChangeWhileConnectingRefusesTheRequestBeforeAnythingIsSent() {
        final class Current { var decider = Fixtures.decider() }
        let current = Current()
        var machine = ResourceStreamStateMachine(session: Self.machine().session) { current.decider }
        _ = machine.requestHead(Self.get(Self.token(Fixtures.fabrikam)), at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        #expect(machine.auditWritten() == .openUpstream)
        current.decider = Fixtures.decider(rules: [])
        guard
            case .recordAudit(let line, then: .replaceAnswer(let answer, close: false)) = machine.upstreamConnected(
                reused: false,
                at: Self.s2
            )
        else {
            Issue.record("refused before sending, the connection kept for the next request")
            return
        }
        #expect(line.decision == .blocked && answer.status == .forbidden)
        #expect(!line.reason.hasPrefix(ResourceStreamStateMachine.withheldReason))
        #expect(String(buffer: answer.body ?? ByteBuffer()).contains(ResourceRefusalBody.refusedLead))
        #expect(machine.responseHead(HTTPResponseHead(version: .http1_1, status: .ok), at: Self.s2) == .none)
    }

    /// An HTTP/1.0 client knows no chunked coding: an answer without a length goes to it as HTTP/1.0, ended by the
    /// close (review 44 F3: the chunk markers arrived in its body, and a cut download looked complete).
    @Test func anHTTP10ClientGetsAnAnswerWithoutALengthEndedByTheClose() {
        var machine = Self.machine()
        var request = Self.get(Self.token(Fixtures.fabrikam))
        request.version = .http1_0
        request.headers.add(name: "connection", value: "keep-alive")
        _ = machine.requestHead(request, at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        #expect(machine.auditWritten() == .openUpstream)
        _ = machine.upstreamConnected(reused: false, at: Self.s1)
        let answer = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-type": "text/plain"])
        guard case .respond(.head(let forwarded)) = machine.responseHead(answer, at: Self.s2) else {
            Issue.record("the answer's head goes to the client")
            return
        }
        #expect(forwarded.version == .http1_0 && forwarded.headers["connection"] == ["close"])
        guard case .finishResponse(_, _, close: true) = machine.responseEnd(nil) else {
            Issue.record("the close ends the answer")
            return
        }
    }

    /// A form of `length` bytes whose client waits for `100 Continue` before it sends it.
    static func formWaitingFor100Continue(length: Int) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "/v1.0/me/sendMail",
            headers: [
                "host": Self.graph, "content-type": "application/x-www-form-urlencoded",
                "content-length": String(length), "expect": "100-continue",
            ]
        )
    }

    /// A form is read whole before it is judged (it may carry `access_token`): a client that waits for `100
    /// Continue` before it sends one gets it at once, or it would wait its own timeout.
    @Test func aFormWaitingFor100ContinueIsAskedForAtOnce() {
        var machine = Self.machine()
        #expect(machine.requestHead(Self.formWaitingFor100Continue(length: 10), at: Self.s1) == .sendContinue)
    }

    /// A form declared larger than may be held is refused at once (review 26 saw it wait for the head's deadline).
    @Test func aFormDeclaredTooLargeIsRefused413AtOnce() {
        var machine = Self.machine()
        let head = Self.formWaitingFor100Continue(length: 1025)
        guard case .answer(let answer, close: true) = machine.requestHead(head, at: Self.s1) else {
            Issue.record("413, and the connection ends")
            return
        }
        #expect(answer.status == .payloadTooLarge)
    }

    @Test func aRefusedUploadWaitingFor100ContinueIsAnsweredAndNothingGoesUpstream() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.northwind)
        let line = Self.line(token, at: Self.s1)
        #expect(
            machine.requestHead(Self.upload(token, length: 10, expectContinue: true), at: Self.s1)
                == .count(Self.counted(.blocked), then: .writeAudit(ResourceStreamMachineTests.put(line)))
        )
        guard case .answer(let answer, close: true) = machine.auditWritten() else {
            Issue.record("the refusal is answered once audited, and the connection ends: the body was never read")
            return
        }
        #expect(answer.status == .forbidden)
        #expect(
            String(buffer: answer.body ?? ByteBuffer()).contains(
                #""request-id":"\#(line.correlationID.uuidString.lowercased())""#
            )
        )
        #expect(machine.requestBody(ByteBuffer(string: "0123456789"), at: Self.s2) == .none)
        #expect(machine.upstreamConnected(reused: false, at: Self.s1) == .none)
    }

    @Test func anAllowedUploadIsHeldWhileJudgedThenStreamedWith100Continue() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        _ = machine.requestHead(Self.upload(token, length: 8, expectContinue: true), at: Self.s1)
        #expect(machine.holdsBody)
        #expect(machine.requestBody(ByteBuffer(string: "abcd"), at: Self.s1) == .none)
        #expect(machine.auditWritten() == .openUpstream)
        var sent = Self.upload(token, length: 8)
        sent.headers.replaceOrAdd(name: "host", value: Self.graph)
        guard case .startUpstream(let parts, sendContinue: true) = machine.upstreamConnected(reused: false, at: Self.s1)
        else {
            Issue.record("the held part goes first, and the client is told to go on")
            return
        }
        #expect(parts.count == 2 && parts[1] == .body(.byteBuffer(ByteBuffer(string: "abcd"))))
        #expect(!machine.holdsBody && machine.sendsRequestBody)
        #expect(
            machine.requestBody(ByteBuffer(string: "efgh"), at: Self.s2)
                == .sendUpstream(.body(.byteBuffer(ByteBuffer(string: "efgh"))))
        )
        #expect(machine.requestEnd(at: Self.s2) == .sendUpstream(.end(nil)))
    }

    /// A form to a resource host is read whole before it is judged (it may carry `access_token`). Sent a byte a
    /// record, each part was held as it came: an array copied whole at every part (the state kept a second
    /// reference), each part a slice keeping the TLS layer's 32 KiB read buffer alive. Now one buffer, grown in place
    /// and copied into, judged as the form it is. Bounded at a minute, so a quadratic regression fails.
    @Test(.timeLimit(.minutes(1))) func aFormOfOneByteChunksIsGatheredInPlaceAndJudged() throws {
        let size = 2 << 20
        var machine = Self.machine(maxBodyBytes: size + 4096)
        let token = Self.token(Fixtures.fabrikam)
        var head = HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "/v1.0/me/sendMail",
            headers: ["host": Self.graph, "content-type": "application/x-www-form-urlencoded"]
        )
        head.headers.add(name: "content-length", value: String(size + "access_token=".count + token.count + 1))
        _ = machine.requestHead(head, at: Self.s1)
        #expect(machine.holdsBody)
        for byte in Array("access_token=\(token)&".utf8) {
            #expect(machine.requestBody(ByteBuffer(bytes: [byte]), at: Self.s1) == .none)
        }
        let chunk = ByteBuffer(string: "x")
        for _ in 0..<size {
            guard machine.requestBody(chunk, at: Self.s1) == .none else {
                Issue.record("a part within the limit is held")
                return
            }
        }
        guard case .count(_, then: .writeAudit(let line)) = machine.requestEnd(at: Self.s2) else {
            Issue.record("the whole form is judged, and its decision audited")
            return
        }
        #expect(line.signInTenant == Fixtures.fabrikam, "the token in the form was read")
    }

    @Test func aBodyBeyondTheLimitWhileHeldIsRefused413() {
        var machine = Self.machine()
        _ = machine.requestHead(Self.upload(Self.token(Fixtures.fabrikam), length: 2048), at: Self.s1)
        guard
            case .answer(let answer, close: true) = machine.requestBody(
                ByteBuffer(repeating: 0, count: 2048),
                at: Self.s2
            )
        else {
            Issue.record("413, and the connection ends")
            return
        }
        #expect(answer.status == .payloadTooLarge)
        #expect(machine.auditWritten() == .none, "the line written late changes nothing")
    }

    @Test func anUnwrittenLineKeepsTheRequestFromGoing() {
        var machine = Self.machine()
        _ = machine.requestHead(Self.get(Self.token(Fixtures.fabrikam)), at: Self.s1)
        guard
            case .answer(let answer, close: true) = machine.auditFailed(
                correlationID: Self.s1.correlationID,
                at: Self.s2
            )
        else {
            Issue.record("a 503 instead of the request")
            return
        }
        #expect(answer.status == .serviceUnavailable)
        #expect(machine.upstreamConnected(reused: false, at: Self.s1) == .none)
        #expect(machine.responseHead(HTTPResponseHead(version: .http1_1, status: .ok), at: Self.s3) == .none)
    }

    @Test func theUpstreamFailingBeforeItsAnswerIsA502AndAfterACut() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        _ = machine.requestHead(Self.get(token), at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        _ = machine.auditWritten()
        _ = machine.upstreamConnected(reused: false, at: Self.s1)
        guard case .answer(let answer, close: true) = machine.upstreamEnded(.connectionClosed, at: Self.s2) else {
            Issue.record("no answer came: 502")
            return
        }
        #expect(answer.status == .badGateway)

        var cut = Self.machine()
        _ = cut.requestHead(Self.get(token), at: Self.s1)
        _ = cut.requestEnd(at: Self.s1)
        _ = cut.auditWritten()
        _ = cut.upstreamConnected(reused: false, at: Self.s1)
        _ = cut.responseHead(
            HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "9"]),
            at: Self.s2
        )
        #expect(cut.upstreamEnded(nil, at: Self.s3) == .close, "half an answer: only closing says so")
    }

    /// A kept connection the server closes as a request crosses it: a request that can go again as it was goes
    /// once more, on another connection; anything else, or a second close, is a 502.
    @Test func aGetOnAKeptConnectionClosedUnderItGoesOnceMore() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        _ = machine.requestHead(Self.get(token), at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        _ = machine.auditWritten()
        let parts: [HTTPClientRequestPart] = [.head(Self.upstream(token)), .end(nil)]
        #expect(machine.upstreamConnected(reused: true, at: Self.s1) == .startUpstream(parts, sendContinue: false))
        #expect(machine.upstreamEnded(nil, at: Self.s2) == .openUpstream)
        #expect(machine.upstreamConnected(reused: true, at: Self.s1) == .startUpstream(parts, sendContinue: false))
        guard case .answer(let answer, close: true) = machine.upstreamEnded(.connectionClosed, at: Self.s3) else {
            Issue.record("a second close is a bad gateway")
            return
        }
        #expect(answer.status == .badGateway)

        var fresh = Self.machine()
        _ = fresh.requestHead(Self.get(token), at: Self.s1)
        _ = fresh.requestEnd(at: Self.s1)
        _ = fresh.auditWritten()
        _ = fresh.upstreamConnected(reused: false, at: Self.s1)
        guard case .answer = fresh.upstreamEnded(nil, at: Self.s2) else {
            Issue.record("a new connection closed under its request is no idle close: 502")
            return
        }

        var upload = Self.machine()
        _ = upload.requestHead(Self.upload(token, length: 4), at: Self.s1)
        _ = upload.requestBody(ByteBuffer(string: "abcd"), at: Self.s1)
        _ = upload.requestEnd(at: Self.s1)
        _ = upload.auditWritten()
        _ = upload.upstreamConnected(reused: true, at: Self.s1)
        guard case .answer = upload.upstreamEnded(nil, at: Self.s2) else {
            Issue.record("a body cannot be sent again")
            return
        }
    }

    @Test func anAnswerBeforeTheUploadEndedClosesTheConnection() {
        var machine = Self.machine()
        _ = machine.requestHead(Self.upload(Self.token(Fixtures.fabrikam), length: 8), at: Self.s1)
        _ = machine.auditWritten()
        _ = machine.upstreamConnected(reused: false, at: Self.s1)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .payloadTooLarge), at: Self.s2)
        #expect(machine.responseEnd(nil) == .finishResponse(nil, keepUpstream: false, close: true))
    }

    /// An allowed WebSocket upgrade, sent upstream on a new connection.
    static func webSocketUpstream() -> ResourceStreamStateMachine {
        var machine = Self.machine()
        var head = Self.get(Self.token(Fixtures.fabrikam))
        head.headers.add(name: "connection", value: "Upgrade")
        head.headers.add(name: "upgrade", value: "websocket")
        _ = machine.requestHead(head, at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        _ = machine.auditWritten()
        _ = machine.upstreamConnected(reused: false, at: Self.s1)
        return machine
    }

    @Test func aWebSocketIsSplicedAfterThe101EndsAndA101UnaskedIsRefused() {
        var machine = Self.webSocketUpstream()
        let switching = HTTPResponseHead(
            version: .http1_1,
            status: .switchingProtocols,
            headers: ["upgrade": "websocket"]
        )
        #expect(machine.responseHead(switching, at: Self.s2) == .respond(.head(switching)))
        #expect(
            machine.responseBody(ByteBuffer(string: "frame"), at: Self.s2) == .none,
            "nothing between the 101 and its end"
        )
        #expect(machine.responseEnd(nil) == .splice)
        #expect(machine.requestHead(Self.get(Self.token(Fixtures.fabrikam)), at: Self.s3) == .close)

        var plain = Self.machine()
        _ = plain.requestHead(Self.get(Self.token(Fixtures.fabrikam)), at: Self.s1)
        _ = plain.requestEnd(at: Self.s1)
        _ = plain.auditWritten()
        _ = plain.upstreamConnected(reused: false, at: Self.s1)
        guard case .answer(let answer, close: true) = plain.responseHead(switching, at: Self.s2) else {
            Issue.record("a 101 to a request that asked for none is a bad gateway")
            return
        }
        #expect(answer.status == .badGateway)
    }

    /// A WebSocket upgrade the server declined (an ordinary answer): the server may parse nothing more on that
    /// connection, so it does not go back to the pool, where another client's request would wait on it for 504.
    @Test func aDeclinedWebSocketUpgradeLeavesItsUpstreamConnectionOutOfThePool() {
        var machine = Self.webSocketUpstream()
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .ok), at: Self.s2)
        #expect(machine.responseEnd(nil) == .finishResponse(nil, keepUpstream: false, close: true))
    }

    /// Only a WebSocket is spliced: an h2c upgrade, spliced, would carry requests past the judge. It goes upstream
    /// as a plain request, a 101 to it is refused, and its connection ends with the answer (the decoder reads no
    /// further request after an upgrade).
    @Test func anUpgradeToAnythingButAWebSocketIsNotPassedOn() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        var head = Self.get(token)
        head.headers.add(name: "connection", value: "Upgrade, HTTP2-Settings")
        head.headers.add(name: "upgrade", value: "h2c")
        head.headers.add(name: "http2-settings", value: "AAMAAABkAAQAoAAAAAIAAAAA")
        _ = machine.requestHead(head, at: Self.s1)
        _ = machine.requestEnd(at: Self.s1)
        _ = machine.auditWritten()
        var expected = Self.upstream(token)
        expected.headers.add(name: "http2-settings", value: "AAMAAABkAAQAoAAAAAIAAAAA")
        #expect(
            machine.upstreamConnected(reused: false, at: Self.s1)
                == .startUpstream([.head(expected), .end(nil)], sendContinue: false)
        )
        let switching = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: ["upgrade": "h2c"])
        guard case .answer(let answer, close: true) = machine.responseHead(switching, at: Self.s2) else {
            Issue.record("a 101 to an upgrade that was not passed on is a bad gateway")
            return
        }
        #expect(answer.status == .badGateway)

        var plain = Self.machine()
        _ = plain.requestHead(head, at: Self.s1)
        _ = plain.requestEnd(at: Self.s1)
        _ = plain.auditWritten()
        _ = plain.upstreamConnected(reused: false, at: Self.s1)
        _ = plain.responseHead(HTTPResponseHead(version: .http1_1, status: .ok), at: Self.s2)
        #expect(
            plain.responseEnd(nil) == .finishResponse(nil, keepUpstream: true, close: true),
            "the upstream saw a plain request: its connection is fit for another; the client's is not"
        )
    }

    @Test func aSecondHeadBeforeTheAnswerAndAMalformedRequestEndTheConnection() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        _ = machine.requestHead(Self.get(token), at: Self.s1)
        #expect(machine.requestHead(Self.get(token), at: Self.s2) == .close)

        var idle = Self.machine()
        guard case .answer(let answer, close: true) = idle.malformedRequest(status: .badRequest, "bad", at: Self.s1)
        else {
            Issue.record("a malformed request between requests is answered 400")
            return
        }
        #expect(answer.status == .badRequest)
        #expect(idle.idleTimeoutFired() == .close)
    }

    /// A refused request's line carries its method.
    static func put(_ line: AuditEvent) -> AuditEvent {
        var event = line
        event.path = "/v1.0/me/drive/root:/a.bin:/content"
        event.method = "PUT"
        return event
    }
}

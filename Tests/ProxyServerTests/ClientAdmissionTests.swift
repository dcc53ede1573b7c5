import NetworkPolicy
import Testing

@testable import ProxyServer

/// Who may hold a connection is judged at accept: refused clients are never counted, and one address cannot take
/// every place.
struct ClientAdmissionTests {
    static let one = IPAddress("127.0.0.1")!
    static let two = IPAddress("127.0.0.2")!

    @Test func aClientOutsideTheAllowedRangesIsRefusedAndNotCounted() {
        let admission = ClientAdmission(allowed: .loopbackOnly, maxConnections: 1, maxPerClient: 1)
        for _ in 0..<5 {
            guard case .refused(let reason) = admission.admit(IPAddress("192.0.2.7")) else {
                Issue.record("a client beyond --allow-client is refused")
                return
            }
            #expect(reason.contains("192.0.2.7"))
        }
        guard case .refused = admission.admit(nil) else {
            Issue.record("a peer without an IP address is refused")
            return
        }
        #expect(admission.open == 0)
        #expect(admission.admit(Self.one) == .admitted)
    }

    @Test func oneAddressHoldsAtMostItsShare() {
        let admission = ClientAdmission(allowed: .loopbackOnly, maxConnections: 10, maxPerClient: 2)
        #expect(admission.admit(Self.one) == .admitted)
        #expect(admission.admit(Self.one) == .admitted)
        #expect(admission.admit(Self.one) == .clientFull)
        #expect(admission.admit(Self.two) == .admitted)
        admission.release(Self.one)
        #expect(admission.admit(Self.one) == .admitted)
        #expect(admission.open == 3)
    }

    @Test func theProxysCapCountsEveryAddress() {
        let admission = ClientAdmission(allowed: .loopbackOnly, maxConnections: 2, maxPerClient: 5)
        #expect(admission.admit(Self.one) == .admitted)
        #expect(admission.admit(Self.two) == .admitted)
        #expect(admission.admit(Self.one) == .proxyFull)
        admission.release(Self.two)
        admission.release(Self.one)
        #expect(admission.open == 0)
        #expect(admission.admit(Self.two) == .admitted)
    }
}

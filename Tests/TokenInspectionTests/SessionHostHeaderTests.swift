import NetworkPolicy
import Testing
import TokenInspection

/// The Host header inside an intercepted session names the session's host, however it is spelt, or the request is
/// refused.
struct SessionHostHeaderTests {
    static let session = HostPort(host: "login.microsoftonline.com", port: 443)

    @Test(arguments: [
        ["login.microsoftonline.com"], ["LOGIN.MicrosoftOnline.com"], ["login.microsoftonline.com:443"],
        ["login.microsoftonline.com."], [],
    ])
    func spellingsOfTheSessionsHostAreAccepted(_ values: [String]) {
        #expect(SessionHostHeader.problem(values, session: Self.session) == nil)
    }

    @Test(arguments: [
        ["example.org"], ["login.microsoftonline.com:8443"], ["login.windows.net"],
        ["login.microsoftonline.com", "login.microsoftonline.com"], ["login.microsoftonline.com", "example.org"],
        ["login.microsoftonline.com@example.org"], [""],
    ])
    func anyOtherNameOrASecondHeaderIsAProblem(_ values: [String]) {
        #expect(
            SessionHostHeader.problem(values, session: Self.session)
                == "the Host header does not name login.microsoftonline.com, the host of this session"
        )
    }
}

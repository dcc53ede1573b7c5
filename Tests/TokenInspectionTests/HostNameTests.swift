import Testing
import TokenInspection

/// The one spelling of a host name: what is accepted, how it is spelled, and everything refused.
struct HostNameTests {
    static let label63 = String(repeating: "a", count: 63)
    /// Exactly 253 bytes: the longest name.
    static let longest = [label63, label63, label63, String(repeating: "d", count: 61)].joined(separator: ".")

    @Test(arguments: [
        ("login.microsoftonline.com", "login.microsoftonline.com"),
        ("LOGIN.MicrosoftOnline.COM", "login.microsoftonline.com"),
        ("login.microsoftonline.com.", "login.microsoftonline.com"),
        ("a", "a"),
        ("localhost.", "localhost"),
        ("_dmarc.Example-1.com", "_dmarc.example-1.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("0x1.example", "0x1.example"),
        ("\(label63).com", "\(label63).com"),
        (longest, longest),
        (longest + ".", longest),
        ("10.0.0.1", "10.0.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("1.2.3.4.", "1.2.3.4"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("::", "::"),
        ("[2001:DB8::A]", "2001:db8::a"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1::", "1::"),
        ("fe80::1:2", "fe80::1:2"),
        ("[::FFFF:192.0.2.1]", "::ffff:192.0.2.1"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:1.2.3.4"),
    ])
    func acceptedNamesAreSpelledOneWay(raw: String, canonical: String) {
        #expect(HostName.canonical(raw) == canonical)
        #expect(HostName.canonical(Substring(raw)) == canonical)
    }

    @Test(arguments: [
        "", ".", "..", ".a", "a..b", "login.microsoftonline.com..", ".login.microsoftonline.com", " a", "a b", "a\t",
        "a%2eb", "user@host", "host:443", "[::1]:443", "caf\u{e9}.com", "b\u{FC}cher.de", "a\u{0}b", "a\u{7F}", "a/b",
        "a\\b", "a*.com", "a!b", "\(label63)a.com", longest + "d", longest + "..", "256.1.1.1", "1.2.3", "127.1",
        "01.2.3.4", "1.2.3.04", "0x7f.0.0.1", "1.2.3.0x4", "1.2.3.4.5", "example.123", "example.0x",
        "[::1", "::1]", "[]", "[fe80::1%eth0]", "fe80::1%25eth0", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3",
        ":1", "1:", "::1:", ":::", "12345::", "1:2:3:4:5:6:7::8", "g::1", "[1.2.3.4]", "::1.2.3", "::1.2.3.4:5",
        "1:2:3:4:5:6:7:1.2.3.4", "[ ::1]",
    ])
    func everythingElseIsRefused(raw: String) {
        #expect(HostName.canonical(raw) == nil, "\(raw.debugDescription)")
    }
}

import TenantPolicy
import Testing

/// `trimmingWhitespace` reads white space as .NET's `Trim` does, whether or not a value takes the visible-ASCII
/// shortcut that keeps it off the Unicode tables.
struct WhitespaceTrimmingTests {
    @Test(arguments: [
        ("5c1e7f00-0000-4000-8000-00000000000a", "5c1e7f00-0000-4000-8000-00000000000a"),
        ("All Users", "All Users"),
        (" AllUsers", "AllUsers"),
        ("AllUsers\r\n", "AllUsers"),
        ("\u{0B}x\u{0C}", "x"),
        ("\u{00A0}x\u{2003}", "x"),
        ("x\u{85}", "x"),
        ("\u{3000}", ""),
        ("", ""),
        ("é", "é"),
        ("x\u{200B}", "x\u{200B}"),
    ])
    func whiteSpaceIsTrimmedAsDotNetTrimsIt(text: String, trimmed: String) {
        #expect(text.trimmingWhitespace() == trimmed)
        #expect(Substring(text).trimmingWhitespace() == trimmed)
    }
}

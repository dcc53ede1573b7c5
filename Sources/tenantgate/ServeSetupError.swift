/// A setup problem reported as one readable line before the proxy starts (exit 2).
struct ServeSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

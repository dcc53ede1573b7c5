/// Why a token or token response could not be read. Messages never contain token text.
public struct TokenInspectionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case notAJWS
        case encrypted
        case malformedClaims
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

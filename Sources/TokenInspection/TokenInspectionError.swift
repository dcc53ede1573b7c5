/// Why a token or token response could not be read. Messages never contain token text.
package struct TokenInspectionError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: Sendable, Equatable {
        case notAJWS
        case encrypted
        case malformedClaims
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

extension TLSClientHello {
    /// What the first bytes of a tunnel say, so the proxy can choose between intercepting, passing through and
    /// refusing before it forwards a single byte.
    package enum Reading: Sendable, Equatable {
        /// The bytes so far are a valid beginning of a ClientHello; read more and ask again.
        case needMoreBytes
        /// The first byte is not a TLS handshake record, e.g. plain HTTP (`GET `) inside the tunnel.
        case notTLS
        /// TLS records whose content contradicts itself or breaks a limit; the sentence says what.
        case malformed(String)
        /// A complete ClientHello; `serverName` is its SNI host name, or nil when it sent none.
        case clientHello(serverName: String?)
        /// A complete ClientHello with Encrypted Client Hello (the `encrypted_client_hello` extension): the server
        /// it is really for is encrypted, and `outerName` is only the public name it shows.
        case encryptedClientHello(outerName: String?)
    }
}

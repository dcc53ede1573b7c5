/// Comparison of secrets (CSRF tokens, OAuth `state` and `nonce`) whose time does not tell how much matched.
package enum ConstantTime {
    package static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

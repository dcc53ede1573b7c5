/// What to do with token responses of STSs that are not Entra (SPEC 2.3 `--non-entra-sts`).
package enum NonEntraSTSMode: String, Sendable, CaseIterable {
    case audit
    case block
}

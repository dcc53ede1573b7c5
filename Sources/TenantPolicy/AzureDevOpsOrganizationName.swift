/// Azure DevOps organisation names: letters, digits and hyphens, not starting with a hyphen, compared without case.
package enum AzureDevOpsOrganizationName {
    /// The lower-case name, or nil when `text` cannot be an organisation's name. Trailing dots and spaces are
    /// dropped first, as IIS (which serves Azure DevOps) drops them from a path segment: else `NorthwindOrg.` named no
    /// organisation here and reached NorthwindOrg there.
    package static func canonical(_ text: some StringProtocol) -> String? {
        let name = String(text.lowercased().reversed().drop { $0 == "." || $0 == " " }.reversed())
        let valid =
            !name.isEmpty && name.utf8.count <= 50 && !name.hasPrefix("-")
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        return valid ? name : nil
    }
}

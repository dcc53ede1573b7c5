import CrossTenantAccess
import Foundation
import TenantPolicy
import Yams

/// Parses one policy file in any of SPEC 4's formats into a `ParsedPolicyFile`, collecting diagnostics.
///
/// JSON files are composed with the YAML parser too (JSON is YAML's flow style), so that every field keeps its
/// line number for messages; a Power Platform document in its plain shape is first offered to
/// `PowerPlatformJSONReader`, which reads it in one pass over its bytes or leaves it to this path.
enum PolicyFileParser {
    static func parse(file: String, contents: String, isDirectory: Bool) -> (ParsedPolicyFile?, [PolicyDiagnostic]) {
        if !isDirectory, let isolation = PowerPlatformJSONReader.read(contents) {
            var parsed = ParsedPolicyFile(file: file)
            parsed.isolation = isolation
            return (parsed, [])
        }
        return parseGenerally(file: file, contents: contents, isDirectory: isDirectory)
    }

    /// Any file in any format, every value composed as a node with its line: the path that explains every problem.
    static func parseGenerally(
        file: String,
        contents: String,
        isDirectory: Bool
    ) -> (ParsedPolicyFile?, [PolicyDiagnostic]) {
        if contents.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            return (nil, [PolicyDiagnostic(file: file, field: "", line: nil, message: "the file is empty")])
        }
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: contents) else {
                return (nil, [PolicyDiagnostic(file: file, field: "", line: nil, message: "the file is empty")])
            }
            guard !YAMLValue.isAmplifiedByAliases(composed, textBytes: contents.utf8.count) else {
                let message = "its aliases (*name) stand for more values than the file holds; write the values out"
                return (nil, [PolicyDiagnostic(file: file, field: "", line: nil, message: message)])
            }
            root = composed
        } catch let error as YamlError {
            return (nil, [syntaxDiagnostic(file: file, error)])
        } catch {
            return (nil, [PolicyDiagnostic(file: file, field: "", line: nil, message: "cannot be parsed: \(error)")])
        }
        var reader = FieldReader(file: file)
        var parsed = ParsedPolicyFile(file: file)
        if isDirectory {
            parseDirectory(root, into: &parsed, reader: &reader)
        } else if case .mapping(let mapping) = root, mapping["properties"] != nil {
            parsed.isolation = parsePowerPlatform(root, reader: &reader)
        } else if isGraphCrossTenantAccess(root) {
            parsed.crossTenantAccess = parseGraphCrossTenantAccess(root, reader: &reader)
        } else {
            parseProjectYAML(root, into: &parsed, reader: &reader)
        }
        return (parsed, reader.diagnostics)
    }

    /// `{"properties": {"tenantId", "isDisabled", "allowedTenants": [{"tenantId", "direction": {...}}]}}` as is.
    private static func parsePowerPlatform(
        _ root: Node,
        reader: inout FieldReader
    ) -> ParsedPolicyFile.WrittenIsolation? {
        guard let top = reader.mapping(root, at: "", known: ["properties", "id", "name", "type"]),
            let propertiesNode = top["properties"],
            let properties = reader.mapping(
                propertiesNode,
                at: "properties",
                known: ["tenantId", "isDisabled", "allowedTenants"]
            )
        else { return nil }
        let tenantID = reader.tenantID(properties["tenantId"], at: "properties.tenantId")
        let isDisabled = reader.bool(properties["isDisabled"], at: "properties.isDisabled", required: true)
        var rules: [ParsedPolicyFile.WrittenRule] = []
        if let listNode = properties["allowedTenants"],
            let entries = reader.sequence(listNode, at: "properties.allowedTenants")
        {
            for (index, entry) in entries.enumerated() {
                let field = "properties.allowedTenants[\(index)]"
                guard
                    let fields = reader.mapping(
                        entry,
                        at: field,
                        known: ["tenantId", "tenantDisplayName", "direction"]
                    )
                else { continue }
                let reference = ruleTenant(fields["tenantId"], at: "\(field).tenantId", guidOnly: true, reader: &reader)
                var directions: DirectionSet?
                if let directionNode = fields["direction"] {
                    if let flags = reader.mapping(
                        directionNode,
                        at: "\(field).direction",
                        known: ["inbound", "outbound"]
                    ) {
                        let inbound = reader.bool(flags["inbound"], at: "\(field).direction.inbound", required: false)
                        let outbound = reader.bool(
                            flags["outbound"],
                            at: "\(field).direction.outbound",
                            required: false
                        )
                        var set: DirectionSet = []
                        if inbound == true { set.insert(.inbound) }
                        if outbound == true { set.insert(.outbound) }
                        if set.isEmpty {
                            reader.error(
                                "\(field).direction",
                                directionNode,
                                "the rule allows neither direction: set inbound, outbound or both to true"
                            )
                        } else {
                            directions = set
                        }
                    }
                } else {
                    reader.error(
                        "\(field).direction",
                        entry,
                        "missing (required): {\"inbound\": bool, \"outbound\": bool}"
                    )
                }
                if let reference, let directions {
                    rules.append(
                        .init(
                            reference: reference,
                            directions: directions,
                            list: .powerPlatform,
                            index: index,
                            line: entry.mark?.line
                        )
                    )
                }
            }
        }
        guard let tenantID, let isDisabled else { return nil }
        return .init(
            tenantID: tenantID,
            displayName: nil,
            domains: [],
            isEnabled: !isDisabled,
            rules: rules,
            line: root.mark?.line
        )
    }

    /// A Graph `crossTenantAccessPolicy` with its `default` and `partners` and no isolation: a `*.json` file as Graph
    /// returns it, plus a top-level `tenantId` naming the governed tenant (Graph's document does not carry one).
    private static func isGraphCrossTenantAccess(_ root: Node) -> Bool {
        guard case .mapping(let mapping) = root, mapping["isolation"] == nil, mapping["crossTenantAccess"] == nil
        else { return false }
        return mapping["default"] != nil || mapping["partners"] != nil || mapping["allowedCloudEndpoints"] != nil
    }

    private static func parseGraphCrossTenantAccess(
        _ root: Node,
        reader: inout FieldReader
    ) -> ParsedPolicyFile.WrittenCrossTenantAccess? {
        guard case .mapping(let mapping) = root else { return nil }
        if mapping["tenantId"] == nil {
            reader.error(
                "tenantId",
                root,
                "missing (required): the governed tenant's ID beside Graph's default and partners, since Graph's "
                    + "crossTenantAccessPolicy document does not name its tenant"
            )
        }
        let tenantID = mapping["tenantId"] == nil ? nil : reader.tenantID(mapping["tenantId"], at: "tenantId")
        let policy = CrossTenantAccessReader.read(
            root,
            owner: tenantID,
            prefix: "",
            excluding: ["tenantId"],
            reader: &reader
        )
        guard let tenantID, let policy else { return nil }
        return .init(tenantID: tenantID, policy: policy, line: root.mark?.line)
    }

    /// The project's YAML: `tenantId`, `displayName`, `domains`, `isolation: {enabled, rules}`, `crossTenantAccess`.
    private static func parseProjectYAML(_ root: Node, into parsed: inout ParsedPolicyFile, reader: inout FieldReader) {
        guard
            let fields = reader.mapping(
                root,
                at: "",
                known: ["tenantId", "displayName", "domains", "isolation", "crossTenantAccess"]
            )
        else { return }
        let tenantID = reader.tenantID(fields["tenantId"], at: "tenantId")
        let displayName = reader.string(fields["displayName"], at: "displayName", required: false)
        let domains = domainList(fields["domains"], at: "domains", reader: &reader)
        var isEnabled = false
        var rules: [ParsedPolicyFile.WrittenRule] = []
        if let isolationNode = fields["isolation"],
            let isolation = reader.mapping(isolationNode, at: "isolation", known: ["enabled", "rules"])
        {
            isEnabled = reader.bool(isolation["enabled"], at: "isolation.enabled", required: true) ?? false
            if let rulesNode = isolation["rules"], let entries = reader.sequence(rulesNode, at: "isolation.rules") {
                for (index, entry) in entries.enumerated() {
                    let field = "isolation.rules[\(index)]"
                    guard let rule = reader.mapping(entry, at: field, known: ["tenant", "direction"]) else { continue }
                    let reference = ruleTenant(rule["tenant"], at: "\(field).tenant", guidOnly: false, reader: &reader)
                    var directions: DirectionSet?
                    if let text = reader.string(rule["direction"], at: "\(field).direction", required: true) {
                        directions = DirectionSet(name: text)
                        if directions == nil {
                            reader.error(
                                "\(field).direction",
                                rule["direction"],
                                "'\(text)' is not a direction: use inbound, outbound or both"
                            )
                        }
                    }
                    if let reference, let directions {
                        rules.append(
                            .init(
                                reference: reference,
                                directions: directions,
                                list: .projectYAML,
                                index: index,
                                line: entry.mark?.line
                            )
                        )
                    } else if case .domain(let name) = reference {
                        parsed.unkeptDomains.append(.init(name: name, field: "\(field).tenant", line: entry.mark?.line))
                    }
                }
            }
        }
        if let section = fields["crossTenantAccess"],
            let policy = CrossTenantAccessReader.read(
                section,
                owner: tenantID,
                prefix: "crossTenantAccess",
                reader: &reader
            ),
            let tenantID
        {
            parsed.crossTenantAccess = .init(tenantID: tenantID, policy: policy, line: section.mark?.line)
        }
        guard let tenantID else {
            for rule in rules {
                guard case .domain(let name) = rule.reference else { continue }
                parsed.unkeptDomains.append(.init(name: name, field: "\(rule.field).tenant", line: rule.line))
            }
            return
        }
        parsed.isolation = .init(
            tenantID: tenantID,
            displayName: displayName,
            domains: domains,
            isEnabled: isEnabled,
            rules: rules,
            line: root.mark?.line
        )
    }

    /// `directory.yaml`: `tenants: [{tenantId, displayName?, domains: [..]}]`, and optionally
    /// `resourceHosts: {HOST or *.suffix: TENANT}` and `azureDevOpsOrganizations: {ORG: TENANT}` (SPEC 4.2).
    private static func parseDirectory(_ root: Node, into parsed: inout ParsedPolicyFile, reader: inout FieldReader) {
        let known: Set<String> = ["tenants", "resourceHosts", "azureDevOpsOrganizations"]
        guard let fields = reader.mapping(root, at: "", known: known) else { return }
        parsed.resourceHosts = directoryMappings(
            fields["resourceHosts"],
            at: "resourceHosts",
            what: "a host name or *.suffix",
            reader: &reader
        ) { HostPattern(parsing: $0) }
        parsed.azureDevOpsOrganizations = directoryMappings(
            fields["azureDevOpsOrganizations"],
            at: "azureDevOpsOrganizations",
            what: "an Azure DevOps organisation name",
            reader: &reader
        ) { AzureDevOpsOrganizationName.canonical($0) }
        guard let listNode = fields["tenants"] else {
            if fields["resourceHosts"] == nil && fields["azureDevOpsOrganizations"] == nil {
                reader.error("tenants", root, "missing (required): a list of {tenantId, domains}")
            }
            return
        }
        guard let entries = reader.sequence(listNode, at: "tenants") else { return }
        for (index, entry) in entries.enumerated() {
            let field = "tenants[\(index)]"
            guard let tenant = reader.mapping(entry, at: field, known: ["tenantId", "displayName", "domains"]) else {
                continue
            }
            let tenantID = reader.tenantID(tenant["tenantId"], at: "\(field).tenantId")
            let displayName = reader.string(tenant["displayName"], at: "\(field).displayName", required: false)
            let domains = domainList(tenant["domains"], at: "\(field).domains", reader: &reader)
            if let tenantID {
                parsed.directoryEntries.append(
                    .init(
                        tenantID: tenantID,
                        displayName: displayName,
                        domains: domains,
                        field: field,
                        line: entry.mark?.line
                    )
                )
            }
        }
    }

    /// A mapping of names to tenants; `key` reads a name, nil when it is not `what`.
    private static func directoryMappings<Key>(
        _ node: Node?,
        at field: String,
        what: String,
        reader: inout FieldReader,
        key: (String) -> Key?
    ) -> [ParsedPolicyFile.DirectoryMapping<Key>] {
        guard let node, let entries = reader.namedEntries(node, at: field) else { return [] }
        var mappings: [ParsedPolicyFile.DirectoryMapping<Key>] = []
        for (name, keyNode, value) in entries {
            let entryField = FieldReader.join(field, name)
            guard let parsedKey = key(name) else {
                reader.error(entryField, keyNode, "'\(name)' is not \(what)")
                continue
            }
            guard let tenant = ruleTenant(value, at: entryField, guidOnly: false, reader: &reader) else { continue }
            guard tenant != .any else {
                reader.error(entryField, value, "it belongs to one tenant: name it, not *")
                continue
            }
            mappings.append(.init(key: parsedKey, tenant: tenant, field: entryField, line: value.mark?.line))
        }
        return mappings
    }

    private static func ruleTenant(
        _ node: Node?,
        at field: String,
        guidOnly: Bool,
        reader: inout FieldReader
    ) -> TenantReference? {
        guard let text = reader.string(node, at: field, required: true) else { return nil }
        guard let reference = TenantReference(parsing: text) else {
            reader.error(field, node, "'\(text)' is not a tenant: use a tenant ID (GUID), a verified domain, or *")
            return nil
        }
        if guidOnly, case .domain = reference {
            reader.error(field, node, "'\(text)' is not a tenant ID: the Power Platform format takes a GUID or *")
            return nil
        }
        return reference
    }

    private static func domainList(_ node: Node?, at field: String, reader: inout FieldReader) -> [String] {
        guard let node, let items = reader.sequence(node, at: field) else { return [] }
        var domains: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = reader.string(item, at: "\(field)[\(index)]", required: true) else { continue }
            guard TenantReference.isDomainName(text) else {
                reader.error("\(field)[\(index)]", item, "'\(text)' is not a domain name")
                continue
            }
            domains.append(text.lowercased())
        }
        return domains
    }

    private static func syntaxDiagnostic(file: String, _ error: YamlError) -> PolicyDiagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return PolicyDiagnostic(file: file, field: "", line: mark.line, message: "syntax error: \(problem)")
        case .reader(let problem, _, _, _):
            return PolicyDiagnostic(file: file, field: "", line: nil, message: "cannot be read: \(problem)")
        default:
            return PolicyDiagnostic(file: file, field: "", line: nil, message: "syntax error: \(error)")
        }
    }
}

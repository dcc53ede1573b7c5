import TenantPolicy
import Yams

/// Walks a composed YAML/JSON node tree, reading typed fields and recording a diagnostic for every problem.
///
/// Every read names the field path and the line, so messages point at the exact place to fix.
struct FieldReader {
    let file: String
    private(set) var diagnostics: [PolicyDiagnostic] = []

    init(file: String) {
        self.file = file
    }

    mutating func error(_ field: String, _ node: Node?, _ message: String) {
        diagnostics.append(PolicyDiagnostic(.error, file: file, field: field, line: node?.mark?.line, message: message))
    }

    mutating func warning(_ field: String, _ node: Node?, _ message: String) {
        diagnostics.append(
            PolicyDiagnostic(.warning, file: file, field: field, line: node?.mark?.line, message: message)
        )
    }

    /// The mapping's entries by key, reporting keys this format does not know as warnings.
    mutating func mapping(_ node: Node, at field: String, known: Set<String>) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            error(field, node, "expected a mapping of fields, found \(Self.kind(of: node))")
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            if result[name] != nil {
                error(Self.join(field, name), key, "the field appears twice")
            }
            result[name] = value
            if !known.contains(name) {
                warning(
                    Self.join(field, name),
                    key,
                    "unknown field, ignored (known: \(known.sorted().joined(separator: ", ")))"
                )
            }
        }
        return result
    }

    /// A mapping whose keys are names of the user's (hosts, organisations), not fields of the format.
    mutating func namedEntries(_ node: Node, at field: String) -> [(name: String, key: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            error(field, node, "expected a mapping of names, found \(Self.kind(of: node))")
            return nil
        }
        var seen: Set<String> = []
        var entries: [(name: String, key: Node, value: Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else {
                error(field, key, "expected a name, found \(Self.kind(of: key))")
                continue
            }
            guard seen.insert(name.lowercased()).inserted else {
                error(Self.join(field, name), key, "the name appears twice")
                continue
            }
            entries.append((name, key, value))
        }
        return entries
    }

    mutating func sequence(_ node: Node, at field: String) -> [Node]? {
        switch node {
        case .sequence(let sequence): return Array(sequence)
        case .scalar(let scalar) where scalar.tag == .init(.null) || node.null != nil: return []
        default:
            error(field, node, "expected a list, found \(Self.kind(of: node))")
            return nil
        }
    }

    mutating func string(_ node: Node?, at field: String, required: Bool) -> String? {
        guard let node else {
            if required { error(field, nil, "missing (required)") }
            return nil
        }
        guard case .scalar(let scalar) = node, node.null == nil else {
            error(field, node, "expected text, found \(Self.kind(of: node))")
            return nil
        }
        return scalar.string
    }

    mutating func bool(_ node: Node?, at field: String, required: Bool) -> Bool? {
        guard let node else {
            if required { error(field, nil, "missing (required): true or false") }
            return nil
        }
        guard case .scalar(let scalar) = node, let value = Self.boolean(scalar.string) else {
            error(field, node, "expected true or false, found \(Self.describe(node))")
            return nil
        }
        return value
    }

    mutating func tenantID(_ node: Node?, at field: String) -> TenantID? {
        guard let text = string(node, at: field, required: true) else { return nil }
        guard let id = TenantID(text) else {
            error(field, node, "'\(text)' is not a tenant ID (a GUID such as 0da59725-89fe-4a2f-bf22-fd4536c9baac)")
            return nil
        }
        return id
    }

    static func join(_ parent: String, _ child: String) -> String { parent.isEmpty ? child : "\(parent).\(child)" }

    static func boolean(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    static func kind(of node: Node) -> String {
        switch node {
        case .scalar: node.null != nil ? "null" : "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    static func describe(_ node: Node) -> String {
        if case .scalar(let scalar) = node { return "'\(scalar.string)'" }
        return kind(of: node)
    }
}

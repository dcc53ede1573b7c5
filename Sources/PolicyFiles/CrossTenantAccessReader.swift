import CrossTenantAccess
import Foundation
import TenantPolicy
import Yams

/// Reads cross-tenant access settings written in Graph's JSON shape inside a policy file: the YAML's
/// `crossTenantAccess:` section or a whole Graph JSON file (SPEC 4).
///
/// The composed node tree is turned into JSON and decoded by the `CrossTenantAccess` model itself, so a file holds
/// exactly what Graph returns; the model's field paths are then looked up in the node tree so that every message
/// carries its line.
enum CrossTenantAccessReader {
    /// Decodes and validates `node` for the governed tenant `owner`.
    /// - Parameters:
    ///   - prefix: the field path of `node` in the file: `crossTenantAccess`, or empty for a Graph JSON file.
    ///   - excluding: top-level keys that belong to the file rather than to Graph's document (`tenantId`).
    static func read(
        _ node: Node,
        owner: TenantID?,
        prefix: String,
        excluding: Set<String> = [],
        reader: inout FieldReader
    ) -> CrossTenantAccessPolicy? {
        guard case .mapping(let mapping) = node else {
            reader.error(
                prefix,
                node,
                "expected Graph's crossTenantAccessPolicy object, found \(FieldReader.kind(of: node))"
            )
            return nil
        }
        var object: [String: Any] = [:]
        for (key, value) in mapping {
            guard let name = key.string, !excluding.contains(name) else { continue }
            object[name] = YAMLValue.plain(value)
        }
        let policy: CrossTenantAccessPolicy
        do {
            let data = try JSONSerialization.data(withJSONObject: object)
            policy = try CrossTenantAccessPolicy.decode(from: data)
        } catch let error as CrossTenantAccessDocumentError {
            reader.error(FieldReader.join(prefix, error.field), self.node(at: error.field, in: node), error.message)
            return nil
        } catch {
            reader.error(prefix, node, "cannot be read as Graph's crossTenantAccessPolicy: \(error)")
            return nil
        }
        for diagnostic in policy.validate(owner: owner) {
            let field = FieldReader.join(prefix, diagnostic.field)
            let at = self.node(at: diagnostic.field, in: node)
            switch diagnostic.severity {
            case .error: reader.error(field, at, diagnostic.message)
            case .warning: reader.warning(field, at, diagnostic.message)
            }
        }
        return policy
    }

    /// The deepest node along a model field path such as `partners[2].b2bCollaborationInbound.applications`, so a
    /// message points at the nearest line that exists.
    static func node(at path: String, in root: Node) -> Node {
        var current = root
        for component in path.split(separator: ".") {
            var name = Substring(component)
            var indices: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"),
                let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)])
            {
                indices.insert(index, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty {
                guard case .mapping(let mapping) = current, let child = mapping[String(name)] else { return current }
                current = child
            }
            for index in indices {
                guard case .sequence(let sequence) = current, index < sequence.count else { return current }
                current = sequence[index]
            }
        }
        return current
    }
}

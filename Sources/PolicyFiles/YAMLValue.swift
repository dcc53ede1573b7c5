import Foundation
import Yams

/// A YAML node as the plain values JSON has (text, numbers, booleans, null, arrays, objects), for the readers that
/// take YAML where JSON is the model: Graph's crossTenantAccessPolicy documents and the `--config` file.
///
/// A YAML 1.1 base-60 integer (`1:0:0:0:0:0:0:0:0:0:0`) stays the text it was written as (for the model to refuse
/// with its own message): Yams reads one by multiplying its parts without a check, and traps past Int. A mapping
/// keeps only the keys that are text: Yams's own mapping reading force-unwraps one that is a list or a mapping
/// (`[listen]: x`).
package enum YAMLValue {
    package static func plain(_ node: Node) -> Any {
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return NSNull()
            case Tag.Name.bool.rawValue: return node.bool ?? scalar.string
            case Tag.Name.int.rawValue:
                // Yams reads every other form (decimal, 0x, 0o, 0, 0b) with initialisers that return nil, not trap.
                guard !scalar.string.contains(":"), let value = node.int else { return scalar.string }
                return value
            case Tag.Name.float.rawValue: return node.float ?? scalar.string
            default: return scalar.string
            }
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping {
                if let name = key.string { object[name] = plain(value) }
            }
            return object
        case .sequence(let sequence):
            return sequence.map(plain)
        case .alias:
            // Aliases are YAML-only; JSON has none, and the model's reader reports the null where one was used.
            return NSNull()
        }
    }

    /// Whether `node` holds more nodes than its text has bytes. Only aliases (`*name`, a repeat of what an anchor
    /// names) can do that, and a few lines of them nested (a "billion laughs") stand for billions of nodes: reading
    /// one took a policy check 30 s and 5 GB before it was stopped. Counting stops at the limit, so the check costs
    /// no more than the text's length.
    package static func isAmplifiedByAliases(_ node: Node, textBytes: Int) -> Bool {
        var budget = textBytes + 64
        func fits(_ node: Node) -> Bool {
            budget -= 1
            guard budget >= 0 else { return false }
            switch node {
            case .scalar, .alias: return true
            case .mapping(let mapping): return mapping.allSatisfy { fits($0.key) && fits($0.value) }
            case .sequence(let sequence): return sequence.allSatisfy(fits)
            }
        }
        return !fits(node)
    }
}

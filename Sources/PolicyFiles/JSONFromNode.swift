import Foundation
import Yams

/// Turns a composed YAML node into JSON bytes, so that YAML-embedded Graph documents decode like pasted JSON.
enum JSONFromNode {
    static func data(_ node: Node) -> Data {
        var out = ""
        write(node, to: &out)
        return Data(out.utf8)
    }

    private static func write(_ node: Node, to out: inout String) {
        switch node {
        case .mapping(let mapping):
            out += "{"
            for (index, pair) in mapping.enumerated() {
                if index > 0 { out += "," }
                writeString(pair.key.string ?? "", to: &out)
                out += ":"
                write(pair.value, to: &out)
            }
            out += "}"
        case .sequence(let sequence):
            out += "["
            for (index, item) in sequence.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .scalar(let scalar):
            // Quoted scalars stay strings; plain ones keep their JSON meaning (null, booleans, numbers).
            if scalar.style == .plain {
                if node.null != nil {
                    out += "null"
                } else if let value = FieldReader.boolean(scalar.string) {
                    out += value ? "true" : "false"
                } else if Double(scalar.string) != nil, scalar.string.first != "." {
                    out += scalar.string
                } else {
                    writeString(scalar.string, to: &out)
                }
            } else {
                writeString(scalar.string, to: &out)
            }
        case .alias:
            out += "null"
        }
    }

    private static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

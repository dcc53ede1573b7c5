import ArgumentParser
import Foundation
import PolicyFiles
import Yams

/// A `--config FILE` as the command-line arguments it stands for, so the command's one declaration of its options is
/// also the file's schema: every key is an option's or flag's name without `--`; a list is the option repeated; a
/// mapping is the option repeated as `KEY=VALUE` (a list value joined by commas); `true` gives a flag, `false` leaves
/// it out. The file's arguments go before the command line's, so a flag given there wins (the last value of an
/// option is the one kept; repeatable options gather both).
enum ConfigurationArguments {
    static func arguments(fromFile path: String, for command: any ParsableCommand.Type) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ServeSetupError("cannot read the configuration file \(path)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ServeSetupError("\(path): not YAML (\(error))")
        }
        guard let node else { return [] }
        guard !YAMLValue.isAmplifiedByAliases(node, textBytes: text.utf8.count) else {
            throw ServeSetupError("\(path): its aliases (*name) stand for more values than the file holds")
        }
        // Read as plain values by YAMLValue, not by Yams.load, which traps on a key that is a list and on a base-60
        // integer past Int. Every key is a flag's name, so text (`plain` would leave any other out).
        guard case .mapping(let keyed) = node, keyed.allSatisfy({ $0.key.string != nil }),
            let mapping = YAMLValue.plain(node) as? [String: Any]
        else {
            throw ServeSetupError("\(path): the configuration is a mapping of flag names to values")
        }
        let declared = try Declared(command)
        // A misspelt key would otherwise be ignored silently, and its setting left at the default.
        let unknown = mapping.keys.filter { declared.kinds[$0] == nil }.sorted()
        guard unknown.isEmpty else {
            throw ServeSetupError(
                "\(path): unknown key(s) \(unknown.map { "'\($0)'" }.joined(separator: ", ")); keys are the flags' "
                    + "names without '--' (for example listen, policies, audit-log)"
            )
        }
        var arguments: [String] = []
        for (key, value) in mapping.sorted(by: { $0.key < $1.key }) {
            guard let kind = declared.kinds[key] else { continue }
            arguments += try self.arguments(key, value, kind: kind, file: path)
        }
        return arguments
    }

    private static func arguments(_ key: String, _ value: Any, kind: Declared.Kind, file: String) throws -> [String] {
        let flag = "--\(key)"
        switch kind {
        case .flag:
            guard let on = value as? Bool else { throw ServeSetupError("\(file): \(key) is true or false") }
            return on ? [flag] : []
        case .option(let repeating):
            if let list = value as? [Any] {
                guard repeating else { throw ServeSetupError("\(file): \(key) takes one value, not a list") }
                return try list.flatMap { [flag, try scalar($0, key: key, file: file)] }
            }
            if let pairs = value as? [String: Any] {
                guard repeating else { throw ServeSetupError("\(file): \(key) takes one value, not a mapping") }
                return try pairs.sorted(by: { $0.key < $1.key }).flatMap { name, value in
                    let values = try ((value as? [Any]) ?? [value]).map { try scalar($0, key: key, file: file) }
                    return [flag, "\(name)=\(values.joined(separator: ","))"]
                }
            }
            return [flag, try scalar(value, key: key, file: file)]
        }
    }

    private static func scalar(_ value: Any, key: String, file: String) throws -> String {
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        case let on as Bool: return String(on)
        default: throw ServeSetupError("\(file): \(key) has a value that is neither text nor a number")
        }
    }

    /// The options and flags a command declares, read from ArgumentParser's own description of it (the JSON that
    /// `--experimental-dump-help` prints), so this list is never written twice.
    private struct Declared {
        enum Kind {
            case flag
            case option(repeating: Bool)
        }

        let kinds: [String: Kind]

        init(_ command: any ParsableCommand.Type) throws {
            struct Help: Decodable {
                struct Command: Decodable { let arguments: [Argument]? }
                struct Argument: Decodable {
                    struct Name: Decodable {
                        let kind: String
                        let name: String
                    }
                    let kind: String
                    let names: [Name]?
                    let isRepeating: Bool
                }
                let command: Command
            }
            let help = try JSONDecoder().decode(Help.self, from: Data(command._dumpHelp().utf8))
            var kinds: [String: Kind] = [:]
            for argument in help.command.arguments ?? [] {
                for name in argument.names ?? [] where name.kind == "long" {
                    switch argument.kind {
                    case "flag": kinds[name.name] = .flag
                    case "option": kinds[name.name] = .option(repeating: argument.isRepeating)
                    default: break
                    }
                }
            }
            // ArgumentParser's own flags are not settings, and a file does not name another file.
            for own in ["help", "version", "experimental-dump-help", "config"] { kinds[own] = nil }
            self.kinds = kinds
        }
    }
}

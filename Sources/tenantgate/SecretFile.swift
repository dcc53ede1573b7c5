import Foundation

/// A secret given as a file (credentials, tokens): never on the command line, where every user of the machine can
/// read a process's arguments, and refused when the file is not its owner's alone, as the CA key is.
enum SecretFile {
    /// The file's text; `flag` names the flag in the error.
    static func read(_ path: String, flag: String) throws(ServeSetupError) -> String {
        var status = stat()
        guard stat(path, &status) == 0, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ServeSetupError("\(flag): cannot read \(path)")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw ServeSetupError(
                "\(flag): \(path) is readable or writable by group or others (mode "
                    + "\(String(status.st_mode & 0o777, radix: 8))): run 'chmod 600 \(path)'"
            )
        }
        return text
    }
}

import Foundation
import Plumbing

/// The one way the tests run a program to its end: both pipes drained at once, and a deadline after which it is
/// killed (SIGKILL: serving processes ignore SIGTERM, and children inherit that).
package enum ChildProcess {
    package struct Outcome: Sendable {
        package let status: Int32
        package let output: String
        package let errors: String
    }

    package static func run(
        _ program: String,
        _ arguments: [String],
        deadlineSeconds: Int = 30,
        directory: String? = nil
    ) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try runBlocking(program, arguments, deadlineSeconds: deadlineSeconds, directory: directory)
                    }
                )
            }
        }
    }

    /// `run` for synchronous callers (helpers that make keys and certificates with openssl).
    package static func runBlocking(
        _ program: String,
        _ arguments: [String],
        deadlineSeconds: Int = 30,
        directory: String? = nil
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let watchdog = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(deadlineSeconds), execute: watchdog)
        // Both pipes drained at once, so a child that fills one while the other is read cannot stall.
        let errorText = Locked("")
        let drained = DispatchGroup()
        DispatchQueue.global().async(group: drained) {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            errorText.withLock { $0 = String(decoding: data, as: UTF8.self) }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        watchdog.cancel()
        return Outcome(
            status: process.terminationStatus,
            output: String(decoding: data, as: UTF8.self),
            errors: errorText.withLock { $0 }
        )
    }
}

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The audit log sink: JSON Lines appended to a file.
///
/// Two ways in. The proxy's event loops group their own lines and hand each group to `append(_:lineCount:)`,
/// one `write(2)` per loop tick (see ProxyServer's `AuditBatch`). Everything else (admin changes, tests) uses
/// `record`, served by one writer thread with the same group commit: lines queued while a write is in progress
/// go out together in the next single `write(2)`. Either way a completion runs only once its bytes are in the
/// file, so the proxy can answer after its line is written (SPEC 4), and a failed write is reported to every
/// waiting completion. Each `write(2)` carries whole lines to a descriptor opened with `O_APPEND`, so lines from
/// different writers never interleave.
public final class AuditLog: Sendable {
    public typealias Completion = @Sendable (Result<Void, any Error>) -> Void

    private struct Pending {
        var lines: [[UInt8]] = []
        var completions: [Completion] = []
        var closed = false
    }

    private let destination: Destination
    private let queue = Mutex(Pending())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let writtenCount = Mutex(0)

    /// Where the bytes go: a file descriptor, or memory for tests.
    enum Destination: Sendable {
        case file(Int32, path: String)
        case memory(MemorySink)
    }

    /// Opens (creating, mode 0640) and appends to `path`.
    public convenience init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw AuditLogError(path: path, message: "cannot open the audit log for appending: \(String(cString: strerror(errno)))")
        }
        self.init(destination: .file(descriptor, path: path))
    }

    /// Keeps the lines in memory (tests).
    public convenience init(sink: MemorySink) {
        self.init(destination: .memory(sink))
    }

    private init(destination: Destination) {
        self.destination = destination
        let thread = Thread { [self] in self.writerLoop() }
        thread.name = "tenantgate-audit"
        thread.start()
    }

    /// Queues one event; `completion` runs (on the writer thread) after its line is written, or with the error.
    public func record(_ event: AuditEvent, completion: @escaping Completion) {
        record(line: event.jsonLine(), completion: completion)
    }

    /// Queues a pre-rendered JSON line (admin-change lines).
    public func record(line: [UInt8], completion: @escaping Completion) {
        let accepted = queue.withLock { pending -> Bool in
            guard !pending.closed else { return false }
            pending.lines.append(line)
            pending.completions.append(completion)
            return true
        }
        if accepted {
            wakeUp.signal()
        } else {
            completion(.failure(AuditLogError(path: path, message: "the audit log is closed")))
        }
    }

    /// Writes whole lines now, on the calling thread, and reports whether they reached the file.
    public func append(_ bytes: [UInt8], lineCount: Int) -> Result<Void, any Error> {
        guard !queue.withLock({ $0.closed }) else {
            return .failure(AuditLogError(path: path, message: "the audit log is closed"))
        }
        let result = write(bytes)
        if case .success = result { writtenCount.withLock { $0 += lineCount } }
        return result
    }

    public func recordAndWait(_ event: AuditEvent) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            record(event) { continuation.resume(with: $0) }
        }
    }

    /// Writes everything queued, then stops the writer. Later records fail.
    public func close() {
        let alreadyClosed = queue.withLock { pending -> Bool in
            defer { pending.closed = true }
            return pending.closed
        }
        guard !alreadyClosed else { return }
        wakeUp.signal()
        finished.wait()
        if case .file(let descriptor, _) = destination { _ = Glibc.close(descriptor) }
    }

    /// Lines written so far.
    public var written: Int { writtenCount.withLock { $0 } }

    private var path: String {
        switch destination {
        case .file(_, let path): path
        case .memory: "(memory)"
        }
    }

    private func writerLoop() {
        while true {
            wakeUp.wait()
            let (lines, completions, closed) = queue.withLock { pending in
                defer {
                    pending.lines.removeAll(keepingCapacity: true)
                    pending.completions.removeAll(keepingCapacity: true)
                }
                return (pending.lines, pending.completions, pending.closed)
            }
            if !lines.isEmpty {
                let result = write(lines.flatMap { $0 })
                if case .success = result { writtenCount.withLock { $0 += lines.count } }
                for completion in completions { completion(result) }
            }
            if closed {
                finished.signal()
                return
            }
        }
    }

    private func write(_ bytes: [UInt8]) -> Result<Void, any Error> {
        switch destination {
        case .memory(let sink):
            sink.append(bytes)
            return .success(())
        case .file(let descriptor, let path):
            var offset = 0
            while offset < bytes.count {
                let count = bytes.withUnsafeBytes { buffer in
                    Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    return .failure(AuditLogError(path: path, message: "write failed: \(String(cString: strerror(errno)))"))
                }
                offset += count
            }
            return .success(())
        }
    }
}

/// In-memory audit destination for tests: the lines written, in order.
public final class MemorySink: Sendable {
    private let storage = Mutex([UInt8]())
    public init() {}
    func append(_ bytes: [UInt8]) { storage.withLock { $0 += bytes } }
    public var lines: [String] {
        storage.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n").map(String.init)
    }
}

/// An audit log that cannot be opened or written, naming the file.
public struct AuditLogError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "audit log \(path): \(message)" }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A policies directory as last read: each file's identity (what `stat` says of the file its name leads to) and the
/// library its contents make. `refresh` finds what changed by identity and reads only those files, so a change to
/// one file of thousands costs a `stat` per file and one read and parse.
///
/// A name may be a symbolic link, as in a Kubernetes ConfigMap volume (`contoso.yaml -> ..data/contoso.yaml`),
/// where an update re-points `..data` at a new directory: `stat` follows links, so the new file's identity differs.
/// A file written twice within the file system's timestamp granularity, keeping its size, keeps its identity; so a
/// file modified shortly before it was last read is read again (and parsed only if its content hash differs), as
/// git treats "racily clean" files.
package struct PolicyDirectoryContents: Sendable {
    package let directory: String
    package private(set) var library: PolicyLibrary
    private var identities: [String: Identity]

    /// Device, inode, size, modification and change times, and when they were taken.
    struct Identity: Sendable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: timespec
        let changed: timespec
        let takenAt: timespec

        static func of(_ path: String) -> Identity? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return Identity(
                device: UInt64(info.st_dev),
                inode: UInt64(info.st_ino),
                size: Int64(info.st_size),
                modified: info.st_mtim,
                changed: info.st_ctim,
                takenAt: now
            )
        }

        /// Whether the file is the same as when `self` was taken: same identity, and not modified within two seconds
        /// of that moment (a later write of the same size may then share its timestamps).
        func stillDescribes(_ current: Identity) -> Bool {
            guard device == current.device, inode == current.inode, size == current.size,
                Self.same(modified, current.modified), Self.same(changed, current.changed)
            else { return false }
            return takenAt.tv_sec - max(modified.tv_sec, changed.tv_sec) > 2
        }

        private static func same(_ left: timespec, _ right: timespec) -> Bool {
            left.tv_sec == right.tv_sec && left.tv_nsec == right.tv_nsec
        }
    }

    /// Reads and parses every policy file of `directory`, in parallel. Fails only when the directory cannot be
    /// listed; unreadable or invalid files are the library's diagnostics.
    package static func read(_ directory: String) -> Result<PolicyDirectoryContents, PolicyValidationError> {
        PolicyDirectoryLoader.policyFileNames(directory).map { names in
            let paths = names.map { PolicyDirectoryLoader.path(directory, $0) }
            // Identity before content: a write between the two is seen by the next refresh.
            let identities = paths.map(Identity.of)
            let documents = PolicyLibrary.parseInParallel(paths) { index in Self.document(paths[index]) }
            var found: [String: Identity] = [:]
            for (path, identity) in zip(paths, identities) { found[path] = identity }
            return PolicyDirectoryContents(
                directory: directory,
                library: PolicyLibrary(documents: documents),
                identities: found
            )
        }
    }

    /// Reads what changed since the last read: new, removed and changed files, by identity. Returns the names of the
    /// documents whose content changed (empty when nothing did). A directory that cannot be listed changes nothing.
    @discardableResult
    package mutating func refresh() -> [String] {
        guard case .success(let names) = PolicyDirectoryLoader.policyFileNames(directory) else { return [] }
        let paths = Set(names.map { PolicyDirectoryLoader.path(directory, $0) })
        var changes: [String: PolicyLibrary.Document?] = [:]
        for path in identities.keys where !paths.contains(path) {
            changes[path] = .some(nil)
            identities[path] = nil
        }
        for path in paths {
            let current = Identity.of(path)
            if let known = identities[path], let current, known.stillDescribes(current) { continue }
            identities[path] = current
            switch PolicyDirectoryLoader.readText(path) {
            case .success(let text):
                if library.holds(path, contents: text) { continue }
                changes[path] = PolicyLibrary.Document(name: path, contents: text)
            case .failure(let diagnostic):
                changes[path] = PolicyLibrary.Document(unreadable: diagnostic)
            }
        }
        library = library.updating(parsed: changes)
        return changes.keys.sorted()
    }

    /// Records a file this process has just written (an admin change), so that the next refresh does not read it.
    package mutating func wrote(_ path: String, making library: PolicyLibrary) {
        identities[path] = Identity.of(path)
        self.library = library
    }

    private static func document(_ path: String) -> PolicyLibrary.Document {
        switch PolicyDirectoryLoader.readText(path) {
        case .success(let text): PolicyLibrary.Document(name: path, contents: text)
        case .failure(let diagnostic): PolicyLibrary.Document(unreadable: diagnostic)
        }
    }
}

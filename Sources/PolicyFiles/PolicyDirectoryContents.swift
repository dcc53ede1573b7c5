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
/// file modified within that granularity before it was last looked at is read again (and parsed only if its content
/// hash differs), as git treats "racily clean" files.
package struct PolicyDirectoryContents: Sendable {
    package let directory: String
    package private(set) var library: PolicyLibrary
    /// Every name the library holds a document of, with its identity; nil for a name that cannot be `stat`ed (a
    /// dangling link, a loop), which must still be known to be forgotten once it is gone.
    private var identities: [String: Identity?]
    /// The files the last refresh left to settle (written too recently to be read whole): their last version read
    /// stays in the library meanwhile.
    package private(set) var unsettled: Set<String> = []
    /// The removed files the last refresh held back while a new name settles (a rename under way): the library still
    /// names them, and a write must not re-create one beside its new name.
    package private(set) var heldBackRemovals: Set<String> = []

    /// Device, inode, size, modification and change times, and when they were taken.
    struct Identity: Sendable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: timespec
        let changed: timespec
        let takenAt: timespec

        /// The identity of `name` in the directory open as `directory` (a descriptor: no walk of the whole path per
        /// file), as of `now`.
        static func of(_ name: String, in directory: Int32, at now: timespec) -> Identity? {
            var info = stat()
            guard fstatat(directory, name, &info, 0) == 0 else { return nil }
            return Identity(
                device: UInt64(info.st_dev),
                inode: UInt64(info.st_ino),
                size: Int64(info.st_size),
                modified: info.st_mtim,
                changed: info.st_ctim,
                takenAt: now
            )
        }

        /// Whether the file is the same as when `self` was taken: same identity, and not modified so shortly before
        /// that moment that a later write of the same size could share its timestamps. Linux file systems stamp
        /// times from a clock that ticks every few milliseconds, so 50 ms covers them; timestamps without nanoseconds
        /// come from a file system that keeps whole seconds (or two, as FAT does), so there it takes two seconds.
        func stillDescribes(_ current: Identity) -> Bool {
            guard hasSameFields(as: current) else { return false }
            let wholeSeconds = modified.tv_nsec == 0 && changed.tv_nsec == 0
            let window: Int64 = wholeSeconds ? 2_000_000_000 : 50_000_000
            return Self.isMoreThan(window, from: Self.later(modified, changed), to: takenAt)
        }

        /// Whether `later` comes more than `window` nanoseconds after `earlier`, seconds first: a file's times may say
        /// any year its file system keeps (`touch -d 2300-01-01`), past what Int64 nanoseconds since 1970 hold, and
        /// the watcher asks this of every unchanged file every second.
        private static func isMoreThan(_ window: Int64, from earlier: timespec, to later: timespec) -> Bool {
            let seconds = Int64(later.tv_sec) &- Int64(earlier.tv_sec)
            guard (-9...9).contains(seconds) else { return seconds > 0 }
            return seconds * 1_000_000_000 + (Int64(later.tv_nsec) - Int64(earlier.tv_nsec)) > window
        }

        /// Whether `stat` says the same of the file as when `self` was taken (which a write may still share: see
        /// `stillDescribes`).
        func hasSameFields(as current: Identity) -> Bool {
            device == current.device && inode == current.inode && size == current.size
                && Self.same(modified, current.modified) && Self.same(changed, current.changed)
        }

        /// Whether the file was written less than `window` nanoseconds before the identity was taken: a writer may
        /// still be at it. A time after that moment (a clock set back, `touch -d` a future date) is no sign of one.
        func isFresh(within window: Int64) -> Bool {
            let written = Self.later(modified, changed)
            return !Self.isMoreThan(window, from: written, to: takenAt)
                && (written.tv_sec, written.tv_nsec) <= (takenAt.tv_sec, takenAt.tv_nsec)
        }

        private static func later(_ left: timespec, _ right: timespec) -> timespec {
            (left.tv_sec, left.tv_nsec) >= (right.tv_sec, right.tv_nsec) ? left : right
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
            let identities = identities(of: names, in: directory)
            let documents = PolicyLibrary.parseInParallel(paths) { index in Self.document(paths[index]) }
            var found: [String: Identity?] = [:]
            for (path, identity) in zip(paths, identities) { found.updateValue(identity, forKey: path) }
            return PolicyDirectoryContents(
                directory: directory,
                library: PolicyLibrary(documents: documents),
                identities: found
            )
        }
    }

    /// Reads what changed since the last read: new, removed and changed files, by identity. Returns the names of the
    /// documents whose content changed (empty when nothing did). A directory that cannot be listed changes nothing.
    /// - Parameter settling: a file written less than this before is left for a later refresh: a file rewritten in
    ///   place (`cat > contoso.yaml`, a slow copy) is read whole, not as the prefix written so far, which may be a
    ///   valid and weaker policy (review 19: a prefix without `isolation:` allowed every tenant for 2 s). While a
    ///   new name settles, removals wait with it: applied first, a rename (`mv contoso.yaml contoso.yml`, a
    ///   `git pull`, a tenant's file turned from JSON to YAML) left its tenant ungoverned until the new name had
    ///   settled (review 45 F4). Other files' changes go on: a file rewritten every half second held back every
    ///   other tenant's edit for as long as it was (review 46 F1).
    @discardableResult
    package mutating func refresh(settling: Duration = .zero) -> [String] {
        guard case .success(let names) = PolicyDirectoryLoader.policyFileNames(directory) else { return [] }
        let paths = names.map { PolicyDirectoryLoader.path(directory, $0) }
        let settlingNanoseconds =
            settling.components.seconds * 1_000_000_000 + settling.components.attoseconds / 1_000_000_000
        let isSettling: (Identity?) -> Bool = { current in
            settlingNanoseconds > 0 && current?.isFresh(within: settlingNanoseconds) == true
        }
        let changed = zip(paths, Self.identities(of: names, in: directory)).filter { path, current in
            guard let known = identities[path] ?? nil, let current else { return true }
            return !known.stillDescribes(current)
        }
        let newNameSettling = changed.contains { path, current in identities[path] == nil && isSettling(current) }
        let present = Set(paths)
        var changes: [String: PolicyLibrary.Document?] = [:]
        heldBackRemovals = newNameSettling ? Set(identities.keys.filter { !present.contains($0) }) : []
        for path in identities.keys where !present.contains(path) && !newNameSettling {
            changes[path] = .some(nil)
            identities.removeValue(forKey: path)
        }
        // Written since it was last read, not only read too soon after its write to be sure (as this process's own
        // admin writes are, for a moment).
        unsettled = Set(
            changed.filter { path, current in
                guard isSettling(current) else { return false }
                guard let known = identities[path] ?? nil, let current else { return true }
                return !known.hasSameFields(as: current)
            }.map(\.0)
        )
        for (path, current) in changed where !isSettling(current) {
            identities.updateValue(current, forKey: path)
            switch PolicyDirectoryLoader.readText(path) {
            case .success(let text):
                let hash = PolicyLibrary.contentHash(text)
                if library.holds(path, contentHash: hash) { continue }
                changes[path] = PolicyLibrary.Document(name: path, contents: text, contentHash: hash)
            case .failure(let diagnostic):
                changes[path] = PolicyLibrary.Document(name: path, unreadable: diagnostic)
            }
        }
        library = library.updating(parsed: changes)
        return changes.keys.sorted()
    }

    /// Records a file this process has just written (an admin change), so that the next refresh does not read it.
    package mutating func wrote(_ path: String, making library: PolicyLibrary) {
        let name = (path as NSString).lastPathComponent
        identities.updateValue(
            Self.identities(of: [name], in: (path as NSString).deletingLastPathComponent)[0],
            forKey: path
        )
        self.library = library
    }

    /// Each name's identity in `directory` now (nil where it cannot be had).
    private static func identities(of names: [String], in directory: String) -> [Identity?] {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return names.map { _ in nil } }
        defer { close(descriptor) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return names.map { Identity.of($0, in: descriptor, at: now) }
    }

    private static func document(_ path: String) -> PolicyLibrary.Document {
        switch PolicyDirectoryLoader.readText(path) {
        case .success(let text): PolicyLibrary.Document(name: path, contents: text)
        case .failure(let diagnostic): PolicyLibrary.Document(name: path, unreadable: diagnostic)
        }
    }
}

import ArgumentParser
import Foundation
import Logging
import PolicyDatabase

/// `tenantgate policies import|export DIR --policy-store URL` (SPEC 4.1): a policies directory into the fleet's
/// store and out again. Exit 0, or 2 with every error; nothing half-imported.
struct PoliciesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies",
        abstract: "Move a policies directory into and out of the policy store.",
        subcommands: [Import.self, Export.self]
    )

    struct StoreOptions: ParsableArguments {
        @Option(
            name: .customLong("policy-store"),
            help: "postgres://USER@HOST[:PORT]/DATABASE (the password in PGPASSWORD, never on the command line)"
        )
        var policyStore: String

        @Option(name: .customLong("policy-store-ca"), help: "PEM CA that signs the policy store's certificate.")
        var policyStoreCA: String?

        @Flag(
            name: .customLong("policy-store-insecure"),
            help: "Accept sslmode disable, prefer or require beyond loopback."
        )
        var policyStoreInsecure = false

        /// Opens the store, runs `body` with its schema up to date, and closes it. Any error is printed (the URL's
        /// password never is) and exits 2.
        func with<T: Sendable>(_ body: @Sendable (PolicyDatabase) async throws -> T) async throws -> T {
            var logger = Logger(label: "tenantgate.policies")
            logger.logLevel = .warning
            do {
                try PolicyStoreURL.refusePasswordOnCommandLine(policyStore)
                let url = try PolicyStoreURL(
                    policyStore,
                    trustedCAFile: policyStoreCA,
                    allowInsecure: policyStoreInsecure
                )
                let database = PolicyDatabase(url: url, logger: logger)
                let running = Task { await database.run() }
                defer { running.cancel() }
                _ = try await database.migrateAndRead(within: .seconds(15))
                return try await body(database)
            } catch {
                printError(ValidateCommand.shownLines("\(error)"))
                throw ExitCode.badInput
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate DIR and make the store hold exactly its documents, in one transaction."
        )
        @Argument(help: "The policies directory.") var directory: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            // Every validation error is said before the store is reached: a directory that cannot be imported is
            // not the store's fault.
            let prepared: PolicyTransfer.Import
            do {
                prepared = try PolicyTransfer.Import(directory: directory)
            } catch {
                printError(ValidateCommand.shownLines("\(error)"))
                throw ExitCode.badInput
            }
            try await store.with { database in try await prepared.apply(to: database) }
            print("imported \(prepared.documents.count) document(s) from \(directory) (version \(prepared.version))")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every document of the store to DIR (new or empty), one file each."
        )
        @Argument(help: "The directory to write.") var directory: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let directory = directory
            let (count, errors) = try await store.with { database in
                try await PolicyTransfer.exportDirectory(directory, from: database)
            }
            print("exported \(count) document(s) to \(directory)")
            if !errors.isEmpty {
                for error in errors { printError(ValidateCommand.shownLines("\(error)")) }
                printError("the stored set is invalid (\(errors.count) error(s)): mend the files and import them")
                throw ExitCode.badInput
            }
        }
    }
}

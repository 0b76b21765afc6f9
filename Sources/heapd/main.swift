import ArgumentParser
import Foundation
import Glibc
import HeapCore
import HeapProtocol
import HeapServer
import HeapStore
import JSONRPC
import Logging

/// `heapd`: the shared, garbage-collected object heap daemon.
struct Heapd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapd",
        abstract: "A shared, garbage-collected object heap with CPython 3.11's memory model, over JSON-RPC.",
        version: HeapdVersion.string,
        subcommands: [Serve.self, Repair.self],
        defaultSubcommand: Serve.self)
}

/// `heapd repair --data DIR`: truncates a damaged journal at the first bad record (the bytes cut
/// are kept beside it), so the daemon can start with everything before it; sets a damaged
/// snapshot aside and puts the previous one in its place. Works on a full disk.
struct Repair: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Truncate a damaged journal at its last good record, or replace a damaged snapshot by the previous "
            + "one (what is cut is kept)."
    )

    @Option(help: "Data directory (default: $XDG_DATA_HOME/heapd or ~/.local/share/heapd).")
    var data: String?

    func run() throws {
        do {
            print(try HeapStore.repair(DataDirectory(path: data ?? DataDirectory.defaultPath())))
        } catch {
            FileHandle.standardError.write(Data("heapd repair: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon (the default).")

    @Option(
        help:
            ArgumentHelp(
                "Unix socket path (default: $HEAPD_SOCKET, $XDG_RUNTIME_DIR/heapd/heapd.sock or "
                    + "/tmp/heapd-$UID/heapd.sock).")
    )
    var socket: String?

    @Option(help: "Data directory (default: $XDG_DATA_HOME/heapd or ~/.local/share/heapd).")
    var data: String?

    @Flag(help: "Keep nothing on disk.")
    var memory = false

    @Option(help: "When changes reach the disk: always (a reply waits for its change), everysec, no.")
    var fsync: FsyncPolicy = .always

    @Option(help: "Largest message accepted, in bytes.")
    var maxMessage: Int = 16 << 20

    @Option(help: "Most clients connected at once.")
    var maxClients: Int = 1024

    @Option(
        help:
            "Compact the journal into a snapshot once it exceeds the larger of this and the snapshot's size (and at a clean stop once it exceeds 16 MiB)."
    )
    var compactAfter: Int = 64 << 20

    @Option(help: "Also admit members of this group (the socket becomes 0660, its directory group-searchable).")
    var allowGroup: String?

    @Option(help: "Heap quota: most live objects.")
    var maxObjects: Int?

    @Option(help: "Heap quota: most bytes the live objects account for.")
    var maxBytes: UInt64?

    @Option(help: "Heap quota: most named roots.")
    var maxRoots: Int = HeapLimits().maxRoots

    @Option(help: "Heap quota: most named sessions.")
    var maxSessions: Int = HeapLimits().maxSessions

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Print the methods this daemon answers, one per line, and exit.")
    var listMethods = false

    func validate() throws {
        guard maxMessage >= 1024 else { throw ValidationError("--max-message must be at least 1024") }
        guard maxClients >= 1 else { throw ValidationError("--max-clients must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown --log-level '\(logLevel)'")
        }
        if memory && data != nil { throw ValidationError("--memory and --data exclude each other") }
    }

    func run() throws {
        if listMethods {
            HeapServer.methodNames.forEach { print($0) }
            return
        }
        var logger = Logger(label: "heapd")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var config = HeapServer.Configuration(socketPath: HeapdEndpoint.socketPath(explicit: socket))
        config.maximumMessageSize = maxMessage
        config.maximumConnections = maxClients
        config.limits = HeapLimits(
            maxObjects: maxObjects ?? .max, maxBytes: maxBytes ?? .max,
            maxRoots: maxRoots, maxSessions: maxSessions)
        if let threads { config.threads = threads }
        config.dataDirectory = memory ? nil : (data ?? DataDirectory.defaultPath())
        config.fsync = fsync
        config.compactAfterBytes = compactAfter
        config.allowedGroup = allowGroup
        // SIGTERM / SIGINT: blocked in every thread (set before any thread exists, so the
        // event loops inherit it) and taken by one thread with sigwait: no signal is lost or
        // fatal, whenever it arrives.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        let server: HeapServer
        do {
            server = try HeapServer(configuration: config, logger: logger)
        } catch {
            logger.critical("heapd: \(error)")
            throw ExitCode(1)
        }
        let blocked = stopSignals
        let waiter = Thread {
            var signals = blocked
            var received: Int32 = 0
            sigwait(&signals, &received)
            server.initiateShutdown()
        }
        waiter.start()
        do {
            try server.start()
        } catch {
            logger.critical("heapd: \(error)")
            throw ExitCode(1)
        }
        try server.wait()
    }
}

MallocTuning.keepLargeBlocksOutOfTheHeap()
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
extension FsyncPolicy: ExpressibleByArgument {}

Heapd.main()

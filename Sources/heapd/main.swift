import ArgumentParser
import Foundation
import HeapCore
import HeapServer
import JSONRPC
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `heapd`: the shared, garbage-collected object heap daemon.
struct Heapd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapd",
        abstract: "A shared, garbage-collected object heap with CPython 3.11's memory model, over JSON-RPC.")

    @Option(help: "Unix socket path (default: $HEAPD_SOCKET, $XDG_RUNTIME_DIR/heapd/heapd.sock or /tmp/heapd-$UID/heapd.sock).")
    var socket: String?

    @Flag(help: "Keep the heap in memory only (the only storage mode so far, and the default).")
    var memory = false

    @Option(help: "Largest message accepted, in bytes.")
    var maxMessage: Int = 16 << 20

    @Option(help: "Most clients connected at once.")
    var maxClients: Int = 1024

    @Option(help: "Heap quota: most live objects.")
    var maxObjects: Int?

    @Option(help: "Heap quota: most bytes the live objects account for.")
    var maxBytes: UInt64?

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Print the methods this daemon answers, one per line, and exit.")
    var listMethods = false

    func validate() throws {
        guard maxMessage >= 1024 else { throw ValidationError("--max-message must be at least 1024") }
        guard maxClients >= 1 else { throw ValidationError("--max-clients must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
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
        config.limits = HeapLimits(maxObjects: maxObjects ?? .max, maxBytes: maxBytes ?? .max)
        if let threads { config.threads = threads }
        // SIGTERM / SIGINT: blocked in every thread (set before any thread exists, so the
        // event loops inherit it) and taken by one thread with sigwait: no signal is lost or
        // fatal, whenever it arrives.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        let server = HeapServer(configuration: config, logger: logger)
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
Heapd.main()

import ArgumentParser
import Dispatch
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
        let server = HeapServer(configuration: config, logger: logger)
        do {
            try server.start()
        } catch {
            logger.critical("heapd: \(error)")
            throw ExitCode(1)
        }
        // SIGTERM / SIGINT: stop accepting, close connections, exit 0.
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { server.initiateShutdown() }
            source.resume()
            sources.append(source)
        }
        try server.wait()
        _ = sources
    }
}

MallocTuning.keepLargeBlocksOutOfTheHeap()
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
Heapd.main()

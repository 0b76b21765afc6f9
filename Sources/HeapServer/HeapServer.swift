import Glibc
import HeapCore
import HeapProtocol
import HeapStore
import JSONRPC
import JSONRPCNIO
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The daemon: a Unix-socket JSON-RPC server around one heap.
public final class HeapServer: Sendable {
    public struct Configuration: Sendable {
        public var socketPath: String
        public var maximumMessageSize = 16 << 20
        public var maximumConnections = 1024
        public var limits = HeapLimits()
        public var threads = System.coreCount
        /// nil: memory only (`--memory`).
        public var dataDirectory: String?
        public var fsync = FsyncPolicy.always
        public var compactAfterBytes = 64 << 20
        /// A group whose members may connect besides the daemon's user and root.
        public var allowedGroup: String?

        public init(socketPath: String) { self.socketPath = socketPath }
    }

    let configuration: Configuration
    let logger: Logger
    let service: HeapService
    private let group: MultiThreadedEventLoopGroup
    /// Runs the slow halves of deferred methods (see ``HeapService/offload``).
    private let offload: NIOThreadPool
    private let serverChannel = Mutex<Channel?>(nil)
    private let children = Mutex<[ObjectIdentifier: Channel]>([:])
    private let leaseTimer = Mutex<RepeatedTask?>(nil)

    /// Recovers the heap from the data directory (unless memory-only). Throws if the directory
    /// is locked by another daemon or its journal is damaged (with the repair command).
    public init(configuration: Configuration, logger: Logger) throws {
        JSONCodec.bootstrap()
        self.configuration = configuration
        self.logger = logger
        var heap = Heap(limits: configuration.limits)
        var store: HeapStore?
        if let path = configuration.dataDirectory {
            let opened = try HeapStore.open(
                DataDirectory(path: path), policy: configuration.fsync,
                limits: configuration.limits
            ) { [logger] in logger.info("\($0)") }
            store = opened.0
            heap = opened.1
            opened.0.minimumCompactionBytes = configuration.compactAfterBytes
            let r = opened.0.recovery
            let records = r.replayedOperations
            logger.info("recovered \(r.objects) objects from \(path) (\(records) journal records) in \(r.seconds) s")
        }
        var snapshots = SnapshotCatalog()
        if let store {
            snapshots = try SnapshotCatalog(dataDirectory: store.directory)
            for problem in snapshots.loadProblems { logger.warning("snapshot skipped: \(problem)") }
        }
        let environment = ServerEnvironment(
            openRPCDocument: ServerEnvironment.bundledOpenRPCDocument(), started: .now,
            persistence: { [store] in PersistenceReport.json(store) }, snapshots: snapshots)
        // One thread: deferred work (snapshots, diffs, exports, pictures) runs one at a time,
        // beside the event loops, never on them.
        offload = NIOThreadPool(numberOfThreads: 1)
        offload.start()
        service = HeapService(
            heap: heap, store: store, environment: environment,
            logger: logger, maximumMessageSize: configuration.maximumMessageSize, offload: offload)
        service.startRecoveredLeases()
        let freed = service.dropRecoveredAnonymousSessions()
        if freed > 0 { logger.info("released \(freed) objects held only by sessions of clients that are gone") }
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
    }

    /// Binds the socket (after checking no other daemon answers there) and starts serving.
    public func start() throws {
        let path = configuration.socketPath
        var access = AccessPolicy()
        if let name = configuration.allowedGroup {
            guard let gid = AccessPolicy.group(named: name) else { throw SocketPath.Problem.unknownGroup(name) }
            access.allowedGroup = gid
        }
        try SocketPath.prepare(path, sharedWithGroup: access.allowedGroup)
        let logger = self.logger
        let service = self.service
        let maxConnections = configuration.maximumConnections
        let shutdown: @Sendable () -> Void = { [weak self] in self?.initiateShutdown() }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            // A client that shuts down its sending side (`... | socat`) still gets every reply.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Past 1 MiB of unsent replies a connection stops being read (see channelWritabilityChanged).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
            .childChannelInitializer { [weak self] channel in
                // Only the daemon's user, root and the allowed group: checked on every accept,
                // besides the socket's mode.
                PeerCredentials.of(channel).flatMapThrowing { peer in
                    guard access.admits(peer) else {
                        logger.warning("refused a connection from uid \(peer.uid) gid \(peer.gid) pid \(peer.pid)")
                        try Self.refuse(
                            channel,
                            RPCError(
                                code: .accessDenied,
                                message: "uid \(peer.uid) may not use this heapd (it serves uid \(access.ownUID))"))
                        return
                    }
                    if let self, self.trackChild(channel) > maxConnections {
                        try Self.refuse(
                            channel,
                            RPCError(code: .tooManyClients, message: "too many clients (at most \(maxConnections))"))
                        return
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RPCConnectionHandler(service: service, onShutdownRequest: shutdown))
                }
            }
        // The socket is created with its final mode (the umask is applied at bind), so there is
        // no moment when it accepts connections with a looser one; the chmod below only repeats it.
        let previousMask = umask(access.allowedGroup == nil ? 0o177 : 0o117)
        let bound = Result { try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).wait() }
        umask(previousMask)
        let channel = try bound.get()
        if let gid = access.allowedGroup {
            chown(path, getuid(), gid)
            chmod(path, 0o660)
        } else {
            chmod(path, 0o600)
        }
        serverChannel.withLock { $0 = channel }
        leaseTimer.withLock {
            $0 = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
                service.expireLeases()
                service.growStorageAhead()
            }
        }
        logger.info("heapd serving on \(path)")
        if service.isShuttingDown { initiateShutdown() }  // a signal arrived while binding
    }

    /// One error reply in the client's framing, then close (`RefusalHandler`).
    private static func refuse(_ channel: Channel, _ error: RPCError) throws {
        try channel.pipeline.syncOperations.addHandler(RefusalHandler(error))
    }

    /// Counts a new child channel and forgets it when it closes; returns the count.
    private func trackChild(_ channel: Channel) -> Int {
        let key = ObjectIdentifier(channel)
        let count = children.withLock { c in
            c[key] = channel
            return c.count
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.children.withLock { $0.removeValue(forKey: key) }
        }
        return count
    }

    /// Stops accepting, refuses new requests, closes every connection, and lets `wait` return.
    public func initiateShutdown() {
        service.beginShutdown()
        guard
            let channel = serverChannel.withLock({ c -> Channel? in
                defer { c = nil }; return c
            })
        else { return }
        logger.info("heapd shutting down")
        channel.close(promise: nil)
    }

    /// Blocks until the server has shut down, then releases its threads and socket file.
    public func wait() throws {
        let channel = serverChannel.withLock { $0 }
        try channel?.closeFuture.wait()
        leaseTimer.withLock {
            $0?.cancel(); $0 = nil
        }
        let open = children.withLock { Array($0.values) }
        for c in open { c.close(promise: nil) }
        for c in open { try? c.closeFuture.wait() }
        unlink(configuration.socketPath)
        // Deferred work still running finishes (its connection is gone) before the loops stop.
        try? offload.syncShutdownGracefully()
        try group.syncShutdownGracefully()
        if let store = service.store, store.wantsCompactionAtShutdown {
            // Nothing changes the heap any more: its snapshot spares the next start the replay.
            logger.info("writing a snapshot before stopping (the journal has grown past it)")
            store.compact(service.withState { $0.heap }, finally: true)
        }
        service.store?.close()  // waits for the snapshot
        logger.info("heapd stopped")
    }
}

extension HeapServer {
    /// Every method the server dispatches (what `rpc.discover` must document).
    public static var methodNames: [String] { HeapMethods.names }
}

import HeapCore
import HeapServer
import JSONRPC
import Logging
import NIOCore

/// The fuzz target's way into the daemon (Sources/heapd-fuzz, Tests/fuzz/README.md): one input
/// runs through the real connection pipeline (`RPCConnectionHandler` with its
/// `RPCFrameDecoder`) around an in-memory `HeapService`, then the heap must pass its
/// invariant check. Test support: the daemon does not link it.
public enum FuzzEntry {
    /// Feeds `data` to a fresh connection on `channel` in 1 to 3 chunks (split where the input's
    /// hash says, so partial frames are exercised), ends the connection (half-close then close,
    /// or an abrupt close), and stops the process with a precondition failure if the heap breaks
    /// an invariant or the connection outlives its close.
    ///
    /// - Parameters:
    ///   - channel: a new, unconnected channel whose `connect` only activates it, and whose event
    ///     loop is the calling thread (an `EmbeddedChannel`).
    ///   - settle: runs the channel's pending tasks and discards what it wrote (called after
    ///     every chunk and after the close).
    ///
    /// The heap is kept across inputs (state-dependent bugs), and replaced every 2,000 inputs, past
    /// 10,000 objects (the checks after each input are linear in them), or after `shutdown`.
    ///
    /// For half of the inputs (by their hash) a second connection is open meanwhile: it subscribed
    /// to every event and stopped reading, with a small event outbox (16 KiB), so the input's
    /// events pile up for it and, past that, cut it off, from the other connection's requests.
    public static func run(_ data: UnsafeRawBufferPointer, on channel: Channel, settle: () -> Void) {
        FuzzHarness.shared.run(data, channel, settle)
    }
}

/// The state FuzzEntry keeps between inputs. libFuzzer calls from one thread only.
private final class FuzzHarness {
    nonisolated(unsafe) static let shared = FuzzHarness()

    /// Small, so oversized messages are within the fuzzer's reach (scripts/fuzz.sh: -max_len=12288);
    /// the daemon replaying the corpus runs with `--max-message 4096` (Tests/fuzz/test_regressions.py).
    static let maximumMessageSize = 4096
    static let inputsPerHeap = 2_000
    /// Small, so a subscriber that does not read overflows within one input.
    static let outboxLimit = 16 << 10
    static let objectsPerHeap = 10_000

    private var service: HeapService
    private var inputs = 0
    private var objects = 0
    private let address = try! SocketAddress(unixDomainSocketPath: "/heapd-fuzz")

    private init() {
        JSONCodec.bootstrap()
        service = Self.makeService()
    }

    private static func makeService() -> HeapService {
        let environment = ServerEnvironment(
            openRPCDocument: ServerEnvironment.bundledOpenRPCDocument(), started: .now, writesFiles: false)
        let logger = Logger(label: "heapd-fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        return HeapService(
            heap: Heap(limits: HeapLimits(maxObjects: 200_000, maxBytes: 1 << 40)),
            store: nil, environment: environment, logger: logger,
            maximumMessageSize: maximumMessageSize, outboxLimit: outboxLimit)
    }

    func run(_ data: UnsafeRawBufferPointer, _ channel: Channel, _ settle: () -> Void) {
        if inputs >= Self.inputsPerHeap || objects > Self.objectsPerHeap || service.isShuttingDown {
            service = Self.makeService()
            inputs = 0
        }
        inputs += 1

        // FNV-1a of the input picks the chunk boundaries, how the client leaves, and whether a
        // subscriber that does not read is connected meanwhile.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var subscriber: EmbeddedConnection?
        if hash & (1 << 61) != 0, let stalled = try? EmbeddedConnection(service) {
            _ = try? stalled.call("subscribe", ["events": ["*"]])
            stalled.channel.isWritable = false
            stalled.channel.pipeline.fireChannelWritabilityChanged()
            subscriber = stalled
        }

        let sync = channel.pipeline.syncOperations
        try! sync.addHandler(RPCConnectionHandler(service: service, onShutdownRequest: {}))
        channel.connect(to: address, promise: nil)  // channelActive: the connection registers

        let count = data.count
        var cuts = [0, count]
        if count > 1 {
            for k in 0..<Int(hash % 3) { cuts.append(Int((hash >> (8 + 16 * UInt64(k))) % UInt64(count + 1))) }
        }
        cuts.sort()
        for (start, end) in zip(cuts, cuts.dropFirst()) where start < end {
            guard channel.isActive else { break }  // a broken header closed it: a socket reads no more
            var buffer = channel.allocator.buffer(capacity: end - start)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: data[start..<end]))
            sync.fireChannelRead(NIOAny(buffer))
            sync.fireChannelReadComplete()
            settle()
            subscriber?.channel.embeddedEventLoop.run()  // its loop acts on wake-ups and overflow
        }
        if channel.isActive, hash & (1 << 60) != 0 {
            // `... | socat`: EOF first (the last NDJSON line counts without its newline).
            sync.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            settle()
        }
        if channel.isActive { channel.close(promise: nil) }
        settle()
        if let subscriber {
            subscriber.channel.isWritable = true  // it reads again: what waited goes out
            subscriber.channel.pipeline.fireChannelWritabilityChanged()
            _ = try? subscriber.received()
            subscriber.close()
        }

        // Everything the connection held is released: no connection may be left registered,
        // and the heap must be consistent. (After a `shutdown` request the service refuses every
        // request; the next input gets a new heap.)
        if service.isShuttingDown { return }
        let check = service.check()
        objects = check.objects
        // fatalError, not precondition: its message survives -O.
        if !check.problems.isEmpty {
            fatalError("heap invariants broken after this input: \(check.problems.prefix(10))")
        }
        if check.connections != 0 {
            fatalError("a closed connection is still registered: connections = \(check.connections)")
        }
    }
}

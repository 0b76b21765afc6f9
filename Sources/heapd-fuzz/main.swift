import Glibc
// The libFuzzer target over framing + decoding + dispatch against an in-memory heap
// (SPEC §8; Tests/fuzz/README.md).
//
// Two builds of one file:
// - scripts/fuzz.sh builds it with `-sanitize=fuzzer,address -DHEAPD_LIBFUZZER` (and the
//   `Extern` feature): the top-level code hands control to libFuzzer's driver. (libFuzzer's own
//   `main` cannot be used: SwiftPM links executables with `--defsym main=heapd_fuzz_main`, the
//   symbol of this file's top-level code, so neither `-parse-as-library` nor an empty main works.)
// - the ordinary `swift build` makes a replayer: `heapd-fuzz FILE|DIR...` runs each input
//   once through the same checks and stops with a trap at the first failure.
import HeapServerTesting
import JSONRPC
import JSONRPCNIO
import NIOCore
import NIOEmbedded

/// One input: the bytes a client sends on one connection. Besides the checks FuzzEntry makes
/// (heap invariants, the connection unregistered), everything the daemon wrote back must be
/// whole frames, in the connection's framing, each holding a JSON object or array.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let channel = EmbeddedChannel()
    var written = channel.allocator.buffer(capacity: 256)
    FuzzEntry.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size), on: channel) {
        channel.embeddedEventLoop.run()
        while let out = try? channel.readOutbound(as: ByteBuffer.self) {
            var out = out
            written.writeBuffer(&out)
        }
    }
    _ = try? channel.finish(acceptAlreadyClosed: true)
    checkReplies(&written)
    return 0
}

/// Every byte written must belong to a complete frame holding a JSON object or array.
private func checkReplies(_ written: inout ByteBuffer) {
    var decoder = RPCFrameDecoder(maximumMessageSize: 1 << 30)
    while let frame = decoder.next(from: &written) {
        guard case .message(let body) = frame else {
            fatalError("the daemon wrote a frame its own decoder rejects: \(frame)")
        }
        let value: JSONValue
        do {
            value = try JSONCodec.parse(body)
        } catch {
            fatalError(
                "the daemon wrote invalid JSON (\(error)): "
                + "\(String(decoding: body.readableBytesView, as: UTF8.self).prefix(300))"
            )
        }
        switch value {
        case .object, .array: break
        default:
            fatalError(
                "the daemon wrote a JSON \(value.kind.map { "\($0)" } ?? "fragment") instead of an object or array")
        }
    }
    if written.readableBytes > 0 {
        fatalError(
            "the daemon wrote \(written.readableBytes) bytes that are not a whole frame: "
            + "\(String(decoding: written.readableBytesView.prefix(200), as: UTF8.self))"
        )
    }
}

/// LeakSanitizer reports Swift objects referenced only through enum payloads (whose pointers
/// carry tag bits) as leaked, so leak checking is off unless ASAN_OPTIONS turns it on.
@_cdecl("__asan_default_options")
public func asanDefaultOptions() -> UnsafePointer<CChar> {
    UnsafeRawPointer(("detect_leaks=0" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
}

#if HEAPD_LIBFUZZER
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
#else
// MARK: replay (ordinary build)

let arguments = CommandLine.arguments.dropFirst()
if arguments.isEmpty || arguments.contains(where: { $0.hasPrefix("-") }) {
    print(
        """
        usage: heapd-fuzz FILE|DIR...   replays inputs through the fuzz target's checks
        (libFuzzer options need the fuzz build: scripts/fuzz.sh)
        """)
    exit(arguments.isEmpty ? 0 : 64)
}
var replayed = 0
for path in arguments {
    var files: [String] = [path]
    if let dir = opendir(path) {
        files = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { files.append(path + "/" + name) }
        }
        closedir(dir)
        files.sort()
    }
    for file in files {
        guard let f = fopen(file, "rb") else { print("heapd-fuzz: cannot read \(file)"); exit(66) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        fclose(f)
        print("replaying \(file) (\(bytes.count) bytes)")
        _ = bytes.withUnsafeBufferPointer { fuzzOneInput($0.baseAddress, $0.count) }
        replayed += 1
    }
}
print("heapd-fuzz: \(replayed) inputs replayed, no failure")
#endif

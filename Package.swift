// swift-tools-version:6.0
import PackageDescription

// Linux only: the daemon relies on SO_PEERCRED, /proc, epoll, fallocate and glibc's mallopt.
//
// Dependencies, each for one job (see README "Design"):
// - swift-nio: the Unix-socket server (event loops, channels, back-pressure).
// - swift-argument-parser: the CLIs' flags and exit code 64 on usage errors.
// - swift-log: the daemon's structured log.
let package = Package(
    name: "heapd",
    products: [
        .executable(name: "heapd", targets: ["heapd"]),
        .executable(name: "heapctl", targets: ["heapctl"]),
        .library(name: "HeapClient", targets: ["HeapClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        // Per-thread free lists for Jansson's small blocks (Sources/CJanssonAllocator/allocator.c).
        .target(name: "CJanssonAllocator", dependencies: ["CJansson"]),
        // `struct ucred` (SO_PEERCRED), `mallopt` and `fallocate`, from the system's own headers.
        .target(name: "CHeapdSystem"),
        // libedit's readline-compatible API: line editing, history and completion in heapctl's shell.
        .systemLibrary(name: "CEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // <sys/epoll.h>, which Glibc's module leaves out: for heapctl bench's load generator.
        .systemLibrary(name: "CEpoll"),
        // The CPU's prefetch hint, header only (Sources/CPrefetch/shim.h): the collector's walk in
        // discovery order.
        .systemLibrary(name: "CPrefetch"),
        // The heap and the collector: pure Swift, no I/O, no threads.
        .target(name: "HeapCore", dependencies: ["CPrefetch"]),
        // JSON-RPC 2.0 over Jansson: codec, envelopes, standard error codes. No NIO.
        .target(name: "JSONRPC", dependencies: ["CJansson", "CJanssonAllocator"]),
        // Framing (NDJSON and LSP Content-Length) on NIO's ByteBuffer.
        .target(
            name: "JSONRPCNIO",
            dependencies: ["JSONRPC", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // heapd's protocol: one file per method (params, typed result, contract), the method
        // list, error codes, notifications. Used by the server and the clients alike. No NIO.
        .target(name: "HeapProtocol", dependencies: ["HeapCore", "JSONRPC"]),
        // Journal + snapshots + recovery.
        .target(name: "HeapStore", dependencies: ["HeapCore", "CHeapdSystem"]),
        .target(
            name: "HeapServer",
            dependencies: [
                "HeapCore", "HeapStore", "HeapProtocol", "JSONRPC", "JSONRPCNIO", "CHeapdSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/heapd.openrpc.json")]
        ),
        // Test support (not the daemon's API): drives the real connection pipeline on an
        // EmbeddedChannel, for the fuzz target and the server's tests.
        .target(
            name: "HeapServerTesting",
            dependencies: [
                "HeapServer", "HeapProtocol", "HeapCore", "JSONRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HeapClient",
            dependencies: ["JSONRPC", "JSONRPCNIO", "HeapProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "heapd",
            dependencies: [
                "HeapServer", "HeapStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "heapctl",
            dependencies: [
                "HeapClient", "HeapProtocol", "JSONRPC", "JSONRPCNIO", "CEpoll", "CEdit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The collector benchmark (a command, not a test): heapd's core versus CPython.
        .executableTarget(
            name: "heapd-gcbench",
            dependencies: [
                "HeapCore", "HeapServer", "HeapStore", "HeapProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The libFuzzer target (SPEC §8): scripts/fuzz.sh builds it with -sanitize=fuzzer,address.
        .executableTarget(
            name: "heapd-fuzz",
            dependencies: [
                "HeapServerTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "HeapCoreTests", dependencies: ["HeapCore"]),
        .testTarget(name: "HeapStoreTests", dependencies: ["HeapStore", "HeapCore"]),
        .testTarget(
            name: "HeapServerTests",
            dependencies: [
                "HeapServer", "HeapServerTesting", "HeapProtocol", "HeapCore", "JSONRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: [
                "JSONRPC", "JSONRPCNIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]),
    ]
)

// swift-tools-version:6.0
import PackageDescription

// Dependencies, each for one job (see README "Design"):
// - swift-nio: the Unix-socket server (event loops, channels, back-pressure).
// - swift-argument-parser: the CLIs' flags and exit code 64 on usage errors.
// - swift-log: the daemon's structured log.
let package = Package(
    name: "heapd",
    platforms: [.macOS(.v15)],
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
        // <sys/epoll.h>, which Glibc's module leaves out: for heapctl bench's load generator.
        .systemLibrary(name: "CEpoll"),
        // The heap and the collector: pure Swift, no I/O, no threads.
        .target(name: "HeapCore"),
        // JSON-RPC 2.0 over Jansson: codec, framing, error codes.
        .target(
            name: "JSONRPC",
            dependencies: [
                "CJansson", "CJanssonAllocator",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // fallocate(2), which Glibc's module leaves out: the journal reserves disk space with it.
        .systemLibrary(name: "CFallocate"),
        // Journal + snapshots + recovery.
        .target(name: "HeapStore", dependencies: ["HeapCore", "CFallocate"]),
        .target(
            name: "HeapServer",
            dependencies: [
                "HeapCore", "HeapStore", "JSONRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/heapd.openrpc.json")]
        ),
        .target(name: "HeapClient", dependencies: ["JSONRPC", .product(name: "NIOCore", package: "swift-nio")]),
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
                "HeapClient", "JSONRPC", "CEpoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The collector benchmark (a command, not a test): heapd's core versus CPython.
        .executableTarget(
            name: "heapd-gcbench",
            dependencies: ["HeapCore", "HeapServer", "HeapStore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The libFuzzer target (SPEC §8): scripts/fuzz.sh builds it with -sanitize=fuzzer,address.
        .executableTarget(
            name: "heapd-fuzz",
            dependencies: [
                "HeapServer", "JSONRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "HeapCoreTests", dependencies: ["HeapCore"]),
        .testTarget(name: "HeapStoreTests", dependencies: ["HeapStore", "HeapCore"]),
        .testTarget(name: "JSONRPCTests", dependencies: [
            "JSONRPC",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
    ]
)

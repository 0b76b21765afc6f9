import ArgumentParser
import Foundation
import HeapClient
import JSONRPC

/// `heapctl bench`: load in the style of redis-benchmark, driven by one epoll thread
/// (`LoadDriver`) so the generator stays cheap; its CPU per request is printed so that a slow
/// generator is visible. `--redis SOCKET` drives a Redis server with the same generator, for
/// a comparison in which both sides get the same client.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the daemon: requests/s and latency percentiles per workload.",
        discussion: """
            heapd workloads: ping; refunref (ref, then unref, one object per client: the analogue \
            of Redis INCR; each counts as a request); allocate (objects stay in the client's \
            session until the run ends); set (a field of the client's object); apply (--ops \
            operations per request, ref/unref pairs; operations/s is printed too). With \
            --redis SOCKET: ping and incr against Redis.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .short, help: "Clients (connections) at once.") var c: Int = 50
    @Option(name: .short, help: "Requests in all, per workload.") var n: Int = 100_000
    @Option(name: [.customShort("P")], help: "Requests pipelined per client.") var pipeline: Int = 1
    @Option(
        name: .short,
        help: "Workloads, comma-separated (default: ping,refunref,allocate,set,apply; with --redis: ping,incr).")
    var t: String?
    @Option(help: "Operations per apply request.") var ops: Int = 16
    @Option(help: "ndjson or lsp.") var framing: String = "ndjson"
    @Option(help: "Drive the Redis server on this Unix socket instead of heapd.") var redis: String?

    var workloads: [String] {
        (t ?? (redis == nil ? "ping,refunref,allocate,set,apply" : "ping,incr")).split(separator: ",").map(String.init)
    }

    func validate() throws {
        guard c >= 1, n >= c, pipeline >= 1, ops >= 1 else {
            throw ValidationError("need -c ≥ 1, -n ≥ -c, -P ≥ 1, --ops ≥ 1")
        }
        guard ["ndjson", "lsp"].contains(framing) else { throw ValidationError("--framing is ndjson or lsp") }
        let known = redis == nil ? BenchWorkload.heapdNames : BenchWorkload.redisNames
        for w in workloads where !known.contains(w) {
            throw ValidationError("unknown workload '\(w)' (known: \(known.joined(separator: ", ")))")
        }
    }

    func run() throws {
        let path = redis ?? options.socketPath
        for name in workloads {
            // Each workload gets fresh connections (and, on heapd, fresh sessions). The setup
            // connection's session owns the clients' objects: it must outlive the run.
            let setup = redis == nil ? try options.connect(anonymous: true) : nil
            let report = try withExtendedLifetime(setup) {
                let workload =
                    try setup.map {
                        try BenchWorkload.heapd(name, clients: c, lsp: framing == "lsp", opsPerApply: ops, setup: $0)
                    } ?? BenchWorkload.redis(name, clients: c)
                return try measure(workload, path: path)
            }
            output(options.json ? JSONCodec.encodeString(report.json) : report.text)
        }
    }

    private func measure(_ workload: BenchWorkload, path: String) throws -> BenchReport {
        let fds = try (0..<c).map { _ -> Int32 in
            switch UnixSocket.connect(path: path) {
            case .success(let fd): return fd
            case .failure(let error):
                printError("cannot connect to \(path): \(error)")
                throw ExitCode(3)
            }
        }
        defer { fds.forEach { close($0) } }
        // Every round has the same number of requests; a cycle of two alternates two rounds.
        let roundsPerClient = max(1, n / (c * pipeline))
        let connections = fds.enumerated().map { i, fd in
            (rounds: workload.rounds(client: i, pipeline: pipeline), fd: fd)
        }
        let outcome = LoadDriver.run(
            connections.map {
                LoadDriver.Connection(
                    fd: $0.fd, rounds: $0.rounds, repliesPerRound: pipeline,
                    counter: ReplyCounter(framing: workload.framing))
            },
            rounds: roundsPerClient)
        if outcome.brokenConnections > 0 {
            printError("\(outcome.brokenConnections) connection(s) closed by the server during the run")
        }
        return BenchReport(
            workload: workload.name, target: redis == nil ? "heapd" : "redis",
            clients: c, pipeline: pipeline, framing: redis == nil ? framing : "resp",
            operationsPerRequest: workload.operationsPerRequest, outcome: outcome)
    }
}

/// What one workload measured, as text or JSON.
struct BenchReport {
    let workload: String
    let target: String
    let clients: Int
    let pipeline: Int
    let framing: String
    let operationsPerRequest: Int
    let outcome: LoadDriver.Outcome

    var requests: Int { outcome.rounds * pipeline }
    var requestsPerSecond: Double { Double(requests) / outcome.seconds }
    var generatorMicrosecondsPerRequest: Double { outcome.cpuSeconds / Double(max(1, requests)) * 1e6 }

    /// Latency of a round (`-P` requests), in milliseconds.
    func percentile(_ p: Double) -> Double {
        let l = outcome.latencies
        guard !l.isEmpty else { return 0 }
        return Double(l[min(l.count - 1, Int(Double(l.count) * p))]) / 1e6
    }

    var text: String {
        var lines = [
            "\(workload): \(requests) requests, \(clients) clients, pipeline \(pipeline), \(framing), \(target)"
        ]
        var rate = String(format: "  %.0f requests/s", requestsPerSecond)
        if operationsPerRequest > 1 {
            rate += String(
                format: "  %.0f operations/s (%d per request)", requestsPerSecond * Double(operationsPerRequest),
                operationsPerRequest)
        }
        lines.append(
            rate
                + String(
                    format: "  p50 %.3f ms  p99 %.3f ms  max %.3f ms", percentile(0.5), percentile(0.99), percentile(1))
        )
        lines.append(
            String(format: "  load generator CPU %.2f µs/request", generatorMicrosecondsPerRequest)
                + (outcome.errors > 0 ? "  ERRORS \(outcome.errors)" : ""))
        return lines.joined(separator: "\n")
    }

    var json: JSONValue {
        [
            "workload": .string(workload), "target": .string(target), "clients": .int(Int64(clients)),
            "pipeline": .int(Int64(pipeline)), "framing": .string(framing),
            "requests": .int(Int64(requests)), "seconds": .double(outcome.seconds),
            "requests_per_s": .double(requestsPerSecond),
            "operations_per_s": .double(requestsPerSecond * Double(operationsPerRequest)),
            "p50_ms": .double(percentile(0.5)), "p99_ms": .double(percentile(0.99)), "max_ms": .double(percentile(1)),
            "errors": .int(Int64(outcome.errors)),
            "client_cpu_us_per_request": .double(generatorMicrosecondsPerRequest),
        ]
    }
}

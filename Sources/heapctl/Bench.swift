import ArgumentParser
import Foundation
import HeapClient
import JSONRPC
import NIOCore

/// `heapctl bench`: load in the style of redis-benchmark. Each client is a thread with its own
/// connection that sends pre-encoded requests (`-P` at a time) and counts replies without
/// parsing them, so the load generator stays cheap; its CPU per request is printed so a slow
/// generator is visible.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the daemon: requests/s and latency percentiles per workload.",
        discussion: """
            Workloads: ping; refunref (ref then unref one object per client: the analogue of \
            Redis INCR); allocate (allocate then unref); set (set a field of the client's object).
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .short, help: "Clients (connections) at once.") var c: Int = 50
    @Option(name: .short, help: "Requests in all, per workload.") var n: Int = 100_000
    @Option(name: [.customShort("P")], help: "Requests pipelined per client.") var pipeline: Int = 1
    @Option(name: .short, help: "Workloads, comma-separated.") var t: String = "ping,refunref,allocate,set"
    @Option(help: "ndjson or lsp.") var framing: String = "ndjson"

    func validate() throws {
        guard c >= 1, n >= c, pipeline >= 1 else { throw ValidationError("need -c ≥ 1, -n ≥ -c, -P ≥ 1") }
        guard ["ndjson", "lsp"].contains(framing) else { throw ValidationError("--framing is ndjson or lsp") }
        for w in t.split(separator: ",") where !["ping", "refunref", "allocate", "set"].contains(String(w)) {
            throw ValidationError("unknown workload '\(w)'")
        }
    }

    func run() throws {
        let path = options.socketPath
        for workload in t.split(separator: ",").map(String.init) {
            let result = try runWorkload(workload, path: path)
            if options.json {
                output(JSONCodec.encodeString(result.json(workload)))
            } else {
                output(result.describe(workload, clients: c, pipeline: pipeline, framing: framing))
            }
        }
    }

    struct Result {
        var requests: Int
        var seconds: Double
        var latenciesMs: [Double]
        var errors: Int
        var cpuSeconds: Double

        func percentile(_ p: Double) -> Double {
            guard !latenciesMs.isEmpty else { return 0 }
            return latenciesMs[min(latenciesMs.count - 1, Int(Double(latenciesMs.count) * p))]
        }

        func describe(_ w: String, clients: Int, pipeline: Int, framing: String) -> String {
            let rps = Double(requests) / seconds
            return """
                \(w): \(requests) requests, \(clients) clients, pipeline \(pipeline), \(framing)
                  \(String(format: "%.0f", rps)) requests/s  p50 \(String(format: "%.3f", percentile(0.5))) ms  p99 \(String(format: "%.3f", percentile(0.99))) ms  max \(String(format: "%.3f", latenciesMs.last ?? 0)) ms
                  load generator CPU \(String(format: "%.2f", cpuSeconds / Double(requests) * 1e6)) µs/request\(errors > 0 ? "  ERRORS \(errors)" : "")
                """
        }

        func json(_ w: String) -> JSONValue {
            ["workload": .string(w), "requests": .int(Int64(requests)), "seconds": .double(seconds),
             "requests_per_s": .double(Double(requests) / seconds), "p50_ms": .double(percentile(0.5)),
             "p99_ms": .double(percentile(0.99)), "max_ms": .double(latenciesMs.last ?? 0),
             "errors": .int(Int64(errors)), "client_cpu_us_per_request": .double(cpuSeconds / Double(requests) * 1e6)]
        }
    }

    func runWorkload(_ workload: String, path: String) throws -> Result {
        let perClient = n / c
        let clients = try (0..<c).map { _ in try BenchClient(path: path, lsp: framing == "lsp") }
        // Per-client setup: an object of its own for refunref and set.
        var batches: [[UInt8]] = []
        var perBatchRequests = 0
        for client in clients {
            var requests: [JSONValue] = []
            switch workload {
            case "ping":
                requests = [req("ping", nil)]
            case "refunref", "set":
                let id = try client.call(req("allocate", ["type": "Bench"]))
                requests = workload == "refunref"
                    ? [req("ref", ["id": id]), req("unref", ["id": id])]
                    : [req("set", ["id": id, "fields": ["self": id]])]
            default:
                requests = [req("allocate", ["type": "Bench"])]
            }
            perBatchRequests = requests.count
            var batch: [UInt8] = []
            for _ in 0..<pipeline {
                for r in requests {
                    var buffer = ByteBuffer()
                    RPCFrameEncoder.frame(JSONCodec.encode(r), framing: framing == "lsp" ? .contentLength : .ndjson, into: &buffer)
                    batch += buffer.readableBytesView
                }
            }
            batches.append(batch)
        }
        // `allocate` leaves objects behind in each client's session: closing the connections at
        // the end frees them, as a benchmark client would.
        let repliesPerBatch = pipeline * perBatchRequests
        let rounds = max(1, perClient / repliesPerBatch)
        let cpu0 = cpuTime()
        let start = ContinuousClock.now
        let results = ConcurrentResults(count: c)
        let threads = (0..<c).map { i in
            Thread { [batches] in
                results.store(i, clients[i].drive(batch: batches[i], replies: repliesPerBatch, rounds: rounds))
            }
        }
        threads.forEach { $0.start() }
        results.waitAll()
        let elapsed = start.duration(to: .now)
        let cpu = cpuTime() - cpu0
        clients.forEach { $0.close() }
        var latencies: [Double] = []
        var errors = 0
        for r in results.all { latencies += r.latenciesMs; errors += r.errors }
        latencies.sort()
        return Result(requests: rounds * repliesPerBatch * c,
                      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                      latenciesMs: latencies, errors: errors, cpuSeconds: cpu)
    }

    func req(_ method: String, _ params: JSONValue?) -> JSONValue {
        RPCEnvelope.request(id: .number(1), method: method, params: params)
    }

    func cpuTime() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// Collects each client thread's measurements.
final class ConcurrentResults: @unchecked Sendable {
    struct One { var latenciesMs: [Double] = []; var errors = 0 }
    private let condition = NSCondition()
    private var results: [One?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func store(_ i: Int, _ r: One) {
        condition.lock()
        results[i] = r
        condition.broadcast()
        condition.unlock()
    }

    func waitAll() {
        condition.lock()
        while results.contains(where: { $0 == nil }) { condition.wait() }
        condition.unlock()
    }

    var all: [One] { results.compactMap { $0 } }
}

/// One benchmark connection on a raw socket.
final class BenchClient: @unchecked Sendable {
    let fd: Int32
    let lsp: Bool
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(path: String, lsp: Bool) throws {
        self.lsp = lsp
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            printError("cannot connect to heapd at \(path): \(String(cString: strerror(errno)))")
            throw ExitCode(3)
        }
    }

    func close() { Glibc.close(fd) }

    /// One request, one parsed reply (setup only): returns the result's `id`.
    func call(_ request: JSONValue) throws -> JSONValue {
        var out = ByteBuffer()
        RPCFrameEncoder.frame(JSONCodec.encode(request), framing: lsp ? .contentLength : .ndjson, into: &out)
        let bytes = Array(out.readableBytesView)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var decoder = RPCFrameDecoder(maximumMessageSize: 1 << 24, framing: lsp ? .contentLength : .ndjson)
        var inbound = ByteBuffer()
        while true {
            if case .message(let frame)? = decoder.next(from: &inbound) {
                let reply = try JSONCodec.parse(frame)
                guard let id = reply["result"]?["id"] else { throw ValidationError("setup failed: \(reply)") }
                return id
            }
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard got > 0 else { throw ValidationError("daemon closed the connection during setup") }
            inbound.writeBytes(buffer[0..<got])
        }
    }

    /// Sends `batch` and waits for `replies` replies, `rounds` times; replies are counted by
    /// their terminators, not parsed.
    func drive(batch: [UInt8], replies: Int, rounds: Int) -> ConcurrentResults.One {
        var result = ConcurrentResults.One()
        result.latenciesMs.reserveCapacity(rounds)
        let clock = ContinuousClock()
        let marker: [UInt8] = lsp ? Array("Content-Length".utf8) : [UInt8(ascii: "\n")]
        for _ in 0..<rounds {
            let t0 = clock.now
            var sent = 0
            while sent < batch.count {
                let n = batch.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return result }
                sent += n
            }
            var seen = 0
            var carry: [UInt8] = []
            while seen < replies {
                let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if got <= 0 { return result }
                let chunk = carry + buffer[0..<got]
                seen += count(marker, in: chunk)
                result.errors += count(Array("\"error\"".utf8), in: chunk)
                carry = Array(chunk.suffix(marker.count - 1))
            }
            let d = t0.duration(to: clock.now)
            result.latenciesMs.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        return result
    }

    private func count(_ needle: [UInt8], in hay: [UInt8]) -> Int {
        guard needle.count <= hay.count else { return 0 }
        var n = 0
        var i = 0
        let first = needle[0]
        while i <= hay.count - needle.count {
            if hay[i] == first && (needle.count == 1 || Array(hay[i..<i + needle.count]) == needle) {
                n += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        return n
    }
}

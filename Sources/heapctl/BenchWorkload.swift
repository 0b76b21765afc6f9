import HeapClient
import HeapProtocol
import JSONRPC
import JSONRPCNIO
import NIOCore

/// What one benchmark workload sends: per connection, a cycle of pre-encoded requests (sent in
/// order, `-P` at a time, forever round the cycle), and how many operations each request does.
struct BenchWorkload {
    let name: String
    let framing: ReplyFraming
    /// Per client: its requests, encoded and framed, in the order they repeat.
    let cycles: [[[UInt8]]]
    /// Heap operations per request (16 for `apply` with `--ops 16`; 1 otherwise).
    let operationsPerRequest: Int

    static let heapdNames = ["ping", "refunref", "allocate", "set", "apply"]
    static let redisNames = ["ping", "incr"]

    /// The rounds one connection sends, cycling: round j holds requests j*P ..< (j+1)*P of the
    /// repeated cycle, so a cycle of 2 (ref, unref) with an odd pipeline alternates two rounds.
    func rounds(client: Int, pipeline: Int) -> [[UInt8]] {
        let cycle = cycles[client]
        return (0..<cycle.count).map { j in
            (0..<pipeline).flatMap { k in cycle[(j * pipeline + k) % cycle.count] }
        }
    }

    /// heapd workloads; `setup` is an anonymous connection that owns each client's object for
    /// the run (so `refunref` never frees it).
    static func heapd(
        _ name: String, clients: Int, lsp: Bool, opsPerApply: Int,
        setup: HeapConnection
    ) throws -> BenchWorkload {
        let framing: Framing = lsp ? .contentLength : .ndjson
        func encode(_ method: String, _ params: JSONValue?) -> [UInt8] {
            var buffer = ByteBuffer()
            RPCFrameEncoder.frame(
                encoding: RPCEnvelope.request(id: .number(1), method: method, params: params),
                framing: framing, into: &buffer)
            return Array(buffer.readableBytesView)
        }
        var cycles: [[[UInt8]]] = []
        for _ in 0..<clients {
            switch name {
            case "ping":
                cycles.append([encode("ping", nil)])
            case "allocate":
                // Each client's session holds what it allocated until the run ends and its
                // connection closes (a plain request cannot name the id it is about to get).
                cycles.append([encode("allocate", ["type": "Bench"])])
            default:
                let id = try setup.call(AllocateRequest.name, ["type": "Bench"])["id"]!
                switch name {
                case "refunref":
                    cycles.append([encode("ref", ["id": id]), encode("unref", ["id": id])])
                case "set":
                    // Points a field at a second object (re-setting it each time): no cycle,
                    // so both go when the run ends.
                    let target = try setup.call(AllocateRequest.name, ["type": "Bench"])["id"]!
                    cycles.append([encode("set", ["id": id, "fields": ["next": target]])])
                default:
                    let pairs = (0..<opsPerApply).map { k -> JSONValue in
                        .array([.string(k % 2 == 0 ? "ref" : "unref"), id])
                    }
                    cycles.append([encode("apply", ["ops": .array(pairs)])])
                }
            }
        }
        return BenchWorkload(
            name: name, framing: lsp ? .contentLength : .ndjson, cycles: cycles,
            operationsPerRequest: name == "apply" ? opsPerApply : 1)
    }

    /// Redis workloads, as redis-benchmark sends them (RESP arrays; one shared INCR key).
    static func redis(_ name: String, clients: Int) -> BenchWorkload {
        func resp(_ words: [String]) -> [UInt8] {
            var out = "*\(words.count)\r\n"
            for w in words { out += "$\(w.utf8.count)\r\n\(w)\r\n" }
            return Array(out.utf8)
        }
        let request = name == "ping" ? resp(["PING"]) : resp(["INCR", "key:__rand_int__"])
        return BenchWorkload(
            name: name, framing: .resp, cycles: Array(repeating: [request], count: clients),
            operationsPerRequest: 1)
    }
}

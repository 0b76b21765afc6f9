import HeapCore
import HeapProtocol
import HeapServerTesting
import JSONRPC
import XCTest

@testable import HeapServer

/// The real connection pipeline (framing, parsing, typed decoding, the heap's owner, reply
/// encoding) on EmbeddedChannels.
final class PipelineTests: XCTestCase {
    func testEveryMethodHasAHandler() {
        XCTAssertEqual(ServerMethods.unhandled, [])
        XCTAssertEqual(Set(ServerMethods.decoders.keys), Set(HeapMethods.names))
    }

    /// `Sources/HeapProtocol/Methods` holds one file per method, named after its type, and
    /// declaring that method's name.
    func testOneFilePerMethod() throws {
        let methods = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/HeapProtocol/Methods").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: methods.path).filter { $0.hasSuffix(".swift") }
        var declared: [String: String] = [:]
        for file in files {
            let text = try String(contentsOf: methods.appendingPathComponent(file), encoding: .utf8)
            let names = text.split(separator: "\n").filter { $0.contains("public static let name = \"") }
            XCTAssertEqual(names.count, 1, "\(file) declares one method")
            let name = names.first.map { $0.split(separator: "\"")[1] }.map(String.init) ?? ""
            declared[name] = file
            XCTAssertTrue(
                text.contains("public struct \(file.dropLast(6)):"), "\(file) holds the type it is named after")
        }
        XCTAssertEqual(Set(declared.keys), Set(HeapMethods.names))
        XCTAssertEqual(files.count, HeapMethods.all.count)
    }

    func testEventsPrecedeTheReplyOfTheRequestThatCausedThem() throws {
        let service = EmbeddedConnection.service()
        let client = try EmbeddedConnection(service)
        _ = try client.call("subscribe", ["events": ["finalize", "freed"]])
        let id = try client.result("allocate", ["type": "P", "finalizer": true])!["id"]!
        let messages = try client.call("unref", ["id": id])
        XCTAssertEqual(messages.map { $0["method"]?.stringValue ?? "reply" }, ["finalize", "freed", "reply"])
        XCTAssertEqual(messages.last?["result"]?["freed"], .array([id]))
        client.close()
    }

    func testSetReturnsTheObjectAsGetShowsIt() throws {
        let client = try EmbeddedConnection(EmbeddedConnection.service())
        let target = try client.result("allocate", ["type": "T"])!["id"]!
        let weak = try client.result("weakref", ["id": target, "callback": true])!["id"]!
        var set = try client.result("set", ["id": weak, "fields": ["x": target], "data": ["k": 1]])!
        let get = try client.result("get", ["id": weak])!
        XCTAssertEqual(set["freed"], .array([]))
        if case .object(let members) = set { set = .object(members.filter { $0.0 != "freed" }) }
        XCTAssertEqual(set, get)
        XCTAssertEqual(get["referent"], target)
        client.close()
    }

    /// A subscriber that never reads is cut off at its outbox's limit, on its own event loop,
    /// after the heap's lock is released: the daemon stays up (issue 15's first crash).
    func testASubscriberThatDoesNotReadIsClosedNotTheDaemon() throws {
        let service = EmbeddedConnection.service()
        let reader = try EmbeddedConnection(service)
        _ = try reader.call("subscribe", ["events": ["*"]])
        reader.channel.isWritable = false
        reader.channel.pipeline.fireChannelWritabilityChanged()
        let writer = try EmbeddedConnection(service)
        // Each round: a scope whose exit frees 200 finalizer objects with 1,000-byte type names,
        // so the reader's outbox grows by about 200 KiB of finalize events per round.
        let type = String(repeating: "T", count: 1000)
        let allocate = #"{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"\#(type)","finalizer":true}}"#
        let round =
            "["
            + ([#"{"jsonrpc":"2.0","id":0,"method":"scope.enter"}"#]
            + Array(repeating: allocate, count: 200) + [#"{"jsonrpc":"2.0","id":2,"method":"scope.exit"}"#])
            .joined(separator: ",") + "]\n"
        var rounds = 0
        while reader.channel.isActive, rounds < 200 {
            try writer.send(round)
            XCTAssertEqual(try writer.received().count, 1, "one batch reply")
            reader.channel.embeddedEventLoop.run()  // the reader's own loop acts on the signal
            rounds += 1
        }
        XCTAssertFalse(reader.channel.isActive, "closed after \(rounds) rounds")
        XCTAssertEqual(try writer.result("check")?["ok"], true)
        writer.close()
    }

    /// While the peer does not read, frames already read wait instead of piling up replies.
    func testPipelinedRequestsWaitWhileThePeerDoesNotRead() throws {
        let service = EmbeddedConnection.service()
        let client = try EmbeddedConnection(service)
        let observer = try EmbeddedConnection(service)
        client.channel.isWritable = false
        client.channel.pipeline.fireChannelWritabilityChanged()
        let requests = (1...50).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"allocate","params":{"type":"W"}}"# }
        try client.send(requests.joined(separator: "\n") + "\n")
        XCTAssertEqual(try observer.result("stats")?["objects"], 0, "nothing ran")
        client.channel.isWritable = true
        client.channel.pipeline.fireChannelWritabilityChanged()
        XCTAssertEqual(try client.received().count, 50)
        XCTAssertEqual(try observer.result("stats")?["objects"], 50)
        client.close()
        observer.close()
    }
}

/// Object data nests at most `ParamsReader.maximumDataDepth` deep, so that every reply that
/// embeds it, a batch's included, parses back with Jansson's 2048-level limit (issue 15).
final class DataDepthTests: XCTestCase {
    private func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    func testTheDeepestDataAcceptedComesBackInABatchReply() throws {
        let client = try EmbeddedConnection(EmbeddedConnection.service())
        let depth = ParamsReader.maximumDataDepth
        try client.send(
            #"{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"D","data":\#(nested(depth))}}"# + "\n")
        let id = try XCTUnwrap(client.received().last?["result"]?["id"]?.intValue)
        try client.send(#"[{"jsonrpc":"2.0","id":2,"method":"get","params":{"id":\#(id)}}]"# + "\n")
        let replies = try client.received()  // parsed by Jansson: throws if too deep
        XCTAssertEqual(replies.count, 1)
        XCTAssertNotNil(replies.first?[0]?["result"]?["data"])

        try client.send(
            #"{"jsonrpc":"2.0","id":3,"method":"allocate","params":{"type":"D","data":\#(nested(depth + 1))}}"# + "\n")
        let error = try client.received().last?["error"]
        XCTAssertEqual(error?["code"], -32602)
        XCTAssertEqual(error?["message"]?.stringValue, "params.data: nested \(depth + 1) levels deep, at most \(depth)")
        client.close()
    }
}

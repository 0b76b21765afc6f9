import Foundation
import HeapCore
import HeapProtocol
import JSONRPC
import XCTest

@testable import HeapServer

/// A deferred method, called as the service calls it (through `any ServerMethod`), leaves its
/// slow half for after the lock: `execute` must return a `PendingResult`, not the finished
/// result (a regression once ran the whole diff inside the heap's lock).
final class DeferredMethodTests: XCTestCase {
    func testDeferredMethodsLeaveTheirSlowHalfForAfterTheLock() throws {
        JSONCodec.bootstrap()
        var state = ServerState(heap: Heap())
        let connection = try state.connect(outbox: Outbox(), framing: .ndjson)
        let environment = ServerEnvironment(openRPCDocument: [], started: .now)
        var request = RequestContext(
            connection: connection, session: state.connections[connection]!.session, environment: environment,
            events: HeapEvents())
        func execute(_ method: String, _ params: String) throws -> any HeapResult {
            let bytes = Array(params.utf8)
            let decoded = try bytes.withUnsafeBytes { raw in
                try JSONCodec.withParsed(raw) { root in try ServerMethods.decode(method: method, params: root) }
            }
            return try decoded.execute(&state, &request)
        }
        let saved = try execute("snapshot.save", #"{"name":"a"}"#)
        XCTAssertTrue(saved is PendingResult, "snapshot.save stores its census after the lock")
        XCTAssertTrue(environment.snapshots.list().isEmpty, "nothing is stored before the second half runs")
        guard case .success = (saved as! PendingResult).outcome() else { return XCTFail("save failed") }
        XCTAssertEqual(environment.snapshots.list().map(\.name), ["a"])
        XCTAssertTrue(try execute("snapshot.diff", #"{"from":"a"}"#) is PendingResult)
        XCTAssertFalse(try execute("ping", "{}") is PendingResult)
    }

    /// The fuzzer's server writes no files, whatever path a random input names.
    func testAServerThatWritesNoFilesRefusesAnExportPath() throws {
        JSONCodec.bootstrap()
        var state = ServerState(heap: Heap())
        let connection = try state.connect(outbox: Outbox(), framing: .ndjson)
        let environment = ServerEnvironment(openRPCDocument: [], started: .now, writesFiles: false)
        var request = RequestContext(
            connection: connection, session: state.connections[connection]!.session, environment: environment,
            events: HeapEvents())
        let path = NSTemporaryDirectory() + "heapd-fuzz-export-\(UInt64.random(in: 0...UInt64.max)).heapsnapshot"
        let params = Array(#"{"format":"heapsnapshot","path":"\#(path)"}"#.utf8)
        let method = try params.withUnsafeBytes { raw in
            try JSONCodec.withParsed(raw) { root in try ServerMethods.decode(method: "export", params: root) }
        }
        XCTAssertThrowsError(try method.execute(&state, &request)) { error in
            XCTAssertEqual((error as? RPCError)?.code, .invalidParams)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}


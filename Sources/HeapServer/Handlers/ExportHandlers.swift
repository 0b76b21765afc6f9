import HeapCore
import HeapProtocol
import JSONRPC

// `export` (SPEC §5): inside the heap's lock only the export view is taken (O(objects + fields));
// the text is written after the lock is released, in 1 MiB chunks, to the file or (small
// snapshots only) into the reply.

extension ExportRequest: DeferredServerMethod {
    func prepare(
        _ server: inout ServerState, _ request: inout RequestContext
    ) throws -> @Sendable () throws -> Result {
        if path != nil && !request.environment.writesFiles {
            throw RPCError(code: .invalidParams, message: "params.path: this server writes no files (a test harness)")
        }
        let view = server.heap.exportView()
        let path = self.path
        return {
            var encoder = HeapSnapshotEncoder(view)
            guard let path else { return .inline(try Self.inlineText(&encoder)) }
            let file = try ExportFile(path: path)
            let bytes = try encoder.encode { chunk throws(RPCError) in try file.write(chunk) }
            try file.commit()
            return .file(path: path, bytes: bytes, nodes: view.nodeCount, edges: view.edgeCount)
        }
    }

    /// The text, refused past ``ExportRequest/inlineLimit`` (found while encoding: no more than
    /// the limit plus one chunk is ever held).
    private static func inlineText(_ encoder: inout HeapSnapshotEncoder) throws(RPCError) -> [UInt8] {
        var text: [UInt8] = []
        do {
            try encoder.encode { chunk in
                guard text.count + chunk.count <= inlineLimit else { throw InlineTooLarge() }
                text.append(contentsOf: chunk)
            }
        } catch {
            throw RPCError(
                code: .invalidParams,
                message: "params.path: missing, and the snapshot is over \(inlineLimit) bytes, too large "
                    + "to answer inline; pass an absolute path for the daemon to write it to",
                data: ["limit": .int(Int64(inlineLimit))])
        }
        return text
    }
}

private struct InlineTooLarge: Error {}

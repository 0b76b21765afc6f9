import HeapProtocol
import JSONRPC
import JSONRPCNIO
import NIOCore

/// Writes typed replies as JSON-RPC responses, straight from the results into Jansson trees and
/// from those into the connection's output buffer (no `JSONValue` step).
enum ReplyEncoder {
    /// The reply to one frame: one response, or for a batch an array of them (nothing when every
    /// request of the batch was a notification).
    static func frame(_ replies: [Reply], isBatch: Bool, framing: Framing, into buffer: inout ByteBuffer) {
        if isBatch {
            guard !replies.isEmpty else { return }
            let document = JSONDocument(array: { a in
                for reply in replies { a.appendObject { write(reply, to: $0) } }
            })
            RPCFrameEncoder.frame(document, framing: framing, into: &buffer)
        } else if let reply = replies.first {
            RPCFrameEncoder.frame(JSONDocument(object: { write(reply, to: $0) }), framing: framing, into: &buffer)
        }
    }

    /// One error response (for a frame that could not be parsed or was too large).
    static func frame(error: RPCError, id: RPCID, framing: Framing, into buffer: inout ByteBuffer) {
        frame([Reply(id: id, outcome: .failure(error))], isBatch: false, framing: framing, into: &buffer)
    }

    static func write(_ reply: Reply, to o: JSONObjectWriter) {
        o.set("jsonrpc", RPCEnvelope.version)
        o.set("id", reply.id)
        switch reply.outcome {
        case .success(let result):
            if let encoded = result.encodedJSON {
                o.set("result", rawJSON: encoded)
            } else {
                o.object("result") { result.write(to: $0) }
            }
        case .failure(let error):
            o.object("error") { error.write(to: $0) }
        }
    }
}

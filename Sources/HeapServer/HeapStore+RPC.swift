import HeapProtocol
import HeapStore
import JSONRPC

extension HeapStore.DiskFull: RPCErrorConvertible {
    /// -32012: the change was refused before it was applied; nothing changed.
    public var rpcError: RPCError {
        RPCError(
            code: .diskFull,
            message: "the disk is full: changes are refused until space returns (reads still work): \(description)")
    }
}

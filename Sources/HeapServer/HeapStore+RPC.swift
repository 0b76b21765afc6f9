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

extension SnapshotCatalog.Failure: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .badName(let name):
            RPCError(code: .invalidParams, message: "params.name: \(name) is not a snapshot name")
        case .noSuchSnapshot(let name):
            RPCError(code: .noSuchSnapshot, message: "no snapshot named \(name) (snapshot.list shows them)")
        case .full(let limit):
            RPCError(code: .quotaExceeded, message: "\(limit) snapshots are saved already: delete one first")
        case .io(let what, noSpace: true):
            RPCError(code: .diskFull, message: "the disk is full: the snapshot was not saved: \(what)")
        case .io(let what, noSpace: false):
            RPCError(code: .internalError, message: "the snapshot could not be stored: \(what)")
        case .damaged(let path, let reason):
            RPCError(code: .internalError, message: "snapshot file \(path) is damaged (\(reason)): delete the snapshot")
        }
    }
}

/// Why a heap operation was refused. A refused operation changed nothing.
public enum HeapError: Error, Equatable, Sendable {
    public enum Absence: String, Sendable { case freed, neverExisted = "never-existed" }

    case noSuchObject(ObjectID, Absence)
    case referenceNotHeld(ObjectID)
    case quotaExceeded(String)
    case noSuchSession(String)
    case sessionConflict(String)
    case scope(String)
    case noSuchRoot(String)
    /// A parameter that the core itself checks (the message names it).
    case invalidArgument(String)
    /// The change was refused before it was applied: its journal record would not reach the
    /// disk (full, or failing). Nothing changed; changes resume by themselves.
    case diskFull(String)
    /// An atomic `apply` batch refused as a whole because op `op` (named `name`) would fail.
    indirect case batchOpFailed(op: Int, name: String, HeapError)

    public var message: String {
        switch self {
        case .noSuchObject(let id, .freed): return "object \(id) was freed"
        case .noSuchObject(let id, .neverExisted): return "object \(id) does not exist"
        case .referenceNotHeld(let id): return "this session holds no reference to object \(id)"
        case .quotaExceeded(let m), .noSuchSession(let m), .sessionConflict(let m), .scope(let m),
             .invalidArgument(let m):
            return m
        case .diskFull(let reason):
            return "the disk is full: changes are refused until space returns (reads still work): \(reason)"
        case .noSuchRoot(let name): return "no root named '\(name)'"
        case .batchOpFailed(let op, let name, let error): return "ops[\(op)] (\(name)): \(error.message)"
        }
    }
}

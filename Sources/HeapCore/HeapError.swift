/// Why a heap operation was refused. A refused operation changed nothing.
///
/// Each case carries values, not sentences: the wire's wording (code, message naming the
/// parameter, `data`) is written once, at the protocol edge. `description` is a short text for
/// logs and tests.
public enum HeapError: Error, Equatable, Sendable {
    public enum Absence: String, Sendable { case freed, neverExisted = "never-existed" }

    // MARK: what an operation names
    case noSuchObject(ObjectID, Absence)
    case referenceNotHeld(ObjectID)
    case noSuchRoot(String)
    /// `set` deleted (null) field `field`, which the object does not have. As CPython 3.11's
    /// failed `del obj.field`, the name is still interned in the type's shared keys (or the
    /// object gets its own dict when the name no longer fits); nothing else changed.
    case noSuchField(ObjectID, field: String)

    // MARK: arguments the core itself checks
    case emptyTypeName
    /// Objects of type `weakref` are made by `weakref`, not `allocate`.
    case weakrefTypeReserved
    case emptyFieldName
    case emptyRootName
    /// A field name longer than `limit` UTF-8 bytes.
    case fieldNameTooLong(limit: Int)
    /// More fields in one request than an object can have.
    case tooManyFields(limit: Int)
    case generationOutOfRange(Int)
    /// `gc.set_threshold` takes 1 to 3 values.
    case thresholdCount(Int)
    case thresholdOutOfRange(index: Int, value: Int)
    case leaseOutOfRange(Double)
    /// `$k` in op `op` of a batch names an op at or after it.
    case batchForwardReference(op: Int, target: Int)
    /// `$k` names an op that produces no object id (op `target`, named `name`).
    case batchTargetNotAnObject(op: Int, target: Int, name: String)
    /// `$k` names an op that failed.
    case batchTargetFailed(op: Int, target: Int, name: String)

    // MARK: limits
    /// The heap holds `live` objects, its limit.
    case objectQuota(limit: Int, live: Int)
    /// `adding` more bytes to a heap of `total` would pass `limit`.
    case byteQuota(limit: UInt64, total: UInt64, adding: UInt64)
    /// An object size past `HeapLimits.maxObjectSize` (2^53 - 1, what JSON carries exactly).
    case sizeUnrepresentable(UInt64)
    /// The heap's byte total would pass UInt64.max.
    case bytesUnrepresentable(total: UInt64, adding: UInt64)
    case refcountLimit(ObjectID)
    /// The object has `FieldPool.maxFields` fields already.
    case fieldLimit(ObjectID)
    case rootQuota(limit: Int)
    case sessionQuota(limit: Int)

    // MARK: sessions and scopes
    case sessionExists(String)
    case sessionClosed(SessionID)
    case scopeTooDeep(limit: Int)
    case noScopeToExit

    /// An atomic `apply` batch refused as a whole because op `op` (named `name`) would fail.
    indirect case batchOpFailed(op: Int, name: String, HeapError)
}

extension HeapError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .noSuchObject(let id, .freed): return "object \(id) was freed"
        case .noSuchObject(let id, .neverExisted): return "object \(id) does not exist"
        case .referenceNotHeld(let id): return "this session holds no reference to object \(id)"
        case .noSuchRoot(let name): return "no root named '\(name)'"
        case .noSuchField(let id, let field): return "object \(id) has no field '\(field)'"
        case .emptyTypeName: return "empty type name"
        case .weakrefTypeReserved: return "type 'weakref' is reserved"
        case .emptyFieldName: return "empty field name"
        case .emptyRootName: return "empty root name"
        case .fieldNameTooLong(let limit): return "field name longer than \(limit) bytes"
        case .tooManyFields(let limit): return "more than \(limit) fields"
        case .generationOutOfRange(let g): return "generation \(g) out of range"
        case .thresholdCount(let n): return "\(n) thresholds"
        case .thresholdOutOfRange(let i, let v): return "threshold[\(i)] = \(v) out of range"
        case .leaseOutOfRange(let s): return "lease \(s) s out of range"
        case .batchForwardReference(let op, let target): return "op \(op) names later op $\(target)"
        case .batchTargetNotAnObject(let op, let target, _): return "op \(op) names id-less op $\(target)"
        case .batchTargetFailed(let op, let target, _): return "op \(op) names failed op $\(target)"
        case .objectQuota(let limit, _): return "object quota \(limit)"
        case .byteQuota(let limit, let total, let adding): return "byte quota \(limit): \(total) + \(adding)"
        case .sizeUnrepresentable(let n): return "size \(n) unrepresentable"
        case .bytesUnrepresentable(let total, let adding): return "byte total \(total) + \(adding) unrepresentable"
        case .refcountLimit(let id): return "object \(id) at its refcount limit"
        case .fieldLimit(let id): return "object \(id) at its field limit"
        case .rootQuota(let limit): return "root quota \(limit)"
        case .sessionQuota(let limit): return "session quota \(limit)"
        case .sessionExists(let name): return "session '\(name)' exists"
        case .sessionClosed(let id): return "session \(id) closed"
        case .scopeTooDeep(let limit): return "scopes deeper than \(limit)"
        case .noScopeToExit: return "no scope to exit"
        case .batchOpFailed(let op, let name, let error): return "ops[\(op)] (\(name)): \(error)"
        }
    }
}

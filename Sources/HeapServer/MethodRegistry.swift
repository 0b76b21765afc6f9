import HeapCore
import JSONRPC

/// Every method the server answers, mapped to its params decoder. The one place to add a method
/// (then: its case in `HeapRequest`, its branch in `Dispatcher`, its entry in the OpenRPC document).
enum MethodRegistry {
    typealias Decoder = @Sendable (ParamsReader) throws(RPCError) -> HeapRequest

    static let decoders: [String: Decoder] = [
        "allocate": { p throws(RPCError) in
            .allocate(AllocationSpec(type: try p.string("type"), size: try p.optionalSize("size"),
                                     data: p.encoded("data"), fields: try p.fieldTargets("fields"),
                                     finalizer: try p.optionalBool("finalizer") ?? false))
        },
        "ref": { p throws(RPCError) in .ref(try p.objectID("id")) },
        "unref": { p throws(RPCError) in .unref(try p.objectID("id")) },
        "set": { p throws(RPCError) in
            .set(try p.objectID("id"), fields: try p.optionalFieldTargets("fields"),
                 data: p.has("data") ? .some(p.encodedOrNull("data")) : nil, size: try p.optionalSize("size"))
        },
        "get": { p throws(RPCError) in .get(try p.objectID("id")) },
        "weakref": { p throws(RPCError) in
            .weakref(try p.objectID("id"), callback: try p.optionalBool("callback") ?? false,
                     fields: try p.fieldTargets("fields"))
        },
        "apply": { p throws(RPCError) in .apply(try p.batchOps("ops"), atomic: try p.optionalBool("atomic") ?? false) },
        "collect": { p throws(RPCError) in .collect(generation: try p.optionalGeneration("generation") ?? 2) },
        "inspect": { p throws(RPCError) in .inspect(try p.objectID("id")) },
        "stats": { _ throws(RPCError) in .stats },
        "subscribe": { p throws(RPCError) in .subscribe(try p.eventKinds("events") ?? []) },
        "unsubscribe": { p throws(RPCError) in .unsubscribe(try p.eventKinds("events")) },
        "root.set": { p throws(RPCError) in .rootSet(name: try p.string("name"), id: try p.nullableObjectID("id")) },
        "root.get": { p throws(RPCError) in .rootGet(name: try p.string("name")) },
        "root.list": { _ throws(RPCError) in .rootList },
        "session.open": { p throws(RPCError) in
            .sessionOpen(name: try p.string("name"), leaseSeconds: try p.optionalSeconds("lease_s"))
        },
        "session.close": { p throws(RPCError) in .sessionClose(name: try p.optionalString("name")) },
        "session.list": { _ throws(RPCError) in .sessionList },
        "scope.enter": { _ throws(RPCError) in .scopeEnter },
        "scope.exit": { _ throws(RPCError) in .scopeExit },
        "gc.get": { _ throws(RPCError) in .gcGet },
        "gc.set": { p throws(RPCError) in
            .gcSet(enabled: try p.optionalBool("enabled"), threshold: try p.optionalThresholds("threshold"),
                   debug: try p.optionalDebugFlags("debug"))
        },
        "gc.freeze": { _ throws(RPCError) in .gcFreeze },
        "gc.unfreeze": { _ throws(RPCError) in .gcUnfreeze },
        "gc.garbage.clear": { _ throws(RPCError) in .gcGarbageClear },
        "referrers": { p throws(RPCError) in .referrers(try p.objectID("id")) },
        "referents": { p throws(RPCError) in .referents(try p.objectID("id")) },
        "objects": { p throws(RPCError) in
            .objects(ObjectFilter(generation: try p.optionalGenerationOrPermanent("generation"),
                                  type: try p.optionalString("type"),
                                  after: try p.nullableObjectID("after"),
                                  limit: try p.optionalLimit("limit") ?? 1000))
        },
        "check": { _ throws(RPCError) in .check },
        "ping": { _ throws(RPCError) in .ping },
        "shutdown": { _ throws(RPCError) in .shutdown },
        "rpc.discover": { _ throws(RPCError) in .discover },
    ]

    static var methodNames: [String] { decoders.keys.sorted() }

    /// Decodes one request's params; unknown methods and bad params become RPC errors.
    static func decode(method: String, params: JanssonNode?) throws(RPCError) -> HeapRequest {
        guard let decoder = decoders[method] else { throw .methodNotFound(method) }
        return try decoder(try ParamsReader(params))
    }
}

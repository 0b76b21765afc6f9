import HeapCore
import HeapProtocol

extension AllocateRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(id: try server.allocate(spec, session: request.session, &request.events))
    }
}

extension RefRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(id: id, refcount: try server.ref(id, session: request.session))
    }
}

extension UnrefRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let refcount = try server.unref(id, session: request.session, &request.events)
        return Result(id: id, refcount: refcount, freed: FreedObjects(request.events))
    }
}

extension SetRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let refcount = try server.set(id, fields: fields, data: data, size: size, &request.events)
        let freed = FreedObjects(request.events)
        guard refcount > 0 else { return .freedItself(id, freed: freed) }
        return .changed(ObjectState(try server.heap.snapshot(id)), freed: freed)
    }
}

extension GetRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        ObjectState(try server.heap.snapshot(id))
    }
}

extension WeakrefRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let id = try server.weakref(
            to: referent, callback: callback, fields: fields, session: request.session,
            &request.events)
        return Result(id: id)
    }
}

extension ApplyRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let outcome = try server.applyBatch(ops, atomic: atomic, session: request.session, &request.events)
        if let broken = outcome.brokenPrediction {
            // A dry-run bug (logged through the events): the ops before it were applied.
            var error = HeapError.batchOpFailed(op: broken.op, name: ops[broken.op].name, broken.error).rpcError
            if case .object(var data)? = error.data {
                data.append(("applied", .int(Int64(broken.op))))
                error.data = .object(data)
            }
            throw error
        }
        let results: [Result.Entry] = outcome.results.map {
            switch $0 {
            case .object(let id): return .object(id)
            case .refcount(let n): return .refcount(n)
            case .failed(let error): return .failed(error.rpcError)
            }
        }
        return Result(results: results, errors: outcome.failures, freed: outcome.freed)
    }
}

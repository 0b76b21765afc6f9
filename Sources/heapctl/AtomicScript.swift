import ArgumentParser
import HeapClient
import HeapProtocol
import JSONRPC

/// `heapctl script --atomic`: the script's lines become the ops of one `apply` with
/// `atomic: true`, so the heap sees all of them or none. Each line is parsed by heapctl's own
/// parser and then translated; a variable bound in the script names its op's result (`"$k"`).
struct AtomicScript {
    let lines: [ShellLine]
    let options: GlobalOptions

    /// Ids from 2^53 up cannot name an object (the protocol's ids stay below), so a variable
    /// expands to `opReferenceBase + k` to pass the parser's integer arguments, and the
    /// translation turns it back into `"$k"`.
    static let opReferenceBase: Int64 = 1 << 53

    private var ops: [JSONValue] = []
    /// The script line (1-based) of each op, to name the line a failing op came from.
    private var opLines: [Int] = []
    private var variables: [String: String] = [:]

    init(lines: [ShellLine], options: GlobalOptions) {
        self.lines = lines
        self.options = options
    }

    func run(on connection: HeapConnection) throws {
        var script = self
        for (i, line) in lines.enumerated() {
            if line.body == .leave { break }
            do { try script.translate(line, number: i + 1) } catch let error as ValidationError {
                printError("line \(i + 1): \(error.message)")
                throw ExitCode(64)
            }
        }
        guard !script.ops.isEmpty else { return }
        let result: JSONValue
        do {
            result = try connection.call(ApplyRequest.name, ["ops": .array(script.ops), "atomic": true])
        } catch .rpc(let e) {
            let op = e.data?["op"]?.intValue.map { Int($0) }
            let line = op.flatMap { $0 < script.opLines.count ? script.opLines[$0] : nil }
            printError("\(line.map { "line \($0): " } ?? "")error \(e.code.rawValue): \(e.message)")
            if options.json { output(JSONCodec.encodeString(["error": e.json])) }
            throw ExitCode(1)
        } catch { throw options.exit(for: error) }
        let names = script.ops.map { $0[0]?.stringValue ?? "?" }
        output(options.json ? Pretty.json(result) : Apply.render(result, names: names))
    }

    private mutating func translate(_ line: ShellLine, number: Int) throws {
        let text: String
        switch line.body {
        case .nothing, .leave: return
        case .raw: throw ValidationError("--atomic takes heapctl commands, not raw calls")
        case .command(let t): text = t
        }
        let words: [String]
        do { words = try LineTokenizer(variables: variables).words(text) } catch {
            throw ValidationError(error.description)
        }
        let command: ParsableCommand
        do { command = try Heapctl.parseAsRoot(words) } catch {
            throw ValidationError(Heapctl.fullMessage(for: error))
        }
        let first = ops.count
        var produced: Int?
        switch command {
        case let c as Allocate:
            guard c.data == nil, !c.finalizer else {
                throw ValidationError("allocate --data and --finalizer cannot run in an atomic apply")
            }
            produced = add(["alloc", .string(c.type)] + (c.size.map { [.int(Int64($0))] } ?? []))
            try addSets(.string("$\(first)"), parseFields(c.fields, allowNull: false))
        case let c as Ref: add(["ref", Self.target(c.id)])
        case let c as Unref: add(["unref", Self.target(c.id)])
        case let c as SetFields:
            guard c.data == nil, c.size == nil, !c.fields.isEmpty else {
                throw ValidationError("set takes only FIELD=ID (or FIELD=null) in an atomic apply")
            }
            try addSets(Self.target(c.id), parseFields(c.fields, allowNull: true))
        case let c as Weakref:
            guard c.fields.isEmpty else { throw ValidationError("weakref fields cannot be set in an atomic apply") }
            produced = add(["weakref", Self.target(c.id), .bool(c.callback)])
        default:
            throw ValidationError(
                "`\(words.first ?? "")` cannot run in an atomic apply (only allocate, ref, unref, set, weakref)")
        }
        opLines += Array(repeating: number, count: ops.count - first)
        if let name = line.binding {
            guard let k = produced else { throw ValidationError("cannot bind $\(name): the line makes no object") }
            variables[name] = String(Self.opReferenceBase + Int64(k))
        }
    }

    @discardableResult
    private mutating func add(_ op: [JSONValue]) -> Int {
        ops.append(.array(op))
        return ops.count - 1
    }

    private mutating func addSets(_ object: JSONValue, _ fields: JSONValue) throws {
        guard case .object(let members) = fields else { return }
        for (name, value) in members {
            add(["set", object, .string(name), value.intValue.map { Self.target($0) } ?? .null])
        }
    }

    /// An id argument: a real id, or an earlier op's result (`"$k"`).
    static func target(_ id: Int64) -> JSONValue {
        id >= opReferenceBase ? .string("$\(id - opReferenceBase)") : .int(id)
    }
}

import JSONRPC

/// One JSON-RPC method of heapd: its name, its params (decoded from the parsed tree on the
/// connection's thread, with errors that name the parameter), and its typed result. Each method
/// is one file in `Methods/`, with its contract in `///`; ``HeapMethods/all`` lists them.
///
/// The server runs a decoded method inside the heap's lock and encodes the result outside it;
/// clients build `params` from the same type.
public protocol HeapMethod: Sendable {
    associatedtype Result: HeapResult

    /// The method's name on the wire (`"session.open"`).
    static var name: String { get }

    /// Decodes the params of a request; unknown members are ignored.
    init(params: ParamsReader) throws(RPCError)

    /// The params as a client sends them (nil: none).
    var params: JSONValue? { get }
}

extension HeapMethod {
    public var params: JSONValue? { nil }
}

/// A method that takes no params (`stats`, `ping`, ...).
public protocol ParameterlessHeapMethod: HeapMethod {
    init()
}

extension ParameterlessHeapMethod {
    public init(params: ParamsReader) throws(RPCError) { self.init() }
}

/// What a method answers: written member by member into the reply's `result` object, straight
/// into Jansson (no ``JSONValue`` step on the request path).
public protocol HeapResult: Sendable {
    func write(to result: JSONObjectWriter)

    /// The result as encoded JSON text, for results kept that way (nil: use `write(to:)`).
    var encodedJSON: [UInt8]? { get }
}

extension HeapResult {
    public var encodedJSON: [UInt8]? { nil }
}

/// A result that is already encoded JSON text (`rpc.discover`'s document).
public protocol EncodedHeapResult: HeapResult {
    var json: [UInt8] { get }
}

extension EncodedHeapResult {
    public func write(to result: JSONObjectWriter) {}
    public var encodedJSON: [UInt8]? { json }
}

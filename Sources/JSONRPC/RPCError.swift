/// A JSON-RPC error object: what a failed request replies with, and what clients get back.
///
/// Thrown by method handlers; the server turns it into an error response carrying the request's
/// id. Messages are for humans and should name what was wrong (`"id" must be an integer`).
public struct RPCError: Error, Sendable, Equatable {
    public var code: RPCErrorCode
    public var message: String
    /// Optional structured detail, sent as the error's `data` member when present.
    public var data: JSONValue?

    public init(code: RPCErrorCode, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func invalidParams(_ message: String) -> RPCError {
        RPCError(code: .invalidParams, message: message)
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: .methodNotFound, message: "method '\(method)' not found")
    }

    public static func invalidRequest(_ message: String) -> RPCError {
        RPCError(code: .invalidRequest, message: message)
    }

    public static func parseError(_ message: String) -> RPCError {
        RPCError(code: .parseError, message: message)
    }

    public static func internalError(_ message: String) -> RPCError {
        RPCError(code: .internalError, message: message)
    }

    /// The error object as sent: `{"code":…,"message":…}` plus `"data"` when set.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("code", .int(Int64(code.rawValue))), ("message", .string(message))]
        if let data { members.append(("data", data)) }
        return .object(members)
    }

    /// Reads an error object from a reply; `nil` unless `code` is an integer and `message` a
    /// string, as JSON-RPC 2.0 requires.
    public init?(json: JSONValue) {
        guard let code = json["code"]?.intValue, let message = json["message"]?.stringValue,
            let rawCode = Int(exactly: code)
        else { return nil }
        self.init(code: RPCErrorCode(rawValue: rawCode), message: message, data: json["data"])
    }
}

extension RPCError: CustomStringConvertible {
    public var description: String { "\(message) [\(code)]" }
}

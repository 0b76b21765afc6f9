import CJansson

/// Why a JSON text could not be parsed, as Jansson reported it.
///
/// Servers put ``message`` into a JSON-RPC parse-error reply (-32700), so it should read well to
/// a client author: Jansson's texts do ("duplicate object key near '"a"'",
/// "maximum parsing depth reached near '['", "too big integer").
public struct JSONParseError: Error, Sendable, Equatable {
    /// Jansson's description of the problem.
    public let message: String
    /// 1-based line of the error, as counted by Jansson (0 when unknown).
    public let line: Int
    /// 1-based column (in characters) on ``line`` (0 when unknown).
    public let column: Int
    /// Byte offset into the input at which Jansson stopped.
    public let position: Int

    public init(message: String, line: Int, column: Int, position: Int) {
        self.message = message
        self.line = line
        self.column = column
        self.position = position
    }

    /// Converts Jansson's `json_error_t`. Its text is NUL-terminated within the fixed buffer;
    /// the last byte of the buffer holds Jansson's error code and is not part of the text.
    init(_ error: json_error_t) {
        var text = error.text
        let message = withUnsafeBytes(of: &text) { bytes -> String in
            let usable = bytes.prefix(Int(JSON_ERROR_TEXT_LENGTH) - 1)
            let end = usable.firstIndex(of: 0) ?? usable.endIndex
            return String(decoding: usable[..<end], as: UTF8.self)
        }
        self.init(
            message: message.isEmpty ? "invalid JSON" : message,
            line: Int(error.line), column: Int(error.column), position: Int(error.position))
    }
}

extension JSONParseError: CustomStringConvertible {
    public var description: String {
        "\(message) (line \(line), column \(column), position \(position))"
    }
}

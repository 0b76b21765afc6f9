import HeapProtocol

/// One line of the shell or of a script, before it runs: an optional `name =` binding and what
/// follows it, a heapctl command line or a raw `METHOD {json}` call.
struct ShellLine {
    enum Body: Equatable {
        /// Blank, or a `#` comment.
        case nothing
        /// `exit` or `quit`.
        case leave
        /// A protocol method and its params as JSON text (variables not yet expanded).
        case raw(method: String, params: String?)
        /// A heapctl command line, as typed (tokenized when it runs, with the variables then).
        case command(String)
    }

    var binding: String?
    var body: Body

    init(_ text: String) {
        var rest = Substring(text).drop { $0 == " " || $0 == "\t" }
        // `p = allocate Person`: a name, `=`, then the command.
        if let eq = rest.firstIndex(of: "="), LineTokenizer.isName(rest[..<eq].trimmingSuffix(" ")) {
            binding = String(rest[..<eq].trimmingSuffix(" "))
            rest = rest[rest.index(after: eq)...].drop { $0 == " " || $0 == "\t" }
        }
        let line = String(rest).trimmingSuffix(" ")
        if line.isEmpty || line.hasPrefix("#") {
            body = .nothing
        } else if binding == nil, line == "exit" || line == "quit" {
            body = .leave
        } else {
            body = Self.raw(line) ?? .command(line)
        }
    }

    /// `METHOD {json}` where METHOD is a protocol method: heapd's call itself. A method name alone
    /// is a raw call only when heapctl has no command of that name (`snapshot.list`, not `stats`).
    private static func raw(_ line: String) -> Body? {
        let method = String(line.prefix { $0 != " " && $0 != "\t" })
        guard HeapMethods.all.contains(where: { $0.name == method }) else { return nil }
        let params = line.dropFirst(method.count).drop { $0 == " " || $0 == "\t" }
        if params.isEmpty { return Heapctl.isSubcommandPath([method]) ? nil : .raw(method: method, params: nil) }
        guard params.first == "{" || params.first == "[" else { return nil }
        return .raw(method: method, params: String(params))
    }
}

extension StringProtocol {
    func trimmingSuffix(_ c: Character) -> String {
        var s = String(self)
        while s.last == c || s.last == "\t" { s.removeLast() }
        return s
    }
}

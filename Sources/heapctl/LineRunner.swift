import ArgumentParser
import HeapClient
import JSONRPC

/// Runs shell and script lines on a shared session: each command line goes through heapctl's
/// own argument parser and `run()`, exactly as on the command line, and prints what the CLI
/// prints. Keeps the `$variables` that `name = COMMAND` binds.
final class LineRunner {
    let session: SharedSession
    /// The shell's or script's options (`--json` for raw calls' output).
    let options: GlobalOptions
    /// Whether ctrl-C reaches the shell (commands that run until ctrl-C then get a process).
    let interactive: Bool
    var variables: [String: String] = [:]

    init(session: SharedSession, options: GlobalOptions, interactive: Bool = false) {
        self.session = session
        self.options = options
        self.interactive = interactive
    }

    /// Exit status of a line: 0, 1 the daemon refused, 3 unreachable, 64 usage.
    typealias Status = Int32

    /// Runs one line; errors are printed (to stderr) and given as the status.
    func run(_ line: ShellLine) -> Status {
        session.lastResult = nil
        let status: Status
        switch line.body {
        case .nothing, .leave: return 0
        case .raw(let method, let params): status = runRaw(method, params, binding: line.binding)
        case .command(let text): status = runCommand(text)
        }
        guard status == 0, let name = line.binding else { return status }
        guard let id = session.lastResult?["id"]?.intValue else {
            printError("cannot bind $\(name): the result has no id")
            return 64
        }
        variables[name] = String(id)
        return 0
    }

    private func runCommand(_ text: String) -> Status {
        let words: [String]
        do { words = try LineTokenizer(variables: variables).words(text) } catch {
            printError(error.description)
            return 64
        }
        if let message = unknownCommandMessage(words) {
            printError(message)
            return 64
        }
        if let message = ObjectIDArgument.negativeIDMessage(words) {
            writeError((session.errorPrefix.isEmpty ? "" : "heapctl: \(session.errorPrefix)") + message)
            return 64
        }
        var command: ParsableCommand
        do { command = try Heapctl.parseAsRoot(words) } catch { return report(error, nil) }
        if command is Repl {
            printError("already in the shell")
            return 64
        }
        if interactive && ForegroundCommand.isForeground(command) {
            var child = words
            if !words.contains("--socket") { child += ["--socket", session.socketPath] }
            if !words.contains("--session") { child += ["--session", session.sessionName] }
            // The child is a process of its own: the shell's --json must be said.
            if session.json, !words.contains("--json"), !words.contains("--") { child.append("--json") }
            return ForegroundCommand.run(child)
        }
        do {
            try command.run()
            return 0
        } catch { return report(error, type(of: command)) }
    }

    /// Prints a parser or command error as `heapctl` would (help to stdout, the rest to stderr).
    private func report(_ error: Error, _ command: ParsableCommand.Type?) -> Status {
        let status = Heapctl.exitCode(for: error).rawValue
        var message = Heapctl.fullMessage(for: error)
        // A check in run() (bad JSON, a bad field) is a usage error of that command: show its usage.
        if let command, let e = error as? ValidationError {
            message = "Error: \(e.message)\nUsage: \(Heapctl.usageString(for: command))"
        }
        if status == 0 {
            output(message)
        } else if !message.isEmpty {
            // As the CLI prints the parser's messages (no `heapctl:`), but naming a script's line.
            let prefix = session.errorPrefix
            writeError((prefix.isEmpty ? "" : "heapctl: \(prefix)") + message)
        }
        return status
    }

    private func runRaw(_ method: String, _ text: String?, binding: String?) -> Status {
        var params: JSONValue?
        if let text {
            do { params = try parseJSON(try Self.expand(text, variables), what: "params") } catch {
                printError("\(error)")
                return 64
            }
        }
        do {
            let result = try options.call(session.connection, method, params)
            output(
                options.json
                    ? JSONCodec.encodeString(result)
                    : "\(binding.map { "\($0) = " } ?? "")\(method): \(JSONCodec.encodeString(result))")
            return 0
        } catch { return Heapctl.exitCode(for: error).rawValue }
    }

    /// `$name` replaced by its value in raw JSON text (`{"id":$b}`); `"$0"` (apply's) stays.
    static func expand(_ text: String, _ variables: [String: String]) throws -> String {
        var out = ""
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            let name = String(chars.prefix { LineTokenizer.isNameCharacter($0) })
            guard c == "$", let first = name.first, !first.isNumber else {
                out.append(c)
                continue
            }
            guard let value = variables[name] else { throw ValidationError("undefined variable $\(name)") }
            out += value
            chars = chars.dropFirst(name.count)
        }
        return out
    }
}

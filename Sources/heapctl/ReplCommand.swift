import ArgumentParser
import Foundation
import HeapProtocol

/// `heapctl repl` (or `shell`, or bare `heapctl` on a terminal): heapctl's commands line by
/// line in one session, like redis-cli. On a terminal: libedit's editing, history and
/// completion; in a pipe: just the commands' output, no prompt (exact and quiet in a pipe).
struct Repl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "An interactive shell: heapctl's commands in one session, with $variables, completion, history.",
        discussion: """
            Each line is a heapctl command line (`allocate Person --data '{"name":"A"}'`, \
            `set 1 partner=2`), parsed like a POSIX shell's; `p = allocate Person` binds the new id \
            to $p, which expands anywhere in later lines. `help [COMMAND]` shows help; exit, quit or \
            ctrl-D leave; ctrl-C drops the line, or stops watch, monitor, top and bench. As you type, \
            the arguments still to come show dimmed after the cursor (`inspect ` → `<id>`). Tab \
            completes commands, call's methods, live ids, set's field names, options and variables; \
            Tab after a command shows its usage. With --json every line prints JSON. History: \
            $XDG_STATE_HOME/heapd/heapctl_history (default ~/.local/state/heapd/heapctl_history). \
            With stdin not a terminal, lines are read without prompts and only the commands' \
            output is printed; the exit status is then the first failing line's.
            """,
        aliases: ["shell"])
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let connection = try options.connect()
        let session = SharedSession(
            connection: connection, socketPath: options.socketPath, sessionName: options.sessionName,
            json: options.json)
        let runner = LineRunner(session: session, options: options, interactive: isatty(0) != 0)
        try session.activate {
            if isatty(0) != 0 { interactive(runner) } else { try piped(runner) }
        }
    }

    private func piped(_ runner: LineRunner) throws {
        var firstFailure: Int32 = 0
        while let text = readLine(strippingNewline: true) {
            let line = ShellLine(text)
            if line.body == .leave { break }
            let status = runner.run(line)
            if status == 3 { throw ExitCode(3) }
            if firstFailure == 0 { firstFailure = status }
        }
        if firstFailure != 0 { throw ExitCode(firstFailure) }
    }

    private func interactive(_ runner: LineRunner) {
        let editor = LineEditor(historyPath: LineEditor.defaultHistoryPath())
        let connection = runner.session.connection
        LineEditor.completer = { before, word in
            ShellCompleter(connection: connection, variables: runner.variables).complete(before: before, word: word)
        }
        LineEditor.hinter = ShellHint.hint(for:)
        defer {
            LineEditor.completer = nil
            LineEditor.hinter = nil
        }
        if isatty(1) != 0 {
            output(
                "heapctl \(HeapdVersion.string): session \(runner.session.sessionName) on \(runner.session.socketPath)\n"
                    + "`help` lists the commands, `help COMMAND` shows one; Tab completes; exit or ctrl-D leaves.")
        }
        let prompt = "heapd> "
        while true {
            switch editor.read(prompt: prompt) {
            case .end:
                writeNewline()
                return
            case .interrupted:
                writeNewline()
                continue
            case .line(let text):
                let line = ShellLine(text)
                if line.body != .nothing { editor.remember(text) }
                if line.body == .leave { return }
                _ = runner.run(line)
                if line.body == .command("help") {
                    output("In the shell: NAME = COMMAND binds $NAME; exit, quit or ctrl-D leave.")
                }
            }
        }
    }

    private func writeNewline() { FileHandle.standardOutput.write(Data("\n".utf8)) }
}

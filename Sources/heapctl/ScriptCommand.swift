import ArgumentParser
import Foundation

/// `heapctl script`: the shell's language from a file or stdin, in one session.
struct Script: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run heapctl command lines from a file or stdin in one session.",
        discussion: """
            Each line is a heapctl command line, as in the shell (`allocate Person --data '{"n":1}'`, \
            `set $a partner=$b`); `a = allocate Node` binds the new id to $a for later lines. A raw \
            call, METHOD {JSON-PARAMS} (`get {"id":$a}`), still works. Blank lines and # comments are \
            skipped. A failing line is named (`line 6: ...`) and stops the script with its status \
            (1 the daemon refused, 64 usage) unless --keep-going; objects earlier lines allocated \
            stay in the session. With --atomic the whole script is one `apply` request, all or \
            nothing: only allocate TYPE [--size N] [FIELD=ID ...], ref, unref, set ID FIELD=ID|null \
            and weakref ID [--callback] lines are allowed.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Script file (default: stdin).") var file: String?
    @Flag(help: "Continue after a failing line (exit with the first failure's status at the end).")
    var keepGoing = false
    @Flag(help: "Run the script as one atomic apply: every line or none.") var atomic = false

    func validate() throws {
        if atomic && keepGoing { throw ValidationError("--atomic and --keep-going exclude each other") }
    }

    func run() throws {
        let text: String
        if let file {
            guard let t = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read \(file)")
            }
            text = t
        } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { ShellLine(String($0)) }
        let connection = try options.connect()
        let session =
            SharedSession.current.flatMap { $0.serves(options) ? $0 : nil }
            ?? SharedSession(
                connection: connection, socketPath: options.socketPath, sessionName: options.sessionName,
                json: options.json)
        try session.activate {
            if atomic {
                try AtomicScript(lines: lines, options: options).run(on: session.connection)
                return
            }
            let runner = LineRunner(session: session, options: options)
            var firstFailure: Int32 = 0
            for (number, line) in lines.enumerated() {
                session.errorPrefix = "line \(number + 1): "
                defer { session.errorPrefix = "" }
                if line.body == .leave { break }
                let status = runner.run(line)
                if status == 3 { throw ExitCode(3) }
                if status != 0 && firstFailure == 0 { firstFailure = status }
                if status != 0 && !keepGoing { break }
            }
            if firstFailure != 0 { throw ExitCode(firstFailure) }
        }
    }
}

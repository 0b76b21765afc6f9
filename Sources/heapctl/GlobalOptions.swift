import ArgumentParser
import Foundation
import HeapClient
import HeapProtocol
import JSONRPC

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help:
            "heapd's socket (default: $HEAPD_SOCKET, $XDG_RUNTIME_DIR/heapd/heapd.sock or /tmp/heapd-$UID/heapd.sock).")
    var socket: String?

    @Option(help: "Named session to run in (default: heapctl-$USER).")
    var session: String?

    @Flag(name: .customLong("json"), help: "Print the raw JSON result (for scripts).")
    var jsonFlag = false

    /// `--json`, or a line of a shell or script started with `--json` (its lines need not say it;
    /// appending the flag to each line broke those whose command takes none, a bare `gc`).
    var json: Bool { jsonFlag || SharedSession.current?.json == true }

    /// Inside a shell or script, a line without --socket or --session runs where the shell does.
    var socketPath: String { HeapdEndpoint.socketPath(explicit: socket ?? SharedSession.current?.socketPath) }

    var sessionName: String {
        if let session { return session }
        if let shared = SharedSession.current { return shared.sessionName }
        let user =
            ProcessInfo.processInfo.environment["USER"]
            ?? getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid\(getuid())"
        return "heapctl-\(user)"
    }

    /// What to do about a socket that does not answer: start heapd only when none can be there.
    static func connectionHint(_ path: String) -> String {
        let denied =
            "you may not use \(path): heapd serves its own user, root and the members of its --allow-group; "
            + "run heapctl as that user, or start your own heapd on another socket"
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == EACCES { return denied }
            return "start the daemon with `heapd --socket \(path) &` (or `make run`)"
        }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            return "\(path) is not a socket; pass the daemon's socket with --socket or HEAPD_SOCKET"
        }
        guard access(path, R_OK | W_OK) == 0 else { return denied }
        return "no daemon answers at \(path) (a stale socket?); start one with `heapd --socket \(path) &`"
    }

    /// Connects and attaches the named session (unless `anonymous`). In a shell or script the
    /// open connection is reused (`shared`), unless the command needs one of its own (a
    /// subscription, or a call that must not be in the session).
    func connect(anonymous: Bool = false, shared: Bool = true) throws -> HeapConnection {
        if shared, let session = SharedSession.current, session.serves(self) { return session.connection }
        let connection: HeapConnection
        do {
            connection = try HeapConnection(socketPath: socketPath)
        } catch {
            let code = exit(for: error)
            printError("hint: \(Self.connectionHint(socketPath))")
            throw code
        }
        if !anonymous { try openSession(connection) }
        return connection
    }

    /// Attaches the named session. The previous heapctl command's connection may not be
    /// noticed as closed yet (the daemon sees the hang-up asynchronously): a conflict is retried
    /// for up to two seconds before it is reported.
    private func openSession(_ connection: HeapConnection) throws {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            do {
                _ = try connection.call(SessionOpenRequest.name, ["name": .string(sessionName)])
                return
            } catch .rpc(let e) where e.code == .sessionConflict && ContinuousClock.now < deadline {
                usleep(10_000)
            } catch {
                throw exit(for: error)
            }
        }
    }

    /// Calls a method, turning errors into heapctl's exit codes.
    func call(_ c: HeapConnection, _ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        do {
            let result = try c.call(method, params)
            SharedSession.current?.lastResult = result
            return result
        } catch {
            throw exit(for: error)
        }
    }

    /// Prints why a call failed and gives the exit code: 1 the daemon refused, 3 unreachable.
    /// With `--json` the error also goes to stdout, as the daemon's error object
    /// (`{"error": {code, message, data?}}`) or `{"error": {"unreachable": message}}`.
    func exit(for error: HeapClientError) -> ExitCode {
        if case .rpc(let e) = error {
            printError("error \(e.code.rawValue): \(e.message)")
            if json { output(JSONCodec.encodeString(["error": e.json])) }
            return ExitCode(1)
        }
        printError("\(error)")
        if json { output(JSONCodec.encodeString(["error": ["unreachable": .string("\(error)")]])) }
        return ExitCode(3)
    }

    /// Subscribes an anonymous connection to `kinds` and hands each notification to `each` until
    /// `count` of them were taken (`each` says whether it took one). When the daemon goes away:
    /// exit 3, or with `reconnect` say so, retry with backoff, and subscribe again once it is back.
    func follow(
        _ kinds: JSONValue, banner: String, count: Int?, reconnect: Bool = false,
        _ each: (String, JSONValue) -> Bool
    ) throws {
        var c = try subscribe(kinds)
        // With --json, stdout carries only events; the banner goes to stderr so a script can still
        // wait for it to know the subscription is in place.
        status("\(banner) \(socketPath) (ctrl-c to stop)")
        var taken = 0
        while count.map({ taken < $0 }) ?? true {
            let note: (method: String, params: JSONValue)
            do { note = try c.nextNotification() } catch {
                guard reconnect else {
                    printError("\(error)")
                    throw ExitCode(3)
                }
                status("\(Format.clock(Date()))  disconnected: \(error); reconnecting (ctrl-c to stop)")
                c = resubscribe(kinds)
                status(
                    "\(Format.clock(Date()))  reconnected to \(socketPath); \(banner) again "
                        + "(events while disconnected were missed)")
                continue
            }
            if each(note.method, note.params) { taken += 1 }
        }
    }

    /// A line about the stream itself: on stdout with the events, on stderr under --json.
    private func status(_ line: String) {
        if json { writeAll(2, line + "\n") } else { output(line) }
    }

    private func subscribe(_ kinds: JSONValue) throws -> HeapConnection {
        let c = try connect(anonymous: true, shared: false)
        _ = try call(c, SubscribeRequest.name, ["events": kinds])
        return c
    }

    /// Tries again and again, waiting 0.1 s, then twice as long each time up to 2 s (a restart
    /// takes a moment; a daemon that stays down is not hammered), until subscribed.
    private func resubscribe(_ kinds: JSONValue) -> HeapConnection {
        var wait = 0.1
        while true {
            usleep(UInt32(wait * 1_000_000))
            if let c = try? HeapConnection(socketPath: socketPath),
                (try? c.call(SubscribeRequest.name, ["events": kinds])) != nil
            {
                return c
            }
            wait = min(wait * 2, 2)
        }
    }

    /// Runs one method in the session and prints the result with `human` (or as JSON).
    func run(
        _ method: String, _ params: JSONValue? = nil, anonymous: Bool = false,
        human: (JSONValue) -> String
    ) throws {
        let c = try connect(anonymous: anonymous)
        let result = try call(c, method, params)
        output(json ? Pretty.json(result) : human(result))
    }
}

func output(_ text: String) {
    guard !text.isEmpty else { return }
    writeAll(1, text.hasSuffix("\n") ? text : text + "\n")
}

/// A message to stderr as it is (the parser's, which start with `Error:`).
func writeError(_ text: String) {
    writeAll(2, text.hasSuffix("\n") ? text : text + "\n")
}

func printError(_ text: String) {
    writeAll(2, "heapctl: \(SharedSession.current?.errorPrefix ?? "")\(text)\n")
}

/// Unbuffered write; `heapctl ... | head` ends quietly when the reader goes away (EPIPE).
private func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            exit(0)
        }
        bytes = bytes.dropFirst(n)
    }
}

import HeapClient
import JSONRPC

/// The one connection a shell or a script keeps open for all its lines: every command that
/// `GlobalOptions.connect` would connect for runs on it instead, in the same session, unless the
/// line names another socket or session (then it connects as the CLI does).
final class SharedSession {
    /// The shell or script running now. heapctl runs one command at a time on its main thread
    /// (libedit's callbacks included), so a plain static is enough.
    nonisolated(unsafe) static var current: SharedSession?

    let connection: HeapConnection
    let socketPath: String
    let sessionName: String
    /// The last result a command's call returned: what `name = COMMAND` binds.
    var lastResult: JSONValue?
    /// Prefixed to heapctl's error lines while a script line runs (`line 6: `).
    var errorPrefix = ""
    /// Whether the shell or script was started with `--json`: then every line prints JSON.
    let json: Bool

    init(connection: HeapConnection, socketPath: String, sessionName: String, json: Bool = false) {
        self.connection = connection
        self.socketPath = socketPath
        self.sessionName = sessionName
        self.json = json
    }

    /// Whether a command with `options` may run on this connection.
    func serves(_ options: GlobalOptions) -> Bool {
        (options.socket == nil || options.socketPath == socketPath)
            && (options.session == nil || options.session == sessionName)
    }

    /// Runs `body` with `self` as the current shared session, then restores the previous one.
    func activate<T>(_ body: () throws -> T) rethrows -> T {
        let previous = Self.current
        Self.current = self
        defer { Self.current = previous }
        return try body()
    }
}

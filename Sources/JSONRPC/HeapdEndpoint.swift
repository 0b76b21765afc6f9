import Glibc

/// Where heapd listens, by the same rule for the daemon and every client (SPEC §2.1):
/// `--socket`, else `$HEAPD_SOCKET`, else `$XDG_RUNTIME_DIR/heapd/heapd.sock`, else
/// `/tmp/heapd-$UID/heapd.sock`.
public enum HeapdEndpoint {
    public static func socketPath(explicit: String? = nil) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment("HEAPD_SOCKET"), !env.isEmpty { return env }
        if let runtime = environment("XDG_RUNTIME_DIR"), !runtime.isEmpty { return runtime + "/heapd/heapd.sock" }
        return "/tmp/heapd-\(getuid())/heapd.sock"
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

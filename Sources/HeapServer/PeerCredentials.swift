import CHeapdSystem
import Foundation
import Glibc
import NIOCore

/// Who is on the other end of a Unix socket (`SO_PEERCRED`: the connecting process's pid, uid
/// and gid, as the kernel recorded them at connect time).
struct PeerCredentials: Sendable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// The peer's credentials, read as the kernel's own `struct ucred`.
    static func of(_ channel: Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        let credentials: EventLoopFuture<heapd_ucred> =
            provider.unsafeGetSocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        return credentials.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
    }

    /// The peer process's supplementary groups (`Groups:` in /proc/PID/status); empty if the
    /// process is already gone.
    func supplementaryGroups() -> [UInt32] {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [] }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") }) else { return [] }
        return line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap {
            UInt32($0)
        }
    }
}

/// Who may connect: the daemon's own user, root, and optionally the members of one group
/// (`--allow-group`), whether it is their primary group or a supplementary one (as `usermod -aG`
/// makes it) — the socket file's mode already lets both kinds in.
struct AccessPolicy: Sendable {
    var ownUID = getuid()
    var allowedGroup: UInt32?

    func admits(_ peer: PeerCredentials) -> Bool {
        if peer.uid == ownUID || peer.uid == 0 { return true }
        guard let allowedGroup else { return false }
        return peer.gid == allowedGroup || peer.supplementaryGroups().contains(allowedGroup)
    }

    /// Looks up a group by name (or number).
    static func group(named name: String) -> UInt32? {
        if let g = getgrnam(name) { return g.pointee.gr_gid }
        return UInt32(name)
    }
}

import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a Unix socket (`SO_PEERCRED`: the connecting process's pid, uid
/// and gid, as the kernel recorded them at connect time).
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0

    /// The kernel's `struct ucred` (not exported by the Glibc module): three 32-bit integers.
    static func of(_ channel: Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        return provider.unsafeGetSocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
    }
}

/// Who may connect: the daemon's own user, root, and optionally one group (`--allow-group`).
struct AccessPolicy: Sendable {
    var ownUID = getuid()
    var allowedGroup: UInt32?

    func admits(_ peer: PeerCredentials) -> Bool {
        peer.uid == ownUID || peer.uid == 0 || (allowedGroup.map { $0 == peer.gid } ?? false)
    }

    /// Looks up a group by name (or number).
    static func group(named name: String) -> UInt32? {
        if let g = getgrnam(name) { return g.pointee.gr_gid }
        return UInt32(name)
    }
}

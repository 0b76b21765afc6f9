/// The life of one client connection, as a value with no I/O: the connection handler feeds it
/// what happened and performs the action it returns (as swift-nio-extras'
/// `RequestResponseHandlers+State`).
///
/// It decides two things: whether the next complete frame may run now, and when the connection
/// closes. Frames wait (unread bytes stay in the handler's buffer, and the socket is not read)
/// while the peer does not read its replies or while too many reply bytes wait for the disk, so
/// the replies a connection can have pending are bounded: see ``pendingReplyLimit``.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// Reading and answering.
        case open
        /// The peer shut down its sending side (or its header broke the stream): answer what
        /// was read, then close.
        case inputClosed
        /// Closing or closed: nothing more runs.
        case closed
    }

    enum Action: Equatable {
        case none
        /// Stop reading the socket (the peer does not read what it is sent).
        case pauseReading
        /// Read again and run the frames that waited; write the events that waited.
        case resume
        /// Write what is pending, then close.
        case close
        /// Close at once, dropping what is pending (a peer that does not read would never
        /// take it, and the close would wait behind it forever).
        case abort
    }

    /// Most reply bytes one connection may have waiting for the disk (`--fsync always`) before
    /// its further frames wait too. The channel's own write buffer is bounded by its high
    /// watermark (1 MiB), past which the peer counts as not reading.
    static let pendingReplyLimit = 4 << 20

    private(set) var state = State.open
    /// Whether the peer reads: the channel is under its high watermark.
    private(set) var writable = true
    /// Replies waiting for their changes to be durable, and their encoded size.
    private(set) var awaitingDurability = 0
    private(set) var bytesAwaitingDurability = 0
    /// A deferred method's slow half is running off the event loop: its reply comes first, so
    /// nothing after it runs until it is back (replies stay in request order).
    private(set) var offloaded = false

    /// Whether the next complete frame may run now.
    var mayRunFrames: Bool {
        state != .closed && writable && !offloaded && bytesAwaitingDurability < Self.pendingReplyLimit
    }

    /// Whether replies must queue behind earlier ones that wait for the disk.
    var repliesWaitForDisk: Bool { awaitingDurability > 0 }

    /// The peer shut down its sending side, or its LSP header block could not be read (the
    /// stream cannot be resynchronised). The frames already read still run; then `closeIfDone`.
    mutating func inputClosed() {
        guard state == .open else { return }
        state = .inputClosed
    }

    /// The subscriber let its event outbox overflow: it is cut off at once.
    mutating func outboxOverflowed() -> Action {
        guard state != .closed else { return .none }
        state = .closed
        return .abort
    }

    mutating func writabilityChanged(to writable: Bool) -> Action {
        guard writable != self.writable, state != .closed else { return .none }
        self.writable = writable
        guard writable else { return .pauseReading }
        // Another hold (offloaded work, replies waiting for the disk) resumes when it ends.
        return mayRunFrames ? .resume : .none
    }

    /// A request's slow half went off the event loop: read nothing and run nothing until it is
    /// back.
    mutating func offloadStarted() -> Action {
        guard state != .closed else { return .none }
        offloaded = true
        return .pauseReading
    }

    /// The slow half is back and its reply written: the frames that waited run.
    mutating func offloadFinished() -> Action {
        offloaded = false
        if mayRunFrames { return .resume }
        return closeIfDone()
    }

    /// A reply of `bytes` now waits for its change to be durable.
    /// Past the limit the socket is not read either: frames would pile up unparsed.
    mutating func awaitDurability(bytes: Int) -> Action {
        let wasUnder = bytesAwaitingDurability < Self.pendingReplyLimit
        awaitingDurability += 1
        bytesAwaitingDurability += bytes
        return wasUnder && bytesAwaitingDurability >= Self.pendingReplyLimit ? .pauseReading : .none
    }

    /// A reply that waited for the disk was written.
    mutating func durabilitySettled(bytes: Int) -> Action {
        awaitingDurability -= 1
        bytesAwaitingDurability -= bytes
        let wasBlocked = bytesAwaitingDurability + bytes >= Self.pendingReplyLimit
        // Frames held back by the limit run first (then `.resume` closes if the input ended).
        if wasBlocked && mayRunFrames { return .resume }
        return closeIfDone()
    }

    /// After the input ended: close once every reply is out and no frame waits for the peer.
    mutating func closeIfDone() -> Action {
        guard state == .inputClosed, awaitingDurability == 0, !offloaded, writable else { return .none }
        state = .closed
        return .close
    }

    /// The channel went inactive.
    mutating func channelClosed() {
        state = .closed
    }
}

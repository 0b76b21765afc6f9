import CEpoll
import Glibc

/// A lean, single-threaded load generator in the manner of redis-benchmark, but on epoll and
/// without parsing replies: every connection sends its pre-encoded round (one request, or `-P`
/// of them), waits for as many replies, records the round's latency and sends the next. One
/// thread drives every connection, so the generator costs one core at most and its CPU per
/// request is small and printed (`cpuSecondsPerRequest`).
struct LoadDriver {
    struct Connection {
        let fd: Int32
        /// The bytes of each round, sent in turn (cycling).
        let rounds: [[UInt8]]
        /// Replies that complete one round.
        let repliesPerRound: Int
        var counter: ReplyCounter
    }

    struct Outcome {
        var seconds: Double
        var rounds: Int
        /// Round latencies in nanoseconds, sorted.
        var latencies: [UInt64]
        var errors: Int
        var cpuSeconds: Double
        /// A connection broke before its last round.
        var brokenConnections: Int
    }

    private struct Progress {
        var sent = 0
        var seen = 0
        var roundsLeft: Int
        var roundsSent = 0
        var startedAt: UInt64 = 0
        var active = true
    }

    /// Runs `rounds` rounds on every connection; descriptors are made non-blocking.
    static func run(_ connections: [Connection], rounds: Int) -> Outcome {
        var connections = connections
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1: \(String(cString: strerror(errno)))")
        defer { close(epoll) }
        var progress = [Progress](repeating: Progress(roundsLeft: rounds), count: connections.count)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(rounds * connections.count)
        for (i, c) in connections.enumerated() {
            _ = fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK)
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u32: UInt32(i)))
            _ = epoll_ctl(epoll, EPOLL_CTL_ADD, c.fd, &event)
        }
        var active = connections.count
        var broken = 0
        let cpuBefore = processCPUSeconds()
        let start = monotonicNanoseconds()

        func finish(_ i: Int, brokenConnection: Bool) {
            guard progress[i].active else { return }
            progress[i].active = false
            active -= 1
            if brokenConnection { broken += 1 }
            _ = epoll_ctl(epoll, EPOLL_CTL_DEL, connections[i].fd, nil)
        }

        /// Sends what is left of the current round; asks for EPOLLOUT if the socket is full.
        func send(_ i: Int) {
            let all = connections[i].rounds
            let round = all[(progress[i].roundsSent - 1) % all.count]
            while progress[i].sent < round.count {
                let n = round.withUnsafeBytes {
                    Glibc.send(
                        connections[i].fd, $0.baseAddress! + progress[i].sent, $0.count - progress[i].sent,
                        Int32(MSG_NOSIGNAL))
                }
                if n > 0 { progress[i].sent += n; continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    var event = epoll_event(
                        events: EPOLLIN.rawValue | EPOLLOUT.rawValue, data: epoll_data_t(u32: UInt32(i)))
                    _ = epoll_ctl(epoll, EPOLL_CTL_MOD, connections[i].fd, &event)
                    return
                }
                finish(i, brokenConnection: true)
                return
            }
        }

        func startRound(_ i: Int) {
            progress[i].sent = 0
            progress[i].seen = 0
            progress[i].roundsLeft -= 1
            progress[i].roundsSent += 1
            progress[i].startedAt = monotonicNanoseconds()
            send(i)
        }

        for i in connections.indices { startRound(i) }
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while active > 0 {
            let ready = events.withUnsafeMutableBufferPointer {
                epoll_wait(epoll, $0.baseAddress, Int32($0.count), 1000)
            }
            if ready < 0 && errno == EINTR { continue }
            for e in events.prefix(Int(max(0, ready))) {
                let i = Int(e.data.u32)
                guard progress[i].active else { continue }
                if e.events & EPOLLOUT.rawValue != 0 {
                    var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u32: UInt32(i)))
                    _ = epoll_ctl(epoll, EPOLL_CTL_MOD, connections[i].fd, &event)
                    send(i)
                }
                guard e.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 else { continue }
                let got = read(connections[i].fd, buffer.baseAddress, buffer.count)
                if got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { continue }
                guard got > 0 else { finish(i, brokenConnection: true); continue }
                progress[i].seen += connections[i].counter.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
                guard progress[i].seen >= connections[i].repliesPerRound else { continue }
                latencies.append(monotonicNanoseconds() - progress[i].startedAt)
                if progress[i].roundsLeft > 0 { startRound(i) } else { finish(i, brokenConnection: false) }
            }
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        latencies.sort()
        return Outcome(
            seconds: elapsed, rounds: latencies.count, latencies: latencies,
            errors: connections.reduce(0) { $0 + $1.counter.errors },
            cpuSeconds: processCPUSeconds() - cpuBefore, brokenConnections: broken)
    }
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// User + system CPU time of this process.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

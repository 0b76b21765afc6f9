"""`heapctl watch` against the real daemon: each event with its time and its cause (the request
that made it happen: connection, session, method), and reconnecting when the daemon restarts
(issue 16)."""
import json
import queue
import re
import subprocess
import threading

from heapd_harness import Daemon, binary

CLOCK = r"\d\d:\d\d:\d\d\.\d{3}"


class Watcher:
    """A `heapctl watch` process whose output lines are read with a deadline (a thread per
    stream, so a line that never comes fails the test instead of hanging it)."""

    def __init__(self, socket, *args, command="watch"):
        self.proc = subprocess.Popen([binary("heapctl"), command, "--socket", socket, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = self._reader(self.proc.stdout)
        self.err = self._reader(self.proc.stderr)

    @staticmethod
    def _reader(stream):
        q = queue.Queue()

        def pump():
            for line in stream:
                q.put(line.rstrip("\n"))
            q.put(None)
        threading.Thread(target=pump, daemon=True).start()
        return q

    def line(self, stream=None, timeout=30):
        try:
            line = (stream or self.out).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("watch printed nothing more") from None
        assert line is not None, f"watch ended (status {self.proc.wait()})"
        return line

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)


def heapctl(daemon, *args, session):
    out = subprocess.run([binary("heapctl"), *args, "--socket", daemon.socket, "--session", session],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_each_event_shows_its_time_and_cause(daemon):
    w = Watcher(daemon.socket)
    try:
        assert w.line().startswith("watching ")
        x = heapctl(daemon, "allocate", "Fin", "--finalizer", session="alice")
        heapctl(daemon, "unref", x, session="alice")
        assert re.fullmatch(rf"{CLOCK}  finalize  Fin {x}  \[#\d+ alice: unref\]", w.line())
        assert re.fullmatch(rf"{CLOCK}  freed     1 object: {x}  \[#\d+ alice: unref\]", w.line())
        # An anonymous connection that closes drops its references: the cause is the disconnect.
        c = daemon.client()
        y = c.call("allocate", type="Orphan", finalizer=True)["id"]
        c.close()
        line = w.line()
        assert re.fullmatch(rf"{CLOCK}  finalize  Orphan {y}  \[#\d+ anonymous: disconnected\]", line), line
        w.line()  # its freed
        # Another client closes alice's session: session.closed, caused by that request (heapctl
        # sends session.close from an anonymous connection).
        heapctl(daemon, "session", "close", "alice", session="bob")
        assert re.fullmatch(rf"{CLOCK}  session   alice closed  \[#\d+ anonymous: session\.close\]", w.line())
        heapctl(daemon, "collect", session="bob")
        start, stop = w.line(), w.line()
        assert re.fullmatch(rf"{CLOCK}  gc\.start  generation 2  \[#\d+ bob: collect\]", start), start
        assert re.fullmatch(rf"{CLOCK}  gc\.stop   generation 2: collected 0, uncollectable 0, [0-9.]+ (ms|µs|s)"
                            r"  \[#\d+ bob: collect\]", stop), stop
        # The formatting rule of every human output: no float with more than 3 decimals.
        assert not re.search(r"\d\.\d{4,}", stop), stop
    finally:
        w.close()


def test_an_expired_lease_is_the_cause(daemon):
    w = Watcher(daemon.socket)
    try:
        assert w.line().startswith("watching ")
        c = daemon.client()
        c.call("session.open", name="leased", lease_s=0.3)
        x = c.call("allocate", type="Leased", finalizer=True)["id"]
        c.close()  # the named session outlives its connection, until its lease runs out
        assert re.fullmatch(rf"{CLOCK}  finalize  Leased {x}  \[lease expired\]", w.line())
        assert re.fullmatch(rf"{CLOCK}  freed     1 object: {x}  \[lease expired\]", w.line())
        assert re.fullmatch(rf"{CLOCK}  session   leased closed  \[lease expired\]", w.line())
    finally:
        w.close()


def test_json_lines_carry_the_cause():
    d = Daemon("--memory")
    w = Watcher(d.socket, "--json", "--count", "2")
    try:
        assert w.line(w.err).startswith("watching ")  # the banner, on stderr under --json
        c = d.client()
        x = c.call("allocate", type="T", finalizer=True)["id"]
        c.call("unref", id=x)
        notes = [json.loads(w.line()), json.loads(w.line())]
        assert [n["method"] for n in notes] == ["finalize", "freed"]
        assert all(isinstance(n["time"], float) and n["time"] > 1.7e9 for n in notes), notes
        for n in notes:
            cause = n["params"]["cause"]
            assert cause["kind"] == "request" and cause["method"] == "unref" and cause["session"] is None
            assert isinstance(cause["connection"], int) and cause["connection"] > 0
        c.close()
        assert w.proc.wait(timeout=30) == 0
    finally:
        w.close()
        assert d.stop() == 0


def test_watch_reconnects_when_the_daemon_restarts():
    """The daemon stops: watch says so and waits; it comes back: watch says so, subscribes
    again and shows the new daemon's events."""
    d = Daemon()
    w = Watcher(d.socket)
    try:
        assert w.line().startswith("watching ")
        x = heapctl(d, "allocate", "Before", "--finalizer", session="s")
        heapctl(d, "unref", x, session="s")
        assert "finalize  Before" in w.line()
        w.line()
        assert d.stop() == 0
        line = w.line()
        assert re.fullmatch(rf"{CLOCK}  disconnected: .*; reconnecting \(ctrl-c to stop\)", line), line
        assert w.proc.poll() is None
        d = Daemon(directory=d.dir)  # the same socket and data
        line = w.line()
        assert re.fullmatch(rf"{CLOCK}  reconnected to {re.escape(d.socket)}; watching again "
                            r"\(events while disconnected were missed\)", line), line
        y = heapctl(d, "allocate", "After", "--finalizer", session="s")
        heapctl(d, "unref", y, session="s")
        assert re.fullmatch(rf"{CLOCK}  finalize  After {y}  \[#\d+ s: unref\]", w.line())
    finally:
        w.close()
        assert d.stop() == 0


def test_no_reconnect_exits_3_when_the_daemon_goes():
    d = Daemon("--memory")
    w = Watcher(d.socket, "--no-reconnect")
    try:
        assert w.line().startswith("watching ")
        assert d.stop() == 0
        assert w.proc.wait(timeout=30) == 3
        assert "connection" in w.line(w.err)
    finally:
        w.close()


def test_monitor_reconnects_too():
    d = Daemon("--memory")
    w = Watcher(d.socket, command="monitor")
    try:
        assert w.line().startswith("monitoring ")
        assert d.stop() == 0
        assert "disconnected: " in w.line()
        d = Daemon("--memory", directory=d.dir)
        assert "reconnected to " in w.line()
        heapctl(d, "ping", session="m")
        assert re.fullmatch(rf"{CLOCK} \[#\d+ anonymous\] ping", w.line())  # heapctl pings anonymously
    finally:
        w.close()
        assert d.stop() == 0

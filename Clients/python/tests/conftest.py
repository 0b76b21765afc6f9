"""Fixtures: a real heapd daemon on a temp socket, and Heap connections to it.

The daemon binary comes from $HEAPD_BIN, else ../../.build/release/heapd relative to
Clients/python (build it with `swift build -c release -Xswiftc -enable-testing --product heapd`).
The package is imported from the source tree: no install needed.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PACKAGE_ROOT)

import heapd  # noqa: E402

DEFAULT_BIN = os.path.normpath(os.path.join(PACKAGE_ROOT, "..", "..", ".build", "release", "heapd"))
HEAPD_BIN = os.environ.get("HEAPD_BIN") or DEFAULT_BIN
FRAMINGS = ["ndjson", "lsp"]


class Daemon:
    """A heapd process on its own temp socket. ``stop()`` sends SIGTERM and returns the exit
    code."""

    def __init__(self, *args: str) -> None:
        if not os.access(HEAPD_BIN, os.X_OK):
            pytest.fail("heapd binary not found at %s (set HEAPD_BIN, or build it: cd /work/main "
                        "&& swift build -c release -Xswiftc -enable-testing --product heapd)"
                        % HEAPD_BIN)
        base = "/tmp" if os.path.isdir("/tmp") else None  # keep AF_UNIX paths short
        self.dir = tempfile.mkdtemp(prefix="heapd-py-", dir=base)
        self.socket = os.path.join(self.dir, "heapd.sock")
        self.log_path = os.path.join(self.dir, "heapd.log")
        # What earlier tests already failed for (see assert_clean_heap).
        self.known_leaks: set = set()
        self.known_problems: set = set()
        self.dead = False
        self._log = open(self.log_path, "wb")
        # --memory: tests never touch the user's data directory (nor its lock).
        self.proc = subprocess.Popen([HEAPD_BIN, "--socket", self.socket, "--memory", *args],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                pytest.fail("heapd exited with %s at start:\n%s" % (self.proc.returncode, self.log()))
            if os.path.exists(self.socket) and self._connectable():
                break
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail("heapd did not start listening on %s:\n%s" % (self.socket, self.log()))
            time.sleep(0.01)

    def _connectable(self) -> bool:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def heap(self, **kwargs) -> heapd.Heap:
        """A new connection."""
        return heapd.Heap(self.socket, **kwargs)

    def heap_when_admitted(self, timeout: float = 5, **kwargs) -> heapd.Heap:
        """A new connection that has answered a ping. With --max-clients, connections that
        just closed may still be counted until the daemon has seen their end: retry."""
        deadline = time.monotonic() + timeout
        while True:
            h = self.heap(**kwargs)
            try:
                h.ping()
                return h
            except (heapd.TooManyClients, heapd.ConnectionLost):
                h.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("heapd did not exit within %ss of SIGTERM:\n%s" % (timeout, self.log()))
        self._log.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _describe(h: heapd.Heap, obj) -> str:
    """One leaked object and what holds it (sessions, roots, fields), for the failure."""
    try:
        holders = h.inspect(obj["id"]).holders
    except heapd.NoSuchObject:
        return "#%d %s (freed meanwhile)" % (obj["id"], obj["type"])
    held = ["session %s x%d" % (s.name or "#%d (anonymous)" % s.session, s.count)
            for s in holders.sessions]
    held += ["root %r" % r for r in holders.roots]
    held += ["#%d.%s" % (f.object, f.field) for f in holders.fields]
    if holders.garbage:
        held.append("gc.garbage")
    return "#%d %s held by %s" % (obj["id"], obj["type"], ", ".join(held) or "a cycle")


def assert_clean_heap(daemon: Daemon, expect_empty: bool = True, test: str = "the test") -> None:
    """The invariant check passes; with expect_empty, after the test's connections are gone
    and a full collection the test left no objects (the daemon drops a closed anonymous
    session's references asynchronously, so poll briefly).

    Only what is new is reported: objects and invariant problems a test already failed for
    are remembered on the daemon, so one leak fails the test that made it, once, and the
    tests after it run on as usual (instead of every later teardown failing, 3 s each).
    A daemon that died stops the run: nothing after it could pass."""
    if not daemon.alive():
        daemon.dead = True
        pytest.exit("heapd died during %s; the run stops here. Its log:\n%s"
                    % (test, daemon.log()), returncode=1)
    with daemon.heap_when_admitted() as h:
        def new_problems():
            problems = [p for p in h.check().problems if p not in daemon.known_problems]
            daemon.known_problems.update(problems)
            return problems

        problems = new_problems()
        assert not problems, "%s broke the heap's invariants: %r" % (test, problems)
        if not expect_empty:
            return
        # Restore gc defaults a test may have changed.
        h.unfreeze()
        h.gc_set(enabled=True, threshold=[700, 10, 10], debug=[])
        h.garbage_clear()
        deadline = time.monotonic() + 3
        while True:
            h.collect()
            left = [o for o in h.objects() if o["id"] not in daemon.known_leaks]
            if not left:
                break
            if time.monotonic() > deadline:
                daemon.known_leaks.update(o["id"] for o in left)
                pytest.fail("%s left %d objects (later tests ignore them): %s"
                            % (test, len(left), "; ".join(_describe(h, o) for o in left[:10])),
                            pytrace=False)
            time.sleep(0.02)
        problems = new_problems()
        assert not problems, "%s broke the heap's invariants: %r" % (test, problems)


@pytest.fixture(scope="session")
def shared_daemon():
    """One daemon for the whole run; stopped with SIGTERM at the end (exit code 0)."""
    d = Daemon()
    try:
        yield d
        assert d.alive(), "heapd died:\n" + d.log()
        code = d.stop()
        assert code == 0, "heapd exited with %s:\n%s" % (code, d.log())
    finally:
        d.kill()


@pytest.fixture
def daemon(shared_daemon, request):
    """The shared daemon; after the test: `check` is ok and the test left no objects (of
    its own: see assert_clean_heap)."""
    yield shared_daemon
    assert_clean_heap(shared_daemon, test=request.node.nodeid)


@pytest.fixture(params=FRAMINGS)
def framing(request):
    """Each test using it runs once per framing."""
    return request.param


@pytest.fixture
def heap(daemon, framing):
    """A connection to the shared daemon, in both framings."""
    h = daemon.heap(framing=framing)
    yield h
    h.close()


@pytest.fixture
def connect(daemon, framing):
    """A factory of extra connections (closed after the test)."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("framing", framing)
        h = daemon.heap(**kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


@pytest.fixture
def spawn():
    """Start dedicated daemons with extra options; each must pass `check` and exit 0 on
    SIGTERM (unless the test stopped it itself)."""
    started = []

    def start(*args: str) -> Daemon:
        d = Daemon(*args)
        started.append(d)
        return d

    yield start
    try:
        for d in started:
            if d.alive():
                assert_clean_heap(d, expect_empty=False)
                code = d.stop()
                assert code == 0, "heapd exited with %s:\n%s" % (code, d.log())
    finally:
        for d in started:
            d.kill()

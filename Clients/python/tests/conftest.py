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


def assert_clean_heap(daemon: Daemon, expect_empty: bool = True) -> None:
    """The invariant check passes; with expect_empty, after the test's connections are gone
    and a full collection nothing is left (the daemon drops a closed anonymous session's
    references asynchronously, so poll briefly)."""
    assert daemon.alive(), "heapd died during the test:\n" + daemon.log()
    with daemon.heap_when_admitted() as h:
        check = h.check()
        assert check.ok, check.problems
        if not expect_empty:
            return
        # Restore gc defaults a test may have changed.
        h.unfreeze()
        h.gc_set(enabled=True, threshold=[700, 10, 10], debug=[])
        h.garbage_clear()
        deadline = time.monotonic() + 3
        while True:
            h.collect()
            objects = h.stats().objects
            if objects == 0:
                break
            if time.monotonic() > deadline:
                left = list(h.objects())
                pytest.fail("the test left %d objects: %r; sessions %r"
                            % (objects, left[:20], h.sessions()))
            time.sleep(0.02)
        check = h.check()
        assert check.ok, check.problems


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
def daemon(shared_daemon):
    """The shared daemon; after the test: `check` is ok and the test left no objects."""
    yield shared_daemon
    assert_clean_heap(shared_daemon)


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

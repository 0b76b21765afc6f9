"""Replays the fuzz seed corpus and every saved fuzz finding against the real daemon.

Each file in Tests/fuzz/regressions/ and Tests/fuzz/corpus/ is what one client sends on one
connection (see README.md here). It is sent over a real socket to one `heapd --memory
--max-message 4096` (the fuzz target's limit), the client half-closes and reads until the daemon
closes; then the daemon must be alive, every reply a well-formed frame holding a JSON object or
array, and `check` must pass. An input that asks for `shutdown` may end the daemon (exit 0); the
next input gets a new one. No fuzz build is needed.

The same inputs also run in-process through the fuzz target's own checks with the replayer that
the ordinary build makes (`.build/*/heapd-fuzz FILE...`), when it was built.
"""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from heapd_harness import ROOT, Client, Daemon, RPCError  # noqa: E402

# Replies may nest as deep as Jansson parses (2048 levels); Python's json recurses per level.
sys.setrecursionlimit(20000)

MAX_MESSAGE = 4096   # FuzzHarness.maximumMessageSize in Sources/HeapServer/FuzzEntry.swift


def inputs():
    out = []
    for sub in ("regressions", "corpus"):
        d = os.path.join(HERE, sub)
        if os.path.isdir(d):
            out += [os.path.join(d, n) for n in sorted(os.listdir(d)) if not n.startswith(".")]
    return out


INPUTS = inputs()


class DaemonSlot:
    """One daemon shared by the replays; replaced after an input shut it down."""

    def __init__(self):
        self.daemon = None

    def get(self):
        if self.daemon is None or not self.daemon.alive():
            self.daemon = Daemon("--memory", "--max-message", str(MAX_MESSAGE), "--log-level", "warning")
        return self.daemon

    def close(self):
        if self.daemon is not None:
            code = self.daemon.stop()
            assert code == 0, f"heapd exited with {code}:\n" + self.daemon.read_log()


@pytest.fixture(scope="module")
def slot():
    s = DaemonSlot()
    yield s
    s.close()


def frames(data: bytes, lsp: bool):
    """Splits what the daemon wrote into message bodies; fails on a partial frame."""
    bodies = []
    if not lsp:
        lines = data.split(b"\n")
        assert lines[-1] == b"", f"reply without final newline: {lines[-1][:200]!r}"
        return lines[:-1]
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"partial header: {data[:200]!r}"
        length = None
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        assert length is not None and len(rest) >= length, f"bad frame: {data[:200]!r}"
        bodies.append(rest[:length])
        data = rest[length:]
    return bodies


def replay(daemon, data: bytes) -> bytes:
    """Sends `data` on a new connection, half-closes, returns everything until the daemon closes."""
    c = Client(daemon.socket, timeout=30)
    try:
        c.send_raw(data)
        c.sock.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = c.sock.recv(65536)
            if not chunk:
                return out
            out += chunk
    except (BrokenPipeError, ConnectionResetError):
        return b""   # the daemon closed first (a broken header): nothing more to read
    finally:
        c.close()


@pytest.mark.parametrize("path", INPUTS, ids=[os.path.relpath(p, HERE) for p in INPUTS])
def test_input_keeps_daemon_and_heap_sound(slot, path):
    with open(path, "rb") as f:
        data = f.read()
    daemon = slot.get()
    written = replay(daemon, data)
    lsp = data[:1] in (b"C", b"c")
    for body in frames(written, lsp):
        value = json.loads(body)
        assert isinstance(value, (dict, list)), body[:200]

    asked_shutdown = b'"shutdown"' in data
    try:
        assert daemon.alive(), "heapd died"
        c = daemon.client()
        try:
            # The replay's connection is unregistered on its event loop right after its socket
            # closes, which may be a moment after the client saw EOF.
            deadline = time.time() + 10
            while True:
                check = c.call("check")
                stats = c.call("stats")
                if stats["connections"] == 1 or time.time() > deadline:
                    break
                time.sleep(0.01)
        finally:
            c.close()
    except (AssertionError, OSError, RPCError) as e:
        if not asked_shutdown:
            raise AssertionError(f"heapd failed after {path}: {e}\n" + daemon.read_log()) from e
        # The input asked for shutdown: the daemon must exit cleanly (the next input gets a new one).
        code = daemon.proc.wait(timeout=30)
        assert code == 0, f"heapd exited with {code} after a shutdown request:\n" + daemon.read_log()
        daemon.stop()
        return
    assert check["ok"], check["problems"]
    # Only the client asking is connected: the replay's connection was released.
    assert stats["connections"] == 1, stats


def replayer():
    if os.environ.get("HEAPD_FUZZ_BIN"):
        return os.environ["HEAPD_FUZZ_BIN"]
    for config in ("release", "debug"):
        path = os.path.join(ROOT, ".build", config, "heapd-fuzz")
        if os.path.exists(path):
            return path
    return None


@pytest.mark.skipif(replayer() is None, reason="heapd-fuzz is not built (make build builds it)")
def test_inputs_pass_fuzz_target_checks_in_process():
    """The fuzz target's checks (heap invariants, released connection, well-formed replies) on
    every input, in one process, without libFuzzer."""
    result = subprocess.run([replayer(), *INPUTS], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{len(INPUTS)} inputs replayed" in result.stdout

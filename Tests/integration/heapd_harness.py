"""Starts the real heapd binary on a temp socket and talks to it over NDJSON or LSP framing.

Used by every integration test: no mocks, the daemon is the one `swift build` produced
(HEAPD_BIN overrides the path).
"""
import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary(name):
    env = os.environ.get(name.upper() + "_BIN")
    if env:
        return os.path.abspath(env)   # tests may run it from another directory
    for config in ("release", "debug"):
        path = os.path.join(ROOT, ".build", config, name)
        if os.path.exists(path):
            return path
    raise RuntimeError(f"{name} is not built: run `make build` first")


class Daemon:
    """A heapd process on a private socket; stopped (and checked for a clean exit) on close."""

    def __init__(self, *args, directory=None):
        """Starts heapd with `args`; unless they say --memory or --data, the heap persists in
        a private data directory (`self.data`), which a later Daemon(directory=...) reuses."""
        self.dir = directory or tempfile.mkdtemp(prefix="heapd-test-")
        self.socket = os.path.join(self.dir, "heapd.sock")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "heapd.log")
        self.log = open(self.log_path, "a")
        storage = [] if ("--memory" in args or "--data" in args) else ["--data", self.data]
        self.proc = subprocess.Popen([binary("heapd"), "--socket", self.socket, *storage, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"heapd exited with {self.proc.returncode}: {self.read_log()}")
            try:
                Client(self.socket).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("heapd did not start: " + self.read_log())

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def client(self, framing="ndjson"):
        return Client(self.socket, framing)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


class RPCError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")


class Client:
    """A blocking JSON-RPC client. Notifications that arrive are kept in `self.notifications`."""

    def __init__(self, path, framing="ndjson", timeout=30):
        self.framing = framing
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1
        self.notifications = []

    def close(self):
        self.sock.close()

    # -- raw I/O --------------------------------------------------------------
    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def frame(self, text: bytes) -> bytes:
        if self.framing == "ndjson":
            return text + b"\n"
        return b"Content-Length: %d\r\n\r\n" % len(text) + text

    def send(self, message):
        self.send_raw(self.frame(json.dumps(message).encode()))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by heapd")
        self.buf += chunk

    def read_message(self):
        """The next JSON value the daemon sends (reply, batch reply or notification)."""
        if self.framing == "ndjson":
            while b"\n" not in self.buf:
                self._fill()
            line, self.buf = self.buf.split(b"\n", 1)
            return json.loads(line)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        header, rest = self.buf.split(b"\r\n\r\n", 1)
        length = None
        for h in header.split(b"\r\n"):
            name, _, value = h.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        assert length is not None, header
        while len(rest) < length:
            self._fill_into_rest = True
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by heapd")
            rest += chunk
        self.buf = rest[length:]
        return json.loads(rest[:length])

    def read_reply(self):
        """The next reply, keeping notifications that come before it."""
        while True:
            msg = self.read_message()
            if isinstance(msg, dict) and "method" in msg and "id" not in msg:
                self.notifications.append(msg)
                continue
            return msg

    # -- requests -------------------------------------------------------------
    def request(self, method, params=None):
        """Sends one request and returns the whole reply object."""
        rid = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        reply = self.read_reply()
        assert reply.get("id") == rid, (reply, rid)
        return reply

    def call(self, method, **params):
        reply = self.request(method, params or None)
        if "error" in reply:
            raise RPCError(reply["error"])
        return reply["result"]

    def take_notifications(self, method=None):
        out = [n for n in self.notifications if method is None or n["method"] == method]
        self.notifications = [n for n in self.notifications if not (method is None or n["method"] == method)]
        return out


@contextlib.contextmanager
def daemon_with(*args):
    """A daemon with extra flags, checked like the `daemon` fixture afterwards: alive, its heap
    passes `check`, and SIGTERM stops it with status 0."""
    d = Daemon(*args)
    try:
        yield d
        assert d.alive(), "heapd died:\n" + d.read_log()
        deadline = time.time() + 10
        while True:  # a client slot may take a moment to free (--max-clients)
            c = d.client()
            try:
                check = c.call("check")
                break
            except (ConnectionError, OSError, AssertionError):
                assert time.time() < deadline
                time.sleep(0.05)
            finally:
                c.close()
        assert check["ok"], check["problems"]
    finally:
        code = d.stop()
    assert code == 0, d.read_log()


def is_alive(c, oid):
    """Whether object `oid` is still live (`get` answers -32001 for a freed one)."""
    try:
        c.call("get", id=oid)
        return True
    except RPCError as e:
        assert e.code == -32001, e
        return False

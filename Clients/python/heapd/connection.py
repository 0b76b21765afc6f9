"""The transport: a Unix domain socket carrying framed JSON messages.

:class:`Connection` knows nothing about JSON-RPC ids or heap semantics; it sends and receives
whole JSON values. :func:`default_socket_path` resolves the socket path by the daemon's own rule.
"""

import json
import os
import socket
import time
from typing import Any, Optional

from .errors import ConnectionLost, DaemonUnreachable
from .framing import Framing, FramingError, get_framing

__all__ = ["Connection", "default_socket_path", "encode_json"]

_RECV_SIZE = 65536


def default_socket_path(explicit: Optional[str] = None) -> str:
    """The socket path, by the same rule as the daemon and ``heapctl``.

    An explicit (non-empty) path wins; else ``$HEAPD_SOCKET``; else
    ``$XDG_RUNTIME_DIR/heapd/heapd.sock``; else ``/tmp/heapd-$UID/heapd.sock``. Empty
    environment variables count as unset.
    """
    if explicit:
        return os.fspath(explicit)
    env = os.environ.get("HEAPD_SOCKET")
    if env:
        return env
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return runtime + "/heapd/heapd.sock"
    return "/tmp/heapd-%d/heapd.sock" % os.getuid()


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (no NaN/Infinity, which JSON does not have)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


class Connection:
    """One socket to heapd with a framing. Not thread-safe by itself: :class:`heapd.Heap`
    serializes access with its lock.

    Args:
        path: the socket path (see :func:`default_socket_path`).
        framing: ``"ndjson"`` (default), ``"lsp"`` or a :class:`~heapd.framing.Framing`.
        connect_timeout: seconds to wait for ``connect``.

    Raises:
        DaemonUnreachable: nothing listens on ``path`` (or it cannot be used).
    """

    def __init__(self, path: str, framing="ndjson", connect_timeout: Optional[float] = 5.0):
        self.path = path
        self.framing: Framing = get_framing(framing)
        self._buffer = bytearray()
        self._eof = False
        self._decodable = False
        self._reason = ""
        self.closed = False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(path)
            sock.settimeout(None)
        except (OSError, ValueError) as exc:  # ValueError: embedded NUL; OSError: the rest
            sock.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DaemonUnreachable(path, reason) from None
        self._sock = sock

    def fileno(self) -> int:
        """The socket's file descriptor (for ``select``)."""
        return self._sock.fileno()

    def send_bodies(self, bodies) -> None:
        """Frame and send several JSON texts (bytes) in one write.

        Raises:
            ConnectionLost: the socket is closed or broken.
        """
        if self.closed:
            raise ConnectionLost("the connection to heapd at %s is closed" % self.path)
        data = b"".join(self.framing.encode(b) for b in bodies)
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise ConnectionLost("sending to heapd at %s failed: %s" % (self.path, exc)) from None

    def pending(self) -> bool:
        """Whether a complete message is already buffered (no socket read needed)."""
        probe = bytearray(self._buffer)
        try:
            return self.framing.decode(probe) is not None
        except FramingError:
            return True

    def receive(self, timeout: Optional[float] = None) -> Any:
        """Receive one message and return it parsed (a dict, or a list for a batch reply).

        Args:
            timeout: seconds to wait; ``None`` waits forever, ``0`` only takes what is
                already readable.

        Returns:
            The parsed JSON value, or ``None`` when ``timeout`` passed without a whole message
            (a partial one stays buffered).

        Raises:
            ConnectionLost: the daemon closed the connection (or it broke), or sent bytes that
                are not framed JSON.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                body = self.framing.decode(self._buffer) if self._decodable else None
            except FramingError as exc:
                self.close()
                raise ConnectionLost("heapd sent a broken frame: %s" % exc) from None
            if body is None:
                self._decodable = False
            else:
                try:
                    return json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    self.close()
                    raise ConnectionLost("heapd sent invalid JSON: %s" % exc) from None
            if self._eof or self.closed:
                last = self._salvage()
                if last is not None:
                    return last
                self.close()
                raise ConnectionLost("heapd closed the connection (%s)%s"
                                     % (self.path, self._reason))
            if deadline is None:
                self._sock.settimeout(None)
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    # One non-blocking attempt, so that timeout=0 still sees ready data.
                    self._sock.setblocking(False)
                else:
                    self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(_RECV_SIZE)
            except (BlockingIOError, socket.timeout):
                return None
            except OSError as exc:  # e.g. ECONNRESET after the daemon closed on us
                self._eof = True
                self._reason = ": %s" % (exc.strerror or exc)
                continue
            finally:
                if not self.closed:
                    self._sock.settimeout(None)
            if not chunk:
                self._eof = True
            else:
                self._buffer += chunk
                # Skip re-scanning a large partial message for every chunk.
                self._decodable = self.framing.may_complete(chunk)

    def _salvage(self) -> Any:
        """At end of stream: a last message the framing cannot take. The daemon sends errors
        it cannot tie to a request in NDJSON framing when it closes a connection right away
        (too many clients), whatever framing the client chose; an NDJSON last line without
        its newline also counts, as the daemon's own reader does."""
        data = bytes(self._buffer).strip()
        if not data.startswith((b"{", b"[")):
            return None
        line, _, rest = data.partition(b"\n")
        self._buffer = bytearray(rest)
        try:
            return json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def abort(self) -> None:
        """Shut the socket down (both directions) without closing it, so that a read blocked
        in another thread returns at once."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if not self.closed:
            self.closed = True
            try:
                self._sock.close()
            except OSError:
                pass

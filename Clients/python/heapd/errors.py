"""Typed errors for the heapd client.

Every JSON-RPC error the daemon sends becomes an instance of :class:`HeapdError` or, for the
codes documented in ``Protocol/README.md`` §3, of the subclass named after that code::

    try:
        heap.get(7)
    except heapd.NoSuchObject as e:
        print(e.code, e.message, e.state)      # -32001 'object 7 was freed' 'freed'

Errors that do not come from the daemon (it could not be reached, the connection broke) are
:class:`DaemonUnreachable` and :class:`ConnectionLost`; both are also :class:`ConnectionError`.
"""

import os
import stat
from typing import Any, Dict, Optional, Type

__all__ = [
    "HeapdError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "NoSuchObject",
    "ReferenceNotHeld",
    "QuotaExceeded",
    "SessionConflict",
    "RequestTooLarge",
    "ShuttingDown",
    "NoSuchSession",
    "ScopeError",
    "NoSuchRoot",
    "TooManyClients",
    "AccessDenied",
    "DiskFull",
    "NoSuchSnapshot",
    "RendererUnavailable",
    "DaemonUnreachable",
    "ConnectionLost",
    "ReplyTimeout",
    "HandleClosed",
    "error_from_response",
    "ERROR_CLASSES",
]


class HeapdError(Exception):
    """An error reported by heapd (or, for the client-side subclasses, about reaching it).

    Attributes:
        code: the JSON-RPC error code (``None`` for client-side errors).
        message: the daemon's message.
        data: the error's ``data`` member (``None`` when absent).
    """

    #: The JSON-RPC code this class stands for (``None``: any / client side).
    CODE: Optional[int] = None

    def __init__(self, code: Optional[int], message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        return "[%d] %s" % (self.code, self.message)

    def __repr__(self) -> str:
        return "%s(code=%r, message=%r, data=%r)" % (
            type(self).__name__, self.code, self.message, self.data)


class ParseError(HeapdError):
    """-32700: the message was not valid JSON, or an LSP header was broken (the daemon then
    closes the connection)."""

    CODE = -32700


class InvalidRequest(HeapdError):
    """-32600: valid JSON, but not a JSON-RPC 2.0 request."""

    CODE = -32600


class MethodNotFound(HeapdError):
    """-32601: the daemon has no such method."""

    CODE = -32601


class InvalidParams(HeapdError, ValueError):
    """-32602: a parameter was missing or wrong; the message names it."""

    CODE = -32602


class InternalError(HeapdError):
    """-32603: a bug in the daemon; the request changed nothing."""

    CODE = -32603


class NoSuchObject(HeapdError, LookupError):
    """-32001: the object id is not live.

    Attributes:
        id: the object id the request named.
        state: ``"freed"`` (it lived once) or ``"never-existed"``.
    """

    CODE = -32001

    @property
    def id(self) -> Optional[int]:
        """The id that is not live."""
        return self.data.get("id") if isinstance(self.data, dict) else None

    @property
    def state(self) -> Optional[str]:
        """``"freed"`` or ``"never-existed"``."""
        return self.data.get("state") if isinstance(self.data, dict) else None


class ReferenceNotHeld(HeapdError):
    """-32002: ``unref`` of a reference this session does not hold (``data: {id}``)."""

    CODE = -32002

    @property
    def id(self) -> Optional[int]:
        """The object id."""
        return self.data.get("id") if isinstance(self.data, dict) else None


class QuotaExceeded(HeapdError):
    """-32003: a heap quota (objects, bytes), an object's most references or most fields."""

    CODE = -32003


class SessionConflict(HeapdError):
    """-32004: the named session is attached to another connection (``data: {name}``)."""

    CODE = -32004

    @property
    def name(self) -> Optional[str]:
        """The session's name."""
        return self.data.get("name") if isinstance(self.data, dict) else None


class RequestTooLarge(HeapdError):
    """-32005: the message exceeded the daemon's ``--max-message`` (``data: {limit}``); it was
    skipped and the connection stays usable."""

    CODE = -32005

    @property
    def limit(self) -> Optional[int]:
        """The largest message the daemon accepts, in bytes."""
        return self.data.get("limit") if isinstance(self.data, dict) else None


class ShuttingDown(HeapdError):
    """-32006: the daemon is stopping (after ``shutdown`` or SIGTERM) and takes no new work."""

    CODE = -32006


class NoSuchSession(HeapdError):
    """-32007: no session has that name, or this connection is not in a named session."""

    CODE = -32007


class ScopeError(HeapdError):
    """-32008: ``scope.exit`` without an open scope, or scopes nested deeper than 1023."""

    CODE = -32008


class NoSuchRoot(HeapdError, KeyError):
    """-32009: no named root has that name (``data: {name}``). Also a :class:`KeyError`, so
    ``heap.roots[name]`` behaves like a mapping lookup."""

    CODE = -32009

    @property
    def name(self) -> Optional[str]:
        """The root's name."""
        return self.data.get("name") if isinstance(self.data, dict) else None

    # KeyError.__str__ would print the repr of args; keep HeapdError's format.
    __str__ = HeapdError.__str__


class TooManyClients(HeapdError, ConnectionError):
    """-32010: the daemon already serves ``--max-clients`` connections and closed this one."""

    CODE = -32010


class AccessDenied(HeapdError, PermissionError):
    """-32011: this process's user (SO_PEERCRED) may not use the daemon; it closed the connection."""

    CODE = -32011


class DiskFull(HeapdError):
    """-32012: the change was refused before it was applied (nothing changed): the daemon's disk
    has no room for its journal record. Reads still work; changes resume by themselves once
    space returns."""

    CODE = -32012


class NoSuchSnapshot(HeapdError, LookupError):
    """-32013: no snapshot was saved under that name (``Heap.snapshots()`` lists them)."""

    CODE = -32013


class RendererUnavailable(HeapdError):
    """-32014: ``graph`` with ``format="svg"`` needs Graphviz's ``dot`` where the daemon runs;
    it is missing, failed or ran too long (``data: {renderer, reason}``). ``format="dot"``
    always works."""

    CODE = -32014

    @property
    def reason(self) -> Optional[str]:
        """``"missing"``, ``"timeout"``, ``"failed"`` or ``"too-large"``."""
        return self.data.get("reason") if isinstance(self.data, dict) else None


class NoSuchField(HeapdError, AttributeError):
    """-32015: ``set`` deleted (``None``) a field the object does not have (``data: {id,
    field}``). Nothing of the request was applied, except what CPython 3.11's failed ``del``
    does too: the name is interned in the type's field order. Also an :class:`AttributeError`,
    as Python's ``del obj.field`` raises."""

    CODE = -32015


class DaemonUnreachable(HeapdError, ConnectionError):
    """The daemon's socket could not be connected to (no daemon, wrong path, no permission).

    Attributes:
        path: the socket path that was tried.
        reason: the operating system's reason.
        hint: how to start the daemon on that path.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        # Starting a daemon "there" only helps where a socket could be: not on an existing
        # file that is no socket (heapd would refuse it), nor when access is what failed.
        try:
            is_other_file = os.path.exists(path) and not stat.S_ISSOCK(os.stat(path).st_mode)
        except (OSError, ValueError):
            is_other_file = False
        if is_other_file:
            self.hint = ("%s is not a socket: set HEAPD_SOCKET (or pass the path) to heapd's "
                         "socket" % path)
        elif "denied" in reason or "not permitted" in reason:
            self.hint = "heapd admits only the user it runs as (and root)"
        else:
            self.hint = ("start the daemon with `heapd --socket %s &` "
                         "(or `make run` in the heapd checkout), or set HEAPD_SOCKET" % path)
        super().__init__(None, "cannot connect to heapd at %s: %s\nhint: %s"
                         % (path, reason, self.hint), {"path": path})


class ConnectionLost(HeapdError, ConnectionError):
    """The connection to the daemon broke or was closed (by the daemon or by this client)."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message, None)


class ReplyTimeout(ConnectionLost, TimeoutError):
    """No reply within the connection's ``timeout`` (see :class:`heapd.Heap`). The client then
    closes the connection: a reply that came later could not be told from the next one's, and
    the request may still have taken effect (an anonymous session's references go with the
    connection; a named session keeps its own, so reconnect and resume it).

    Attributes:
        method: the request that got no reply.
        timeout: the seconds waited.
    """

    def __init__(self, method: str, timeout: float) -> None:
        self.method = method
        self.timeout = timeout
        super().__init__("no reply to %r from heapd within %g s; the connection was closed (the "
                         "request may still have taken effect)" % (method, timeout))


class HandleClosed(ValueError):
    """An operation on a :class:`~heapd.Handle` whose reference was already released
    (closed, dropped by a scope exit or a session close, or its connection closed)."""


#: code → class, for every code heapd documents.
ERROR_CLASSES: Dict[int, Type[HeapdError]] = {
    cls.CODE: cls
    for cls in (ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError,
                NoSuchObject, ReferenceNotHeld, QuotaExceeded, SessionConflict, RequestTooLarge,
                ShuttingDown, NoSuchSession, ScopeError, NoSuchRoot, TooManyClients, AccessDenied,
                DiskFull, NoSuchSnapshot, RendererUnavailable, NoSuchField)
    if cls.CODE is not None
}


def error_from_response(error: Any) -> HeapdError:
    """Build the typed exception for a JSON-RPC ``error`` member (``{code, message, data?}``).

    Unknown codes give a plain :class:`HeapdError`; a malformed member gives an
    :class:`InternalError`-free generic :class:`HeapdError` with code ``None``.
    """
    if not isinstance(error, dict):
        return HeapdError(None, "malformed error member: %r" % (error,))
    code = error.get("code")
    message = error.get("message")
    if not isinstance(message, str):
        message = repr(message)
    data = error.get("data")
    cls = ERROR_CLASSES.get(code, HeapdError) if isinstance(code, int) else HeapdError
    return cls(code if isinstance(code, int) else None, message, data)

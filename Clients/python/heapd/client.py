"""The heapd client: :class:`Heap`, one connection (one session) to the daemon.

Everything is synchronous. A :class:`Heap` sends a request, then reads until that request's
reply arrives; notifications read on the way are dispatched first, in order (to the callbacks
given to :meth:`Heap.subscribe`, or queued for :meth:`Heap.events`), so by the time a method
returns, every event its request caused has been delivered.

Threads: one :class:`Heap` per thread is the intended use (the daemon serves connections in
parallel). A Heap may still be shared: a re-entrant lock serializes whole round trips, so calls
from several threads are safe but take turns. Event callbacks run on the thread that happens
to read the notification, with that lock held; they may call the same Heap again (re-entrant).
"""

import collections
import sys
import threading
import time
import traceback
from collections.abc import MutableMapping
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Union

from .connection import Connection, default_socket_path, encode_json
from .errors import (ConnectionLost, NoSuchObject, NoSuchRoot, ReferenceNotHeld, ReplyTimeout,
                     error_from_response)
from .handles import MISSING, Handle, WeakRef, _as_id, _field_value, _Frame, _Slot, _warn_unclosed

_PACKAGE_DIR = __file__.rsplit("/", 1)[0]


def _caller_site() -> str:
    """``file:line`` of the first frame outside this package (tracemalloc's most recent frame):
    where the program asked for the object."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    return "%s:%d" % (f.f_code.co_filename, f.f_lineno) if f is not None else "?"

__all__ = ["Heap", "Pipeline", "Pending", "Scope", "Roots", "Event", "Record", "EVENT_KINDS",
           "connect"]

#: Requests a pipeline writes before reading their replies: bounds what either side buffers.
_PIPELINE_CHUNK = 1000

#: Every notification kind the daemon sends.
EVENT_KINDS = ("finalize", "weakref.callback", "freed", "gc.start", "gc.stop", "session.closed")


class Record(dict):
    """A result from the daemon: a ``dict`` whose keys can also be read as attributes
    (``heap.collect().unreachable``). Nested objects are Records too. Keys that clash with dict
    methods (``items``, ``keys``, ...) must be read with ``[]``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> Iterable[str]:
        return list(super().__dir__()) + [k for k in self if isinstance(k, str)]


def _record(value: Any) -> Any:
    """Convert parsed JSON: every dict becomes a :class:`Record`, recursively."""
    if isinstance(value, dict):
        return Record((k, _record(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_record(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    """Params for a raw call: Handles become their ids, recursively."""
    if isinstance(value, Handle):
        return value.id
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class Event:
    """A notification from the daemon.

    Attributes:
        kind: the notification's method (``"freed"``, ``"gc.stop"``, ...).
        params: its params (a :class:`Record`); keys are also attributes (``event.ids``).
    """

    __slots__ = ("kind", "params")

    def __init__(self, kind: str, params: Any) -> None:
        self.kind = kind
        self.params = _record(params) if isinstance(params, dict) else Record()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.params[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``params.get(key, default)``."""
        return self.params.get(key, default)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, Event):
            return self.kind == other.kind and self.params == other.params
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.kind, encode_json(self.params)))

    def __repr__(self) -> str:
        return "Event(%r, %r)" % (self.kind, dict(self.params))


class Scope:
    """A scope (stack frame) of the session: ``with heap.scope(): ...``.

    Entering sends ``scope.enter``; exiting sends ``scope.exit``, which drops every reference
    taken inside it, so the handles created inside are released (closed) without a message of
    their own. Scopes must be exited innermost first. Attributes after use: ``depth`` (the
    depth it opened at) and ``freed`` (ids freed by its exit).
    """

    def __init__(self, heap: "Heap") -> None:
        self._heap = heap
        self._frame: Optional[_Frame] = None
        self.depth: Optional[int] = None
        self.freed: Optional[List[int]] = None

    def enter(self) -> "Scope":
        """Open the scope (``scope.enter``)."""
        if self._frame is not None:
            raise RuntimeError("this scope was already entered")
        self._frame = self._heap._enter_scope()
        self.depth = self._frame.depth
        return self

    def exit(self) -> Optional[Record]:
        """Leave the scope (``scope.exit``); returns its result ``{depth, freed}``, or ``None``
        when the scope no longer exists (its session was closed or switched, or the connection
        closed)."""
        if self._frame is None:
            raise RuntimeError("this scope was not entered")
        result = self._heap._exit_scope(self._frame)
        if result is not None:
            self.freed = list(result.get("freed", []))
        return result

    def __enter__(self) -> "Scope":
        return self.enter()

    def __exit__(self, *exc: Any) -> None:
        self.exit()

    def __repr__(self) -> str:
        return "<heapd.Scope depth=%r>" % (self.depth,)


class Roots(MutableMapping):
    """The named roots (global variables), as a mutable mapping ``name → Handle``.

    ``heap.roots["cfg"] = h`` binds (``root.set``; an int id works too, ``None`` deletes);
    ``heap.roots["cfg"]`` returns a new handle owning a new reference (``root.get`` + ``ref``);
    ``del heap.roots["cfg"]`` unbinds (KeyError if unbound); iteration yields the names in
    order; :meth:`ids` and :meth:`list` read without taking references. A missing name raises
    :class:`heapd.NoSuchRoot`, which is a :class:`KeyError`.
    """

    def __init__(self, heap: "Heap") -> None:
        self._heap = heap

    def list(self) -> List[Record]:
        """``root.list``: ``[{name, id}]`` sorted by name."""
        return self._heap._request("root.list")["roots"]

    def ids(self) -> Dict[str, int]:
        """``{name: id}`` for every root (no references taken)."""
        return {r["name"]: r["id"] for r in self.list()}

    def get_id(self, name: str) -> int:
        """The id bound to ``name`` (``root.get``; raises :class:`heapd.NoSuchRoot`)."""
        return self._heap._request("root.get", {"name": name})["id"]

    def set(self, name: str, value: Any) -> Record:
        """``root.set``: bind ``name`` to ``value`` (Handle or id; ``None`` unbinds). Returns
        ``{name, id, previous, freed}``."""
        target = None if value is None else _as_id(value, "root value")
        return self._heap._request("root.set", {"name": name, "id": target})

    def __getitem__(self, name: str) -> Handle:
        heap = self._heap
        with heap._lock:
            return heap.ref(self.get_id(name))

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        result = self.set(name, None)
        if result.get("previous") is None:
            raise NoSuchRoot(-32009, "no root named %r" % (name,), {"name": name})

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.get_id(name)
            return True
        except NoSuchRoot:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter([r["name"] for r in self.list()])

    def __len__(self) -> int:
        return len(self.list())

    def __repr__(self) -> str:
        return "<heapd.Roots %r>" % (self.ids(),)


class Heap:
    """A connection to heapd, and the session it holds references in.

    Args:
        path: the daemon's socket. Default: ``$HEAPD_SOCKET``, else
            ``$XDG_RUNTIME_DIR/heapd/heapd.sock``, else ``/tmp/heapd-$UID/heapd.sock`` (the
            daemon's own rule; see :func:`heapd.default_socket_path`).
        framing: ``"ndjson"`` (newline-delimited JSON, default) or ``"lsp"``
            (``Content-Length`` frames).
        session: open (or resume) this named session right away (:meth:`open_session`).
        lease_s: with ``session``, its lease in seconds (see :meth:`open_session`).
        autorelease: release handles that Python garbage-collects without ``close()``
            (queued by ``__del__`` without I/O, sent before the next request). With ``False``
            such handles keep their reference until the session ends and a
            :class:`ResourceWarning` is issued.
        connect_timeout: seconds to wait for the socket connection.
        timeout: seconds to wait for each reply (``None``: for ever). When it passes, the
            call raises :class:`heapd.ReplyTimeout` and the connection is closed. Settable
            later as :attr:`timeout`.
        record_sites: send each allocation's site, the caller's ``file:line`` (as tracemalloc
            records where memory was allocated), unless ``site=`` is given. Settable later as
            :attr:`record_sites`.

    Raises:
        DaemonUnreachable: no daemon listens on ``path`` (the message says how to start one).

    A Heap is a context manager; leaving the block closes the connection. Closing an
    anonymous session's connection makes the daemon drop all its references; a named session
    keeps them until :meth:`close_session`.
    """

    def __init__(self, path: Optional[str] = None, *, framing: str = "ndjson",
                 session: Optional[str] = None, lease_s: Optional[float] = None,
                 autorelease: bool = True, connect_timeout: Optional[float] = 5.0,
                 timeout: Optional[float] = None, record_sites: bool = True) -> None:
        #: Whether :meth:`allocate` sends the caller's ``file:line`` as the object's site.
        self.record_sites = record_sites
        if lease_s is not None and session is None:
            raise TypeError("lease_s is the lease of a named session: give session= too")
        #: The daemon's socket (``path`` is the why-is-it-alive method, :meth:`path`).
        self.socket_path = default_socket_path(path)
        #: Seconds to wait for each reply (``None``: for ever); see :class:`ReplyTimeout`.
        self.timeout = timeout
        self._lock = threading.RLock()
        self._conn = Connection(self.socket_path, framing, connect_timeout)
        self.framing = self._conn.framing.name
        self.autorelease = autorelease
        self._closed = False
        self._next_id = 0
        self._outstanding: Deque[Any] = collections.deque()
        self._replies: Dict[Any, Any] = {}
        self._pending_release: Deque[_Slot] = collections.deque()
        self._frames: List[_Frame] = [_Frame(0)]
        self._slots: Dict[int, List[_Slot]] = {}
        self._session_name: Optional[str] = None
        self._user_kinds: set = set()
        self._internal_kinds: set = set()
        self._callbacks: Dict[str, List[Callable[[Event], Any]]] = {}
        self._weakref_hooks: Dict[int, Callable[[Event], Any]] = {}
        self._events: Deque[Event] = collections.deque()
        #: Exceptions raised by event callbacks (also printed to stderr), oldest first.
        self.callback_errors: List[BaseException] = []
        #: The named roots, as a mapping (see :class:`Roots`).
        self.roots = Roots(self)
        if session is not None:
            try:
                self.open_session(session, lease_s=lease_s)
            except BaseException:
                self.close()
                raise

    # ======================================================================== lifecycle
    @property
    def closed(self) -> bool:
        """Whether the connection is closed (by :meth:`close`, or lost)."""
        return self._closed

    @property
    def session(self) -> Optional[str]:
        """The named session this connection is attached to, or ``None`` (anonymous)."""
        return self._session_name

    def close(self) -> None:
        """Send any queued releases, then close the connection (idempotent). Every handle of
        this Heap is then closed; the daemon drops an anonymous session's references.

        Called from another thread while a call (e.g. ``events(timeout=None)``) is blocked
        reading, it shuts the socket down so that the blocked call ends with
        :class:`ConnectionLost`."""
        if not self._lock.acquire(timeout=0.2):
            self._conn.abort()
            self._lock.acquire()
        try:
            if self._closed:
                return
            try:
                bodies = self._drain_releases()
                if bodies:
                    self._conn.send_bodies(bodies)
            except ConnectionLost:
                pass
            self._mark_closed()
        finally:
            self._lock.release()

    def _mark_closed(self) -> None:
        """The connection is gone: close the socket and every handle."""
        self._closed = True
        self._conn.close()
        self._release_all()
        self._outstanding.clear()

    def __enter__(self) -> "Heap":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return "<heapd.Heap %s %s session=%r framing=%s>" % (
            self.socket_path, state, self._session_name, self.framing)

    # ======================================================================== transport
    def _ensure_open(self) -> None:
        """Raise :class:`ConnectionLost` if this Heap is closed."""
        if self._closed:
            raise ConnectionLost("this Heap's connection to %s is closed" % self.socket_path)

    def _request(self, method: str, params: Optional[Dict[str, Any]] = None) -> Any:
        """Send one request and return its result as a Record (raise its error)."""
        with self._lock:
            self._ensure_open()
            self._take_in()
            self._next_id += 1
            rid = self._next_id
            message: Dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
            if params is not None:
                message["params"] = params
            body = encode_json(message)
            bodies = self._drain_releases()
            bodies.append(body)
            reply = self._exchange(bodies, rid, method)
            if "error" in reply:
                error = error_from_response(reply["error"])
                if error.code == -32010:  # the daemon closes the connection after it
                    self._mark_closed()
                raise error
        return _record(reply.get("result"))

    def _take_in(self) -> None:
        """Before building a request: dispatch whatever arrived while idle (events, a
        ``session.closed``, an error the daemon sent before closing), so that its effects
        on the bookkeeping are known before the request and its queued releases are made."""
        if not self._outstanding:
            self._pump(0)

    def _exchange(self, bodies: List[bytes], token: Any, what: str = "request") -> Any:
        """Send ``bodies`` (the last one expecting the reply ``token``), then read until it."""
        self._outstanding.append(token)
        try:
            self._conn.send_bodies(bodies)
        except ConnectionLost:
            # The daemon may have said why before it closed (TooManyClients, ShuttingDown):
            # read what is buffered; _await raises ConnectionLost if there is nothing.
            pass
        return self._await(token, what)

    def _await(self, token: Any, what: str = "request") -> Any:
        """Read (dispatching notifications) until the reply for ``token`` is in; at most
        :attr:`timeout` seconds (then close and raise :class:`ReplyTimeout` about ``what``)."""
        timeout = self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while token not in self._replies:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                message = self._conn.receive(remaining)
            except ConnectionLost:
                self._mark_closed()
                raise
            if message is None:  # only with a deadline: it passed
                # A late reply would be taken for the next request's: the stream is unusable.
                self._mark_closed()
                raise ReplyTimeout(what, timeout)
            self._incoming(message)
        return self._replies.pop(token)

    def _pump(self, timeout: Optional[float]) -> int:
        """Read and dispatch what arrives within ``timeout``; returns how many messages."""
        n = 0
        while True:
            try:
                message = self._conn.receive(timeout)
            except ConnectionLost:
                self._mark_closed()
                if timeout == 0:
                    return n
                raise
            if message is None:
                return n
            n += 1
            self._incoming(message)
            timeout = 0

    def _incoming(self, message: Any) -> None:
        """Route one received message: a notification to :meth:`_dispatch`, a reply to its request."""
        if isinstance(message, dict) and "method" in message and "id" not in message:
            self._dispatch(Event(message.get("method"), message.get("params")))
            return
        # A reply (or a batch reply). Replies come in request order, so each answers the
        # oldest outstanding request; this also places id-null errors (parse errors, too
        # large) with the request that caused them.
        if self._outstanding:
            token = self._outstanding.popleft()
            rid = message.get("id") if isinstance(message, dict) else None
            if isinstance(token, int) and rid is not None and rid != token:
                # Replies must come in request order (Protocol README §2): a daemon bug.
                self._mark_closed()
                raise ConnectionLost("protocol error: expected the reply to request %r, got "
                                     "one for %r; connection closed" % (token, rid))
            self._replies[token] = message
            return
        if isinstance(message, dict) and isinstance(message.get("error"), dict):
            error = error_from_response(message["error"])
            if error.code == -32010:
                self._mark_closed()
            raise error
        # An unsolicited reply without error: nothing waits for it.

    # ========================================================================== events
    def _dispatch(self, event: Event) -> None:
        """Internal handling (session closed, weakref hooks), then callbacks or the queue."""
        kind = event.kind
        if kind == "session.closed" and self._session_name is not None \
                and event.get("name") == self._session_name:
            self._reset_session()
        if kind == "weakref.callback":
            hook = self._weakref_hooks.pop(event.get("weakref"), None)
            if hook is not None:
                self._run_callback(hook, event)
        if kind not in self._user_kinds:
            return
        callbacks = self._callbacks.get(kind)
        if callbacks:
            for callback in list(callbacks):
                self._run_callback(callback, event)
        else:
            self._events.append(event)

    def _run_callback(self, callback: Callable[[Event], Any], event: Event) -> None:
        """Call ``callback(event)``; report, never raise, its exception."""
        try:
            callback(event)
        except Exception as exc:  # as CPython does for weakref callbacks and __del__
            self.callback_errors.append(exc)
            sys.stderr.write("heapd: exception in event callback %r for %r:\n"
                             % (callback, event))
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)

    def subscribe(self, kinds: Union[str, Iterable[str]] = "*",
                  callback: Optional[Callable[[Event], Any]] = None) -> List[str]:
        """Receive notifications of ``kinds`` (a kind, a list of kinds, or ``"*"``): ``finalize``,
        ``weakref.callback``, ``freed``, ``gc.start``, ``gc.stop``, ``session.closed``.

        With ``callback``, events of those kinds are passed to ``callback(event)`` as they are
        read (before the reply of the request that caused them is returned); without one they
        are queued for :meth:`events`. A kind with at least one callback is not queued.
        Exceptions in callbacks are printed and kept in :attr:`callback_errors`, not raised.

        Returns the kinds this connection is now subscribed to (the daemon's list).
        """
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        expanded = list(EVENT_KINDS) if "*" in kinds else kinds
        with self._lock:
            result = self._request("subscribe", {"events": kinds})
            self._user_kinds.update(expanded)
            if callback is not None:
                for kind in expanded:
                    self._callbacks.setdefault(kind, []).append(callback)
            return [k for k in result["events"] if k in self._user_kinds]

    def unsubscribe(self, kinds: Union[None, str, Iterable[str]] = None,
                    callback: Optional[Callable[[Event], Any]] = None) -> List[str]:
        """Stop notifications.

        ``unsubscribe()`` stops everything; ``unsubscribe(kinds)`` stops those kinds (and
        forgets their callbacks); ``unsubscribe(callback=fn)`` (optionally with ``kinds``) only
        detaches ``fn``, leaving the subscription, so those events are queued again if no other
        callback remains. Returns the kinds still subscribed.
        """
        if isinstance(kinds, str):
            kinds = [kinds]
        with self._lock:
            selected = list(EVENT_KINDS) if kinds is None or "*" in kinds else list(kinds)
            if callback is not None:
                for kind in selected:
                    lst = self._callbacks.get(kind, [])
                    while callback in lst:
                        lst.remove(callback)
                return sorted(self._user_kinds, key=EVENT_KINDS.index)
            for kind in selected:
                self._user_kinds.discard(kind)
                self._callbacks.pop(kind, None)
            drop = [k for k in selected if k not in self._internal_kinds]
            if drop:
                self._request("unsubscribe", {"events": drop})
            return sorted(self._user_kinds, key=EVENT_KINDS.index)

    def events(self, timeout: Optional[float] = None) -> Iterator[Event]:
        """Iterate over queued and incoming events (of subscribed kinds without a callback).

        Events already received (e.g. during the last request) come first, then the socket is
        read. The iteration ends when no event arrives for ``timeout`` seconds (``0``: only
        what is already here; ``None``: never). Queued releases are sent before waiting.

        Raises:
            ConnectionLost: the connection ended while waiting (after the queued events).
        """
        while True:
            with self._lock:
                if not self._events and not self._closed:
                    self.flush()
                    deadline = None if timeout is None else time.monotonic() + timeout
                    while not self._events:
                        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                        if self._pump_one(remaining) is None:
                            break
                if not self._events:
                    return
                event = self._events.popleft()
            yield event

    def _pump_one(self, timeout: Optional[float]) -> Optional[bool]:
        """Read and dispatch one message; ``None`` when ``timeout`` passed without one."""
        try:
            message = self._conn.receive(timeout)
        except ConnectionLost:
            self._mark_closed()
            raise
        if message is None:
            return None
        self._incoming(message)
        return True

    def poll(self, timeout: float = 0) -> int:
        """Read and dispatch notifications that arrive within ``timeout`` seconds (``0``: only
        those already here): runs callbacks and fills the :meth:`events` queue. Returns the
        number of messages read."""
        with self._lock:
            if self._closed:
                return 0
            self.flush()
            return self._pump(timeout)

    def pending_events(self) -> List[Event]:
        """Take every queued event without reading the socket."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
            return events

    # ============================================================ reference bookkeeping
    def _new_handle(self, obj: int, type: Optional[str] = None, cls: type = Handle) -> Handle:
        """A handle for a reference just taken, in the innermost scope frame."""
        frame = self._frames[-1]
        slot = _Slot(obj, frame)
        frame.slots.add(slot)
        self._slots.setdefault(obj, []).append(slot)
        if cls is Handle and type == "weakref":
            cls = WeakRef
        return cls(self, slot, type)

    def _forget(self, slot: _Slot) -> None:
        """The daemon no longer holds ``slot``'s reference for us (no message needed)."""
        if slot.released:
            return
        slot.released = True
        slot.frame.slots.discard(slot)
        lst = self._slots.get(slot.obj)
        if lst is not None:
            try:
                lst.remove(slot)
            except ValueError:
                pass
            if not lst:
                del self._slots[slot.obj]

    def _account_unref(self, slot: _Slot) -> None:
        """``unref`` of ``slot.obj`` succeeded: the daemon dropped the reference from the
        innermost scope holding one, which may belong to another handle; that handle then
        owns ``slot``'s (outer) reference instead."""
        if slot.released:
            return
        lst = self._slots.get(slot.obj, [])
        deepest = max(lst, key=lambda s: s.frame.depth, default=slot)
        if deepest is not slot and deepest.frame.depth > slot.frame.depth:
            deepest.frame.slots.discard(deepest)
            deepest.frame = slot.frame
            slot.frame.slots.add(deepest)
        self._forget(slot)

    def _release_all(self) -> None:
        """Every reference is gone (connection or session ended): close all handles."""
        for lst in list(self._slots.values()):
            for slot in list(lst):
                self._forget(slot)
        self._slots.clear()
        self._frames = [_Frame(0)]
        self._pending_release.clear()

    def _reset_session(self) -> None:
        """Our named session was closed: every reference is gone; a fresh anonymous session."""
        self._release_all()
        self._session_name = None

    def _handle_dropped(self, slot: _Slot) -> None:
        """Called from Handle.__del__: no I/O, no locks (deque.append is atomic)."""
        if self._closed or slot.released:
            return
        if self.autorelease:
            self._pending_release.append(slot)
        else:
            _warn_unclosed("#%d" % slot.obj)

    def _drain_releases(self) -> List[bytes]:
        """Turn the queued releases into ``unref`` notifications (bookkeeping done now, in
        wire order)."""
        bodies = []
        while True:
            try:
                slot = self._pending_release.popleft()
            except IndexError:
                return bodies
            if slot.released:
                continue
            bodies.append(encode_json({"jsonrpc": "2.0", "method": "unref",
                                       "params": {"id": slot.obj}}))
            self._account_unref(slot)

    def flush(self) -> int:
        """Send the queued releases of garbage-collected handles now (they are otherwise sent
        with the next request). Returns how many were sent."""
        with self._lock:
            if self._closed:
                return 0
            bodies = self._drain_releases()
            if bodies:
                try:
                    self._conn.send_bodies(bodies)
                except ConnectionLost:
                    self._mark_closed()
                    raise
            return len(bodies)

    def _close_handle(self, handle: Handle) -> None:
        """Handle.close(): ``unref`` once and update the bookkeeping."""
        slot = handle._slot
        with self._lock:
            if slot.released:
                return
            if self._closed:
                self._forget(slot)
                return
            try:
                result = self._request("unref", {"id": slot.obj})
            except (ReferenceNotHeld, NoSuchObject):
                # The reference is gone either way. A session.closed read during the call
                # explains it (then this is not an error); otherwise report it.
                if slot.released:
                    return
                self._forget(slot)
                raise
            except ConnectionLost:
                self._forget(slot)
                return
            self._account_unref(slot)
            if result.get("refcount") == 0:
                self._weakref_hooks.pop(slot.obj, None)

    # ======================================================================= objects
    def allocate(self, type: str, *, fields: Optional[Dict[str, Any]] = None, data: Any = None,
                 finalizer: bool = False, size: Optional[int] = None,
                 site: Optional[str] = None) -> Handle:
        """Create an object (``x = Type()``) and return a handle owning its first reference.

        Args:
            type: the class name (not ``"weakref"``).
            fields: ``{name: Handle | id}`` strong references, in order.
            data: any JSON value (``None``: no data).
            finalizer: give the type a ``__del__`` (a ``finalize`` event before it is freed).
            size: bytes it accounts for (default: the length of its data as JSON).
            site: where it is allocated, shown by :meth:`inspect` and grouped by
                ``histogram(by="site")``; default: the caller's ``file:line`` (see
                ``record_sites``).
        """
        params: Dict[str, Any] = {"type": type}
        if site is not None or self.record_sites:
            params["site"] = site if site is not None else _caller_site()
        if fields:
            params["fields"] = {k: _as_id(v, "field %r" % k) for k, v in fields.items()}
        if data is not None:
            params["data"] = data
        if finalizer:
            params["finalizer"] = True
        if size is not None:
            params["size"] = size
        with self._lock:
            result = self._request("allocate", params)
            return self._new_handle(result["id"], type)

    def ref(self, target: Union[Handle, int]) -> Handle:
        """Take a new reference to an object by handle or id (``y = x``): a new handle."""
        obj = _as_id(target, "target")
        with self._lock:
            self._request("ref", {"id": obj})
            known = target._type if isinstance(target, Handle) else None
            return self._new_handle(obj, known)

    def adopt(self, obj: int, type: Optional[str] = None) -> Handle:
        """Wrap a reference this session *already* holds (e.g. in a resumed named session, or
        one taken with a raw ``call("ref")``) in a handle, without a request. The handle is
        assumed to live in the innermost open scope."""
        obj = _as_id(obj, "obj")
        with self._lock:
            self._ensure_open()
            return self._new_handle(obj, type)

    def weakref(self, target: Union[Handle, int], callback: Any = False,
                fields: Optional[Dict[str, Any]] = None) -> WeakRef:
        """Create a weak reference to ``target`` (``weakref.ref(x, cb)``): a :class:`WeakRef`
        handle owning a strong reference to the new weakref object.

        Args:
            callback: ``True`` makes the daemon send a ``weakref.callback`` event when the
                referent dies (to subscribers). A callable additionally is called with that
                :class:`Event` (the library subscribes for it internally), like CPython's
                callback.
            fields: the weakref object's own fields (what a callback closure would capture).
        """
        obj = _as_id(target, "target")
        params: Dict[str, Any] = {"id": obj}
        if callback:
            params["callback"] = True
        if fields:
            params["fields"] = {k: _as_id(v, "field %r" % k) for k, v in fields.items()}
        with self._lock:
            if callable(callback) and "weakref.callback" not in self._internal_kinds:
                self._request("subscribe", {"events": ["weakref.callback"]})
                self._internal_kinds.add("weakref.callback")
            result = self._request("weakref", params)
            handle = self._new_handle(result["id"], "weakref", WeakRef)
            if callable(callback):
                self._weakref_hooks[result["id"]] = callback
            return handle

    def _weak_referent(self, handle: Handle) -> Optional[Handle]:
        """Handle.referent(): ``get`` the weakref, then ``ref`` its referent if alive."""
        with self._lock:
            state = self.get(handle.id)
            if state.get("type") != "weakref":
                raise TypeError("object #%d is a %s, not a weakref" % (handle.id, state.get("type")))
            referent = state.get("referent")
            if referent is None:
                return None
            try:
                return self.ref(referent)
            except NoSuchObject:
                return None

    def _read_field(self, handle: Handle, name: str, default: Any) -> Handle:
        """Handle.field(): ``get`` the object, then ``ref`` the field's target."""
        with self._lock:
            fields = self.get(handle.id)["fields"]
            if name not in fields:
                if default is not MISSING:
                    return default
                raise AttributeError("%r has no field %r" % (handle, name))
            return self.ref(fields[name])

    def get(self, target: Union[Handle, int]) -> Record:
        """``get``: ``{id, type, size, data, fields, refcount, finalizer}`` (+ ``referent``,
        ``callback`` for weakrefs). Needs no reference."""
        return self._request("get", {"id": _as_id(target, "target")})

    def set(self, target: Union[Handle, int], fields: Optional[Dict[str, Any]] = None,
            data: Any = MISSING, size: Any = MISSING) -> Record:
        """``set``: fields ``{name: Handle | id | None}`` (``None`` deletes), ``data``
        (``None`` removes it), ``size``. Returns the new state (``refcount: 0`` if it died)."""
        params: Dict[str, Any] = {"id": _as_id(target, "target")}
        if fields:
            params["fields"] = {k: _field_value(v, k) for k, v in fields.items()}
        if data is not MISSING:
            params["data"] = data
        if size is not MISSING:
            params["size"] = size
        return self._request("set", params)

    def inspect(self, target: Union[Handle, int]) -> Record:
        """``inspect``: refcount and getrefcount (= refcount + 1, as ``sys.getrefcount``),
        holders (fields, sessions, roots, garbage), referrers, referents, generation, tracked,
        finalized, weakrefs."""
        return self._request("inspect", {"id": _as_id(target, "target")})

    def referrers(self, target: Union[Handle, int]) -> List[int]:
        """Ids of the objects whose fields hold ``target`` (no references taken)."""
        return list(self._request("referrers", {"id": _as_id(target, "target")})["referrers"])

    def referents(self, target: Union[Handle, int]) -> List[int]:
        """Ids of the objects ``target``'s fields hold (no references taken)."""
        return list(self._request("referents", {"id": _as_id(target, "target")})["referents"])

    def objects(self, *, type: Optional[str] = None, generation: Any = None,
                session: Union[int, str, None] = None, page_size: int = 1000) -> Iterator[Record]:
        """Iterate over live objects ``{id, type, size, refcount, generation}`` in table order
        (ascending id until the daemon reuses freed slots), optionally filtered by ``type``,
        ``generation`` (0, 1, 2 or ``"permanent"``) and the ``session`` that allocated them (its
        id, or its name then), fetching pages of ``page_size`` with ``objects`` and following
        ``next``."""
        after = None
        while True:
            params: Dict[str, Any] = {"limit": page_size}
            if type is not None:
                params["type"] = type
            if generation is not None:
                params["generation"] = generation
            if session is not None:
                params["session"] = session
            if after is not None:
                params["after"] = after
            page = self._request("objects", params)
            for obj in page["objects"]:
                yield obj
            after = page.get("next")
            if after is None:
                return

    # ================================================================ the heap graph (SPEC §5)
    def snapshot_save(self, name: str) -> Record:
        """Remember which objects are alive now (``{name, objects, bytes, created,
        stored_bytes, replaced}``); a name already saved is replaced."""
        return self._request("snapshot.save", {"name": name})

    def snapshots(self) -> List[Record]:
        """The saved snapshots, oldest first."""
        return list(self._request("snapshot.list")["snapshots"])

    def snapshot_delete(self, name: str) -> Record:
        return self._request("snapshot.delete", {"name": name})

    def snapshot_diff(self, since: str, to: Optional[str] = None, *, limit: int = 1000) -> Record:
        """Exactly what was allocated and freed between snapshot ``since`` and ``to`` (None: the
        heap now): ``{new: {count, bytes, ids}, freed: {...}, by_type: [{type, new, freed,
        count_delta, bytes_delta}]}``; ``ids`` holds the ``limit`` smallest."""
        params: Dict[str, Any] = {"from": since, "limit": limit}
        if to is not None:
            params["to"] = to
        return self._request("snapshot.diff", params)

    def snapshot_leaks(self, first: str, second: str, third: Optional[str] = None, *,
                       limit: int = 1000) -> Record:
        """Objects allocated between ``first`` and ``second`` still alive at ``third`` (None:
        now): ``{leaked: {count, bytes, ids}, by_type: [{type, count, bytes}]}``."""
        params: Dict[str, Any] = {"first": first, "second": second, "limit": limit}
        if third is not None:
            params["third"] = third
        return self._request("snapshot.leaks", params)

    def leaks(self, since: Optional[str] = None, *, limit: int = 20) -> Record:
        """Leak candidates: ``{retainers, unreachable: {count, bytes, cycles}, growth?}`` (the
        biggest retainers, what only cycles keep alive, types grown since snapshot ``since``)."""
        params: Dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since
        return self._request("leaks", params)

    def path(self, target: Union[Handle, int], *, limit: int = 1) -> Record:
        """Why is ``target`` alive: ``{id, reachable, paths: [{root, ids, fields}]}``, up to
        ``limit`` shortest paths of fields from distinct root holders (``root`` is ``{kind:
        "session"|"root"|"permanent"|"garbage", name?, session?}``), shortest first.
        ``reachable`` is False when only a cycle keeps it (``collect`` would free it)."""
        return self._request("path", {"id": _as_id(target, "target"), "limit": limit})

    def cycles(self, target: Union[Handle, int, None] = None, *, limit: int = 20) -> List[Record]:
        """Reference cycles (strongly connected components) as ``{ids, bytes}``, live garbage
        included: the one holding ``target`` (empty if none), else the ``limit`` largest."""
        params: Dict[str, Any] = {"limit": limit}
        if target is not None:
            params["id"] = _as_id(target, "target")
        return list(self._request("cycles", params)["components"])

    def dominators(self, obj: Union[Handle, int, None] = None, *, limit: int = 20) -> Record:
        """Retained sizes. For ``obj``: ``{id, idom, retained_count, retained_bytes}`` (``idom``
        None: held by a root holder directly, or by several) or ``{id, reachable: False}``.
        Without: ``{top: [{id, type, idom, retained_count, retained_bytes}]}``, the ``limit``
        biggest retainers."""
        params: Dict[str, Any] = {"limit": limit}
        if obj is not None:
            params["id"] = _as_id(obj, "obj")
        return self._request("dominators", params)

    def histogram(self, *, session: Optional[str] = None, generation: Any = None,
                  by: str = "type") -> List[Record]:
        """Live objects by type, ``{type, count, bytes}``, most bytes first; only what the named
        ``session`` holds, or one ``generation`` (0, 1, 2 or ``"permanent"``), if given. With
        ``by="site"``: by allocation site instead, ``{site, count, bytes}`` (tracemalloc's
        ``statistics("lineno")``), over every live object."""
        if by == "site":
            return list(self._request("histogram", {"by": "site"})["sites"])
        params: Dict[str, Any] = {}
        if session is not None:
            params["session"] = session
        if generation is not None:
            params["generation"] = generation
        return list(self._request("histogram", params)["types"])

    def graph(self, target: Union[Handle, int, None] = None, *, depth: int = 2, max_nodes: int = 200,
              format: str = "dot") -> Record:
        """A Graphviz picture: ``{format, text, nodes, edges, truncated}``. Around ``target``
        (its referents and referrers ``depth`` steps out each way, root holders and weakrefs
        included), else the whole heap; at most ``max_nodes`` objects and holders ("N more"
        nodes and ``truncated`` say what was left out). ``format`` ``"dot"``: ``text`` is the
        DOT source; ``"svg"``: the SVG the daemon's Graphviz made of it (-32014 without
        Graphviz). Never collects, changes nothing."""
        params: Dict[str, Any] = {"depth": depth, "max_nodes": max_nodes, "format": format}
        if target is not None:
            params["id"] = _as_id(target, "target")
        return self._request("graph", params)

    def export(self, path: Optional[str] = None) -> Record:
        """The heap as a V8 ``.heapsnapshot`` (Chrome DevTools' Memory panel, Node). With an
        absolute ``path`` the daemon writes the file itself (as the user it runs as) and
        answers ``{path, bytes, nodes, edges}``; without, ``{snapshot}`` holds the file's JSON
        object (small heaps only: past 4 MiB of text the daemon asks for a path). Object node
        ids are ``2 * id + 1``."""
        params: Dict[str, Any] = {"format": "heapsnapshot"}
        if path is not None:
            params["path"] = path
        return self._request("export", params)

    # ================================================================ gc and the heap
    def collect(self, generation: int = 2) -> Record:
        """``gc.collect(generation)``: ``{generation, collected, uncollectable, unreachable,
        duration_ms}``; ``unreachable`` is what CPython's ``gc.collect`` returns. Its events
        are dispatched before this returns."""
        return self._request("collect", {"generation": generation})

    def stats(self) -> Record:
        """``stats``: objects, bytes, generations, permanent, garbage, gc, types, roots,
        sessions, connections, requests, uptime_s, table_bytes, persistence."""
        return self._request("stats")

    def gc_get(self) -> Record:
        """``gc.get``: ``{enabled, threshold, count, stats, debug, freeze_count, garbage}``."""
        return self._request("gc.get")

    def gc_set(self, enabled: Optional[bool] = None, threshold: Optional[Iterable[int]] = None,
               debug: Optional[Iterable[str]] = None) -> Record:
        """``gc.set``: ``enabled``, ``threshold`` ``[t0, t1?, t2?]``, ``debug`` (flag names:
        STATS, COLLECTABLE, UNCOLLECTABLE, SAVEALL, LEAK; ``[]`` clears). Returns the new
        ``gc.get`` state."""
        params: Dict[str, Any] = {}
        if enabled is not None:
            params["enabled"] = bool(enabled)
        if threshold is not None:
            params["threshold"] = list(threshold)
        if debug is not None:
            params["debug"] = [debug] if isinstance(debug, str) else list(debug)
        return self._request("gc.set", params)

    def gc_enable(self) -> Record:
        """``gc.enable()``."""
        return self.gc_set(enabled=True)

    def gc_disable(self) -> Record:
        """``gc.disable()``."""
        return self.gc_set(enabled=False)

    def freeze(self) -> int:
        """``gc.freeze()``: move every tracked object to the permanent generation; returns
        the freeze count."""
        return self._request("gc.freeze")["freeze_count"]

    def unfreeze(self) -> int:
        """``gc.unfreeze()``: move the permanent generation back to generation 2; returns the
        freeze count (0)."""
        return self._request("gc.unfreeze")["freeze_count"]

    def garbage_clear(self) -> Record:
        """``del gc.garbage[:]``: ``{cleared, freed}``."""
        return self._request("gc.garbage.clear")

    def check(self) -> Record:
        """``check``: the heap's invariants, ``{ok, objects, problems}``."""
        return self._request("check")

    def ping(self) -> bool:
        """``ping``: True when the daemon answers."""
        return bool(self._request("ping").get("pong"))

    def shutdown(self) -> Record:
        """``shutdown``: stop the daemon (it then closes every connection and exits 0)."""
        return self._request("shutdown")

    def discover(self) -> Record:
        """``rpc.discover``: the daemon's OpenRPC document."""
        return self._request("rpc.discover")

    # ========================================================================== scopes
    def scope(self) -> Scope:
        """A new (not yet entered) :class:`Scope`: ``with heap.scope(): ...``."""
        return Scope(self)

    @property
    def scope_depth(self) -> int:
        """How many scopes this client knows to be open in the session."""
        return len(self._frames) - 1

    def _enter_scope(self) -> _Frame:
        """``scope.enter`` and push a bookkeeping frame."""
        with self._lock:
            result = self._request("scope.enter")
            frame = _Frame(result["depth"])
            self._frames.append(frame)
            return frame

    def _exit_scope(self, frame: _Frame) -> Optional[Record]:
        """``scope.exit`` of ``frame`` (must be innermost); close the handles taken in it."""
        with self._lock:
            if self._closed or frame not in self._frames:
                return None
            if self._frames[-1] is not frame:
                raise RuntimeError("scopes must be exited innermost first")
            result = self._request("scope.exit")
            if self._frames and self._frames[-1] is frame:
                self._frames.pop()
                for slot in list(frame.slots):
                    self._forget(slot)
            return result

    # ======================================================================== sessions
    def open_session(self, name: str, lease_s: Optional[float] = None) -> Record:
        """Attach this connection to the named session ``name`` (``session.open``; created
        if new, resumed otherwise). Returns ``{name, resumed}`` (and ``lease_s`` if it has
        one).

        With ``lease_s`` (seconds, > 0) the session gets a lease, as in Java RMI's distributed
        GC: any request in it renews the lease, and once none has for ``lease_s`` seconds the
        daemon closes the session (its references are dropped, even while this connection is
        attached; the library then closes every handle and goes on anonymous). A safety net
        for a program that dies without :meth:`close_session`. Resuming with ``lease_s`` sets
        the lease anew.

        Coming from the anonymous session, the references it held (and their handles) move
        into the named session. Coming from another named session, that session keeps its
        references and this client's handles to them are closed. Scopes: the daemon keeps the
        named session's own scope depth; this client's open :class:`Scope` objects end.

        Raises:
            SessionConflict: another connection holds that session.
        """
        params: Dict[str, Any] = {"name": name}
        if lease_s is not None:
            params["lease_s"] = lease_s
        with self._lock:
            result = self._request("session.open", params)
            previous = self._session_name
            if previous == name:
                return result
            if previous is not None:
                self._release_all()
            self._session_name = name
            depth = 0
            for info in self._request("session.list")["sessions"]:
                if info.get("name") == name:
                    depth = int(info.get("scope_depth", 0))
            survivors = [s for lst in self._slots.values() for s in lst]
            self._frames = [_Frame(d) for d in range(depth + 1)]
            for slot in survivors:
                slot.frame = self._frames[-1]
                slot.frame.slots.add(slot)
            return result

    def close_session(self, name: Optional[str] = None) -> Record:
        """Close a named session (``session.close``), dropping all its references. Without
        ``name``: this connection's own named session, after which the connection continues
        in a fresh anonymous session and every handle is closed. Returns
        ``{name, released, freed}``.

        Raises:
            NoSuchSession: no such session (or, without ``name``, this connection is anonymous).
        """
        with self._lock:
            params = {} if name is None else {"name": name}
            result = self._request("session.close", params)
            if name is None or name == self._session_name:
                self._reset_session()
            return result

    def sessions(self) -> List[Record]:
        """``session.list``: ``[{id, name, connected, references, objects, bytes,
        scope_depth}]``."""
        return self._request("session.list")["sessions"]

    # ============================================================================ bulk
    def apply(self, ops: Iterable[Sequence[Any]], atomic: bool = False) -> Record:
        """``apply``: many small operations in one request, in order. Each op is a sequence
        such as ``("alloc", "Node")``, ``("ref", h)``, ``("unref", 7)``, ``("set", a, "next",
        b)`` (``None`` deletes the field) or ``("weakref", h, True)``; wherever an id goes, a
        Handle is sent as its id and ``"$k"`` names the object op ``k`` made. Returns
        ``{results, errors, freed?}``: one entry per op, a number (new id or refcount) or the
        error object ``{code, message, data?}`` the single method would have given. With
        ``atomic=True`` all of it applies or nothing does, and a failing op raises its typed
        error (message ``ops[i] (name): ...``, ``data["op"] == i``).

        Like :meth:`call`, it bypasses the handle bookkeeping: ids it allocates are raw
        references of this session (wrap one with :meth:`adopt`), and unref'ing a handle's
        reference here leaves that handle stale.
        """
        def arg(value: Any) -> Any:
            return value.id if isinstance(value, Handle) else value
        wire = [[op[0], *(arg(v) for v in op[1:])] for op in ops]
        params: Dict[str, Any] = {"ops": wire}
        if atomic:
            params["atomic"] = True
        return self._request("apply", params)

    # ======================================================================= pipelining
    def pipeline(self, raise_on_error: bool = True) -> "Pipeline":
        """A :class:`Pipeline`: queue requests, then send them together and read the replies
        together (one write and one read loop instead of a round trip each)::

            with heap.pipeline() as p:
                nodes = [p.allocate("Node", data=i) for i in range(1000)]
                total = p.stats()
            nodes = [n.result() for n in nodes]      # Handles
            print(total.result().objects)

        Leaving the block runs it (an exception in the block sends nothing); see
        :class:`Pipeline` for errors."""
        return Pipeline(self, raise_on_error)

    def call_many(self, calls: Iterable[Any], raise_on_error: bool = True) -> List[Any]:
        """Send many raw calls pipelined and return their results in order. Each call is
        ``(method, params)`` (params a dict or ``None``) or a method name alone. With
        ``raise_on_error`` the first failed call's error is raised once all replies are in;
        without it, a failed call's place holds its exception. Raw like :meth:`call`: no
        handle bookkeeping."""
        p = Pipeline(self, raise_on_error)
        for c in calls:
            if isinstance(c, str):
                method, params = c, None
            else:
                method, params = c[0], (c[1] if len(c) > 1 else None)
            p.call(method, **(params or {}))
        p.execute()
        return [q._error if q._error is not None else q._value for q in p.pending]

    def _run_pipeline(self, queued: List["Pending"]) -> None:
        """Send the queued requests in chunks of one write each, read each chunk's replies in
        order, and settle every :class:`Pending` (results converted in reply order, under the
        lock, so handle bookkeeping sees them as if sent one by one)."""
        with self._lock:
            self._ensure_open()
            self._take_in()
            for start in range(0, len(queued), _PIPELINE_CHUNK):
                chunk = queued[start:start + _PIPELINE_CHUNK]
                bodies = self._drain_releases()
                tokens = []
                for q in chunk:
                    self._next_id += 1
                    message: Dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id,
                                               "method": q.method}
                    if q._params is not None:
                        message["params"] = q._params
                    bodies.append(encode_json(message))
                    tokens.append(self._next_id)
                self._outstanding.extend(tokens)
                try:
                    self._conn.send_bodies(bodies)
                except ConnectionLost:
                    pass  # as in _exchange: read what the daemon said before it closed
                for token, q in zip(tokens, chunk):
                    try:
                        reply = self._await(token, q.method)
                    except ConnectionLost as exc:
                        for rest in queued[queued.index(q):]:
                            rest._settle(None, exc)
                        raise
                    if "error" in reply:
                        error = error_from_response(reply["error"])
                        if error.code == -32010:
                            self._mark_closed()
                        q._settle(None, error)
                    else:
                        # A failed conversion is that request's error; the rest still
                        # read their replies, so the stream stays in step.
                        try:
                            q._settle(q._convert(_record(reply.get("result"))), None)
                        except Exception as exc:
                            q._settle(None, exc)

    # ============================================================================= raw
    def call(self, method: str, /, **params: Any) -> Any:
        """Send any request with params by name and return its result (a :class:`Record`)
        or raise its typed error. Handles in params are sent as their ids.

        Raw calls bypass the handle bookkeeping: references taken or dropped this way
        (``ref``, ``unref``, ``allocate``, ``scope.*``, ``session.*``) are not tracked; use
        :meth:`adopt` to wrap a reference taken raw.
        """
        return self._request(method, _jsonable(params) if params else None)

    def notify(self, method: str, /, **params: Any) -> None:
        """Send a JSON-RPC notification (no id, no reply, errors are not reported)."""
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params:
            message["params"] = _jsonable(params)
        with self._lock:
            self._ensure_open()
            self._take_in()
            bodies = self._drain_releases()
            bodies.append(encode_json(message))
            self._conn.send_bodies(bodies)

    def send_raw(self, text: Union[str, bytes], check: bool = True) -> Any:
        """Send ``text`` verbatim as one message in this connection's framing and return the
        next reply (for testing the daemon: malformed JSON, batches, odd ids).

        The text must elicit a reply (a request, a batch holding one, or something invalid).
        With ``check`` a single error reply is raised as its typed exception, otherwise the
        parsed reply (a dict, or a list for a batch) is returned whole.
        """
        body = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        with self._lock:
            self._ensure_open()
            self._take_in()
            bodies = self._drain_releases()
            bodies.append(body)
            self._next_id += 1
            reply = self._exchange(bodies, ("raw", self._next_id))
        if check and isinstance(reply, dict) and "error" in reply:
            raise error_from_response(reply["error"])
        return _record(reply)


class Pending:
    """The result-to-be of one request queued in a :class:`Pipeline`.

    After the pipeline ran: :meth:`result` returns the value (or raises the request's typed
    error), :attr:`error` is that error or ``None``. Before: :attr:`done` is False and
    :meth:`result` raises :class:`RuntimeError`.
    """

    __slots__ = ("method", "_params", "_convert", "_done", "_value", "_error")

    def __init__(self, method: str, params: Optional[Dict[str, Any]],
                 convert: Callable[[Any], Any]) -> None:
        self.method = method
        self._params = params
        self._convert = convert
        self._done = False
        self._value: Any = None
        self._error: Optional[BaseException] = None

    def _settle(self, value: Any, error: Optional[BaseException]) -> None:
        self._done, self._value, self._error = True, value, error

    @property
    def done(self) -> bool:
        """Whether the reply is in (or the request failed)."""
        return self._done

    @property
    def error(self) -> Optional[BaseException]:
        """The request's error, or ``None``."""
        return self._error

    def result(self) -> Any:
        """The request's result (a :class:`Record`, a :class:`Handle`, ...)."""
        if not self._done:
            raise RuntimeError("the pipeline has not run yet: read results after its block")
        if self._error is not None:
            raise self._error
        return self._value

    def __repr__(self) -> str:
        state = ("error %r" % self._error if self._error is not None else repr(self._value)) \
            if self._done else "pending"
        return "<heapd.Pending %s: %s>" % (self.method, state)


class Pipeline:
    """Requests queued on a :class:`Heap`, sent together and answered together
    (:meth:`Heap.pipeline`). The daemon answers in order, and the events each request causes
    are dispatched before its result is settled, as for single calls.

    Methods mirror the Heap's (``allocate`` and ``ref`` give Handles, ``close`` releases a
    handle) and return :class:`Pending` results; :meth:`call` sends anything raw. Running it
    (leaving the ``with`` block, or :meth:`execute`) reads every reply, then, with
    ``raise_on_error``, raises the first failed request's error; the others keep their
    results. A pipeline runs once.
    """

    def __init__(self, heap: Heap, raise_on_error: bool = True) -> None:
        self._heap = heap
        self.raise_on_error = raise_on_error
        #: The queued requests' :class:`Pending` results, in order.
        self.pending: List[Pending] = []
        self._ran = False

    def _add(self, method: str, params: Optional[Dict[str, Any]],
             convert: Callable[[Any], Any] = lambda r: r) -> Pending:
        if self._ran:
            raise RuntimeError("this pipeline already ran")
        p = Pending(method, params, convert)
        self.pending.append(p)
        return p

    def __len__(self) -> int:
        return len(self.pending)

    def call(self, method: str, /, **params: Any) -> Pending:
        """Any request, raw as :meth:`Heap.call` (no handle bookkeeping)."""
        return self._add(method, _jsonable(params) if params else None)

    def allocate(self, type: str, *, fields: Optional[Dict[str, Any]] = None, data: Any = None,
                 finalizer: bool = False, size: Optional[int] = None,
                 site: Optional[str] = None) -> Pending:
        """:meth:`Heap.allocate`; the result is a :class:`Handle`."""
        params: Dict[str, Any] = {"type": type}
        if site is not None or self._heap.record_sites:
            params["site"] = site if site is not None else _caller_site()
        if fields:
            params["fields"] = {k: _as_id(v, "field %r" % k) for k, v in fields.items()}
        if data is not None:
            params["data"] = data
        if finalizer:
            params["finalizer"] = True
        if size is not None:
            params["size"] = size
        return self._add("allocate", params, lambda r: self._heap._new_handle(r["id"], type))

    def ref(self, target: Union[Handle, int]) -> Pending:
        """:meth:`Heap.ref`; the result is a new :class:`Handle`."""
        obj = _as_id(target, "target")
        known = target._type if isinstance(target, Handle) else None
        return self._add("ref", {"id": obj}, lambda r: self._heap._new_handle(obj, known))

    def close(self, handle: Handle) -> Pending:
        """``handle.close()`` in the pipeline: ``unref`` its reference; the result is
        ``{id, refcount, freed}``. The handle is closed once the reply is in."""
        slot = handle._slot
        if slot.released:
            raise ValueError("%r is already closed" % (handle,))
        heap = self._heap

        def done(result: Record) -> Record:
            heap._account_unref(slot)
            if result.get("refcount") == 0:
                heap._weakref_hooks.pop(slot.obj, None)
            return result
        return self._add("unref", {"id": slot.obj}, done)

    def get(self, target: Union[Handle, int]) -> Pending:
        """:meth:`Heap.get`."""
        return self._add("get", {"id": _as_id(target, "target")})

    def set(self, target: Union[Handle, int], fields: Optional[Dict[str, Any]] = None,
            data: Any = MISSING, size: Any = MISSING) -> Pending:
        """:meth:`Heap.set`."""
        params: Dict[str, Any] = {"id": _as_id(target, "target")}
        if fields:
            params["fields"] = {k: _field_value(v, k) for k, v in fields.items()}
        if data is not MISSING:
            params["data"] = data
        if size is not MISSING:
            params["size"] = size
        return self._add("set", params)

    def inspect(self, target: Union[Handle, int]) -> Pending:
        """:meth:`Heap.inspect`."""
        return self._add("inspect", {"id": _as_id(target, "target")})

    def collect(self, generation: int = 2) -> Pending:
        """:meth:`Heap.collect`."""
        return self._add("collect", {"generation": generation})

    def stats(self) -> Pending:
        """:meth:`Heap.stats`."""
        return self._add("stats", None)

    def ping(self) -> Pending:
        """:meth:`Heap.ping`; the result is True."""
        return self._add("ping", None, lambda r: bool(r.get("pong")))

    def execute(self) -> List[Pending]:
        """Send everything queued, read every reply; returns :attr:`pending`. With
        ``raise_on_error``, then raises the first error."""
        if self._ran:
            raise RuntimeError("this pipeline already ran")
        self._ran = True
        if self.pending:
            self._heap._run_pipeline(self.pending)
        if self.raise_on_error:
            for p in self.pending:
                if p._error is not None:
                    raise p._error
        return self.pending

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.execute()
        else:
            self._ran = True  # the block failed: send nothing

    def __repr__(self) -> str:
        return "<heapd.Pipeline %d requests%s>" % (len(self.pending), ", ran" if self._ran else "")


def connect(path: Optional[str] = None, **kwargs: Any) -> Heap:
    """``Heap(path, **kwargs)``: connect to heapd (see :class:`Heap`)."""
    return Heap(path, **kwargs)

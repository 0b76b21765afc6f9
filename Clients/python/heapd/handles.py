"""Handles: Python objects that stand for one reference to a heapd object.

A :class:`Handle` owns exactly one reference held by its connection's session (an "external
reference", a local variable in CPython's terms). Its fields read and write like attributes::

    alice = heap.allocate("Person", data={"name": "Alice"})
    bob = heap.allocate("Person", data={"name": "Bob"})
    alice.partner = bob            # set {"id": alice, "fields": {"partner": bob}}
    p = alice.partner              # get + ref: a NEW handle owning its own reference
    del alice.partner              # set {"fields": {"partner": null}}
    alice.close()                  # unref, exactly once

Reading a field gives a new reference, as reading an attribute does in Python; see
:meth:`Handle.field` and the package README ("Handles and references") for the full rules,
including when references are released without ``close()``.
"""

import warnings
from typing import Any, Dict, List, Optional

from .errors import HandleClosed

__all__ = ["Handle", "WeakRef", "MISSING"]


class _Missing:
    """Sentinel for "argument not given" where ``None`` means JSON null."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: "Not given" (distinct from ``None``, which is JSON null).
MISSING: Any = _Missing()


class _Frame:
    """The library's mirror of one scope of the session (depth 0: the session itself)."""

    __slots__ = ("depth", "slots")

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.slots: set = set()

    def __repr__(self) -> str:
        return "<frame depth=%d refs=%d>" % (self.depth, len(self.slots))


class _Slot:
    """One reference held by the session: which object, in which scope frame, and whether it
    is already gone. Shared between a handle and the heap's bookkeeping, so that a handle that
    died (autorelease) still has its reference accounted for until it is sent."""

    __slots__ = ("obj", "frame", "released", "__weakref__")

    def __init__(self, obj: int, frame: _Frame) -> None:
        self.obj = obj
        self.frame = frame
        self.released = False

    def __repr__(self) -> str:
        return "<slot #%d depth=%d%s>" % (self.obj, self.frame.depth,
                                          " released" if self.released else "")


def _as_id(value: Any, what: str = "value") -> int:
    """An object id from a Handle or an int (bool is refused)."""
    if isinstance(value, Handle):
        if value.closed:
            raise HandleClosed("%s: %r is closed" % (what, value))
        return value.id
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError("%s must be a heapd Handle or an object id (int), not %s"
                    % (what, type(value).__name__))


def _field_value(value: Any, name: str) -> Optional[int]:
    """A field patch value: an id, or None (delete)."""
    if value is None:
        return None
    return _as_id(value, "field %r" % name)


class Handle:
    """One reference to a heapd object, owned by this Python object.

    Attribute access maps to the object's fields: ``h.partner`` reads the field (a new
    :class:`Handle` that owns a new reference, taken with ``ref``), ``h.partner = other`` sets
    it (``other`` may be a Handle or an int id; ``None`` deletes it, since the heap has no
    ``None`` object), ``del h.partner`` deletes it (a no-op if it is unset, as in the daemon).
    Names that the class itself defines (``id``, ``type``, ``data``, ``size``, ``refcount``,
    ``fields``, ``finalizer``, ``closed``, ``heap`` and the methods) are not fields: use
    :meth:`field`, :meth:`set_field` and :meth:`del_field` for fields with such names, or for
    names that are not Python identifiers.

    Releasing: :meth:`close` (or leaving a ``with handle:`` block) sends ``unref`` exactly
    once; later calls do nothing. A handle is also released, without a message, when the scope
    it was created in is exited, when its session is closed, or when its connection closes. If
    the heap was opened with ``autorelease=True`` (the default), a handle that Python garbage
    collects while still open is released too: its ``__del__`` only queues the reference
    (no I/O, no lock), and the queued ``unref`` is sent as a JSON-RPC notification ahead of the
    connection's next request (or by :meth:`heapd.Heap.flush`).

    Handles compare equal when they refer to the same object id (``==`` is Python's ``is``
    here: two references to one object); ``int(handle)`` is the id.
    """

    __slots__ = ("_heap", "_slot", "_id", "_type", "__weakref__")

    def __init__(self, heap, slot: _Slot, type: Optional[str] = None) -> None:
        object.__setattr__(self, "_heap", heap)
        object.__setattr__(self, "_slot", slot)
        object.__setattr__(self, "_id", slot.obj)
        object.__setattr__(self, "_type", type)

    # ----------------------------------------------------------------- identity and state
    @property
    def id(self) -> int:
        """The object's id (stays readable after the handle is closed)."""
        return self._id

    @property
    def heap(self):
        """The :class:`heapd.Heap` (connection) that holds this reference."""
        return self._heap

    @property
    def closed(self) -> bool:
        """Whether this handle's reference was released (by :meth:`close`, a scope exit, a
        session close or the connection closing)."""
        return self._slot.released

    def _check(self) -> None:
        """Raise :class:`HandleClosed` if the reference was released."""
        if self._slot.released:
            raise HandleClosed("%r is closed: its reference was released" % (self,))

    def get(self):
        """The object's state (``get``): ``{id, type, size, data, fields, refcount, finalizer}``
        plus ``referent`` and ``callback`` for weakrefs, as a :class:`heapd.Record`."""
        self._check()
        state = self._heap.get(self._id)
        if self._type is None and "type" in state:
            object.__setattr__(self, "_type", state["type"])
        return state

    @property
    def type(self) -> str:
        """The object's type (class name); fetched once with ``get`` if not known."""
        if self._type is None:
            self.get()
        return self._type

    @property
    def data(self) -> Any:
        """The object's data (any JSON value; ``None`` when it has none). Assigning replaces it
        (``set {data}``); assigning ``None`` removes it."""
        return self.get()["data"]

    @data.setter
    def data(self, value: Any) -> None:
        self.set(data=value)

    @property
    def size(self) -> int:
        """Bytes the object accounts for. Assigning sets it explicitly (``set {size}``)."""
        return self.get()["size"]

    @size.setter
    def size(self, value: int) -> None:
        self.set(size=value)

    @property
    def refcount(self) -> int:
        """The true number of strong references (``sys.getrefcount`` would say one more)."""
        return self.get()["refcount"]

    @property
    def fields(self) -> Dict[str, int]:
        """A snapshot of the fields as ``{name: object id}`` (no references are taken)."""
        return dict(self.get()["fields"])

    @property
    def finalizer(self) -> bool:
        """Whether the object has a finalizer (``__del__``)."""
        return self.get()["finalizer"]

    def inspect(self):
        """Everything about the object (``inspect``): refcount, getrefcount, holders,
        referrers, referents, generation, tracked, finalized, weakrefs."""
        self._check()
        return self._heap.inspect(self._id)

    def referrers(self) -> List[int]:
        """Ids of the objects whose fields hold this one: the holders ``gc.get_referrers`` finds,
        by generation, then id."""
        self._check()
        return self._heap.referrers(self._id)

    def referents(self) -> List[int]:
        """Ids of the objects this one's fields hold (``gc.get_referents``)."""
        self._check()
        return self._heap.referents(self._id)

    # ----------------------------------------------------------------------------- fields
    def field(self, name: str, default: Any = MISSING) -> "Handle":
        """Read field ``name`` as a new handle owning a new reference (``get`` then ``ref``),
        as ``x = obj.name`` binds a new reference in Python.

        Raises:
            AttributeError: the field is not set and no ``default`` was given.
        """
        self._check()
        return self._heap._read_field(self, name, default)

    def field_id(self, name: str) -> Optional[int]:
        """The id field ``name`` refers to, or ``None`` when unset (no reference taken)."""
        return self.get()["fields"].get(name)

    def set_field(self, name: str, value: Any):
        """Set field ``name`` to ``value`` (a Handle or an id; ``None`` deletes it). Returns the
        ``set`` result (the object's new state)."""
        return self.set(fields={name: value})

    def del_field(self, name: str):
        """Delete field ``name``. Returns the ``set`` result. A field that is not set raises
        :class:`~heapd.NoSuchField` (an ``AttributeError``, as ``del obj.name`` in Python)."""
        return self.set(fields={name: None})

    def set(self, fields: Optional[Dict[str, Any]] = None, data: Any = MISSING,
            size: Any = MISSING):
        """Change several things at once (``set``): ``fields`` {name: Handle | id | None},
        ``data`` (``None`` removes it), ``size``. Returns the object's new state."""
        self._check()
        return self._heap.set(self._id, fields=fields, data=data, size=size)

    def __getattr__(self, name: str) -> "Handle":
        # Only called when normal lookup fails, i.e. for names that are not the class's own.
        if name.startswith("_"):
            raise AttributeError(name)
        return self.field(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or hasattr(type(self), name):
            object.__setattr__(self, name, value)
        else:
            self.set_field(name, value)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_") or hasattr(type(self), name):
            object.__delattr__(self, name)
        else:
            self.del_field(name)

    # ------------------------------------------------------------------------ references
    def ref(self) -> "Handle":
        """Take one more reference to the same object (``y = x``): a new, independent handle."""
        self._check()
        return self._heap.ref(self._id)

    __copy__ = ref

    def weakref(self, callback: Any = False, fields: Optional[Dict[str, Any]] = None) -> "WeakRef":
        """A weak reference to this object (see :meth:`heapd.Heap.weakref`)."""
        self._check()
        return self._heap.weakref(self, callback=callback, fields=fields)

    def referent(self) -> Optional["Handle"]:
        """For a weakref object: its referent as a new handle (a new strong reference), or
        ``None`` once the referent died (``w()`` in Python). Raises :class:`TypeError` for an
        object that is not a weakref."""
        self._check()
        return self._heap._weak_referent(self)

    def close(self) -> None:
        """Release this handle's reference (``unref``) exactly once; later calls, and calls
        after the reference was released some other way, do nothing.

        Raises:
            ReferenceNotHeld: the session did not hold the reference after all (e.g. it was
                dropped by a raw ``call``); the handle is closed.
            HeapdError: another refusal (e.g. ShuttingDown); the handle stays open.
        """
        self._heap._close_handle(self)

    def __enter__(self) -> "Handle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            slot = self._slot
            heap = self._heap
        except AttributeError:
            return
        try:
            if not slot.released:
                heap._handle_dropped(slot)
        except Exception:  # never raise from a finalizer (interpreter shutdown etc.)
            pass

    # ---------------------------------------------------------------------------- dunders
    def __int__(self) -> int:
        return self._id

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, Handle):
            return self._id == other._id
        return NotImplemented

    def __ne__(self, other: Any) -> bool:
        if isinstance(other, Handle):
            return self._id != other._id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("heapd.Handle", self._id))

    def __repr__(self) -> str:
        kind = type(self).__name__
        t = self._type if self._type is not None else "?"
        state = " closed" if self._slot.released else ""
        return "<heapd.%s %s #%d%s>" % (kind, t, self._id, state)


class WeakRef(Handle):
    """A handle to a weakref object (type ``"weakref"``), as :meth:`heapd.Heap.weakref`
    returns. The handle itself is a strong reference to the *weakref object*; the referent is
    held weakly. Calling it (``w()``) or :meth:`referent` gives the referent as a new handle, or
    ``None`` once it died."""

    __slots__ = ()

    def __call__(self) -> Optional[Handle]:
        """``w()``: the referent as a new handle, or ``None``."""
        return self.referent()

    @property
    def referent_id(self) -> Optional[int]:
        """The referent's id, or ``None`` once it died (no reference taken)."""
        return self.get()["referent"]

    @property
    def alive(self) -> bool:
        """Whether the referent is still alive."""
        return self.referent_id is not None

    @property
    def callback(self) -> bool:
        """Whether the weakref was created with a callback."""
        return bool(self.get()["callback"])


def _warn_unclosed(handle_repr: str) -> None:
    """Issue the ResourceWarning for a dropped open handle (autorelease off)."""
    warnings.warn("unclosed heapd handle %s (its reference is held until the session ends)"
                  % handle_repr, ResourceWarning, stacklevel=2)

"""heapd: a Python client for the heapd daemon (a shared, garbage-collected object heap with
CPython 3.11's memory model, served over JSON-RPC 2.0 on a Unix socket).

Quick start::

    import heapd

    with heapd.Heap() as heap:                      # $HEAPD_SOCKET or the default socket
        heap.subscribe(["finalize", "freed", "gc.stop"])
        alice = heap.allocate("Person", data={"name": "Alice"})
        bob = heap.allocate("Person", data={"name": "Bob"}, finalizer=True)
        alice.partner = bob
        bob.partner = alice
        alice.close(); bob.close()                  # del alice, bob: the cycle survives
        print(heap.collect().unreachable)           # 2
        for event in heap.events(timeout=0):
            print(event)

Standard library only; synchronous; Python >= 3.9. See the README for the rules on handles
and references.
"""

from .client import (EVENT_KINDS, Event, Heap, Pending, Pipeline, Record, Roots, Scope,
                     connect)
from .connection import Connection, default_socket_path
from .errors import (AccessDenied, ConnectionLost, DaemonUnreachable, DiskFull, HandleClosed,
                     HeapdError, NoSuchField,
                     InternalError, InvalidParams, InvalidRequest, MethodNotFound, NoSuchObject,
                     NoSuchRoot, NoSuchSession, NoSuchSnapshot, ParseError, QuotaExceeded, ReferenceNotHeld,
                     RendererUnavailable, ReplyTimeout,
                     RequestTooLarge, ScopeError, SessionConflict, ShuttingDown, TooManyClients,
                     error_from_response)
from .framing import LSPFraming, NDJSONFraming
from .handles import MISSING, Handle, WeakRef

__version__ = "0.1.0"

__all__ = [
    "Heap", "connect", "Pipeline", "Pending", "Handle", "WeakRef", "Scope", "Roots", "Event",
    "Record", "EVENT_KINDS",
    "MISSING", "Connection", "default_socket_path", "NDJSONFraming", "LSPFraming",
    "HeapdError", "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams",
    "InternalError", "NoSuchObject", "ReferenceNotHeld", "QuotaExceeded", "SessionConflict",
    "RequestTooLarge", "ShuttingDown", "NoSuchSession", "ScopeError", "NoSuchRoot",
    "TooManyClients", "AccessDenied", "DiskFull", "NoSuchSnapshot", "RendererUnavailable", "NoSuchField",
    "DaemonUnreachable",
    "ConnectionLost", "ReplyTimeout",
    "HandleClosed",
    "error_from_response", "__version__",
]

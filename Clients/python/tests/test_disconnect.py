"""A connection closed without any cleanup leaves no references behind."""

import socket
import time

import pytest

import heapd


def wait_until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def build_mess(heap, type_name):
    """Objects held in every way a session can hold them: plain, fields, a cycle, a weakref,
    references inside an open scope. No handle is closed."""
    keep = []
    a = heap.allocate(type_name, finalizer=True)
    b = heap.allocate(type_name, fields={"partner": a})
    a.partner = b                                  # a cycle
    keep += [a, b, a.ref(), heap.weakref(a, callback=True)]
    heap.scope().enter()
    keep += [heap.allocate(type_name), b.ref()]
    return keep


@pytest.mark.parametrize("how", ["close", "abrupt"])
def test_closed_connection_leaves_no_references(connect, how):
    type_name = "PyGone" + how
    observer = connect()
    heap = connect(autorelease=False)              # the library releases nothing by itself
    handles = build_mess(heap, type_name)
    ids = [h.id for h in handles]
    assert len(list(observer.objects(type=type_name))) == 3
    assert len(list(observer.objects(type="weakref"))) == 1
    if how == "close":
        heap.close()                               # no unref is sent for the handles
    else:
        heap._conn._sock.shutdown(socket.SHUT_RDWR)   # as if the process died
    assert wait_until(lambda: all(s.references == 0 for s in observer.sessions()))
    # Only the cycle (a <-> b) is left, unreferenced, for the collector.
    assert len(list(observer.objects(type=type_name))) == 2
    assert observer.collect().unreachable == 2
    assert list(observer.objects(type=type_name)) == []
    for obj_id in ids:
        with pytest.raises(heapd.NoSuchObject):
            observer.get(obj_id)
    assert observer.check().ok
    observer.close()
    heap.close()
    assert all(h.closed for h in handles)

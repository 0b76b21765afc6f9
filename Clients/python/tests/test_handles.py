"""Handles: one reference each; fields as attributes; close exactly once; autorelease."""

import gc
import warnings

import pytest

import heapd


def test_allocate_and_properties(heap):
    h = heap.allocate("PyThing", data={"k": [1, 2]}, finalizer=True, size=100)
    assert isinstance(h, heapd.Handle) and not isinstance(h, heapd.WeakRef)
    assert h.id > 0 and int(h) == h.id
    assert h.type == "PyThing"
    assert h.data == {"k": [1, 2]}
    assert h.size == 100
    assert h.refcount == 1
    assert h.finalizer is True
    assert h.fields == {}
    assert h.heap is heap and not h.closed
    state = h.get()
    assert isinstance(state, heapd.Record) and state.type == "PyThing" and state["refcount"] == 1
    h.data = "text"
    assert h.data == "text"
    h.data = None
    assert h.data is None
    h.size = 7
    assert h.size == 7
    assert "PyThing" in repr(h)
    h.close()
    assert "closed" in repr(h)


def test_allocate_with_fields(heap):
    a = heap.allocate("PyNode")
    b = heap.allocate("PyNode", fields={"left": a, "right": a.id})
    assert b.fields == {"left": a.id, "right": a.id}
    assert a.refcount == 3
    assert heap.referrers(a) == [b.id] and a.referrers() == [b.id]
    # once per field that holds it, as gc.get_referents lists them
    assert b.referents() == [a.id, a.id] and heap.referents(b.id) == [a.id, a.id]
    b.close()
    assert a.refcount == 1
    a.close()


def test_field_read_takes_a_new_reference(heap):
    a = heap.allocate("PyPerson")
    b = heap.allocate("PyPerson")
    a.partner = b
    assert b.refcount == 2
    p = a.partner
    assert isinstance(p, heapd.Handle) and p is not b and p == b and hash(p) == hash(b)
    assert b.refcount == 3                      # b, a.partner, and p
    assert p.type == "PyPerson"
    q = a.field("partner")
    assert b.refcount == 4
    q.close()
    p.close()
    assert b.refcount == 2
    assert a.field_id("partner") == b.id
    with pytest.raises(AttributeError):
        a.nothing_here
    assert a.field("nothing_here", None) is None
    assert a.field_id("nothing_here") is None
    del a.partner
    assert a.fields == {} and b.refcount == 1
    with pytest.raises(AttributeError):          # heapd.NoSuchField, as Python's del
        del a.partner
    a.partner = b
    a.partner = None                             # assigning None deletes, as null does
    assert a.fields == {} and b.refcount == 1
    a.close()
    b.close()


def test_reserved_names_use_explicit_methods(heap):
    a = heap.allocate("PyPerson")
    b = heap.allocate("PyPerson")
    a.set_field("type", b)                       # `a.type` is the object's type, not a field
    assert a.type == "PyPerson"
    assert a.fields == {"type": b.id}
    with a.field("type") as t:
        assert t == b
    a.set(fields={"data": b, "type": None}, data=[1])
    assert a.fields == {"data": b.id} and a.data == [1]
    a.del_field("data")
    assert a.fields == {}
    with pytest.raises(AttributeError):
        a.id = 5                                 # read-only property
    with pytest.raises(TypeError):
        a.partner = "not a handle"
    with pytest.raises(TypeError):
        heap.allocate("PyPerson", fields={"x": None})
    a.close()
    b.close()


def test_close_exactly_once_and_context_manager(heap):
    a = heap.allocate("PyThing")
    extra = a.ref()
    assert a.refcount == 2
    a.close()
    a.close()                                    # no second unref
    assert extra.refcount == 1
    with extra:
        assert not extra.closed
    assert extra.closed
    with pytest.raises(heapd.NoSuchObject) as info:
        heap.get(a.id)
    assert info.value.state == "freed"
    # A closed handle keeps its id but refuses to be used.
    assert a.id > 0
    with pytest.raises(heapd.HandleClosed):
        a.data
    with pytest.raises(heapd.HandleClosed):
        a.partner
    with pytest.raises(heapd.HandleClosed):
        a.ref()
    b = heap.allocate("PyThing")
    with pytest.raises(heapd.HandleClosed):
        b.partner = a
    b.close()


def test_ref_and_adopt_by_id(heap):
    a = heap.allocate("PyThing")
    r = heap.ref(a.id)
    assert r == a and r.refcount == 2
    raw = heap.call("ref", id=a.id)              # a reference taken behind the library's back
    assert raw.refcount == 3
    adopted = heap.adopt(a.id, "PyThing")         # ... wrapped without a request
    assert a.refcount == 3
    for h in (adopted, r, a):
        h.close()
    with pytest.raises(heapd.NoSuchObject):
        heap.get(a.id)


def test_inspect_and_getrefcount(heap):
    a = heap.allocate("PyThing")
    info = a.inspect()
    assert info.refcount == 1 and info.getrefcount == 2
    assert info.holders.roots == [] and info.holders.garbage == 0
    assert info.generation == 0 and info.tracked is True
    assert len(info.holders.sessions) == 1 and info.holders.sessions[0].count == 1
    a.close()


def test_autorelease_of_dropped_handles(heap):
    a = heap.allocate("PyPerson")
    b = heap.allocate("PyPerson")
    a.partner = b
    assert a.partner.data is None                # a temporary handle, dropped at once ...
    assert b.refcount == 2                       # ... and released before this request
    p = a.partner
    assert b.refcount == 3
    del p
    gc.collect()
    assert b.refcount == 2
    # Dropping the last handle frees the object (with the next request).
    b_id = b.id
    del a.partner
    del b
    with pytest.raises(heapd.NoSuchObject):
        heap.get(b_id)
    assert heap.flush() == 0
    tmp = heap.allocate("PyPerson")
    tmp_id = tmp.id
    del tmp
    assert heap.flush() == 1                     # sent now, without a request of its own
    with pytest.raises(heapd.NoSuchObject):
        heap.get(tmp_id)
    a.close()


def test_without_autorelease_dropped_handles_warn_and_keep_their_reference(daemon, framing):
    with daemon.heap(framing=framing, autorelease=False) as heap:
        a = heap.allocate("PyPerson")
        a_id = a.id
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del a
            gc.collect()
        assert any(issubclass(w.category, ResourceWarning) for w in caught)
        assert heap.inspect(a_id).refcount == 1  # still held, until the connection closes
        heap.adopt(a_id).close()


def test_handles_of_a_closed_heap_are_closed(daemon, framing):
    heap = daemon.heap(framing=framing)
    a = heap.allocate("PyThing")
    heap.close()
    assert heap.closed and a.closed
    a.close()                                    # nothing to do, no error
    with pytest.raises(heapd.ConnectionLost):
        heap.ping()
    heap.close()                                 # idempotent

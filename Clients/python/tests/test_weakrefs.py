"""Weak references: referent(), w(), callbacks as events and as callables."""

import pytest

import heapd


def test_weakref_referent_and_death(heap):
    target = heap.allocate("PyTarget", data=1)
    w = heap.weakref(target)
    assert isinstance(w, heapd.WeakRef) and w.type == "weakref"
    assert w.alive and w.referent_id == target.id and w.callback is False
    assert target.refcount == 1                 # weak: not counted
    r = w()
    assert r == target and r.refcount == 2      # referent() is a new strong reference
    r.close()
    assert w.referent() is not None             # (a temporary, released right away)
    assert target.refcount == 1
    target.close()                              # refcount 0: freed at once
    assert w.referent() is None and w() is None and not w.alive
    w.close()


def test_weakref_callback_event_and_callable(heap):
    heap.subscribe("weakref.callback")
    target = heap.allocate("PyTarget")
    calls = []
    w1 = heap.weakref(target, callback=True)
    w2 = target.weakref(callback=calls.append)  # CPython's weakref.ref(x, cb)
    assert w1.callback and w2.callback
    target.close()
    # Both callbacks fired before close() returned; w2's also reached its callable.
    assert [e.weakref for e in calls] == [w2.id] and calls[0].referent == target.id
    events = list(heap.events(timeout=0))
    assert sorted(e.weakref for e in events) == sorted([w1.id, w2.id])
    assert all(e.kind == "weakref.callback" and e.referent == target.id for e in events)
    w1.close()
    w2.close()


def test_callable_callback_without_user_subscription_is_not_queued(heap):
    target = heap.allocate("PyTarget")
    calls = []
    w = heap.weakref(target, callback=lambda e: calls.append(e.referent))
    target.close()
    assert calls == [target.id]
    assert list(heap.events(timeout=0)) == []    # the user subscribed to nothing
    w.close()


def test_weakref_with_fields_and_in_a_cycle(heap):
    # A weakref object is an ordinary object besides its referent: fields, cycles, collect.
    target = heap.allocate("PyTarget")
    payload = heap.allocate("PyPayload")
    w = heap.weakref(target, callback=True, fields={"captured": payload})
    assert w.fields == {"captured": payload.id}
    payload.back = w
    assert w.refcount == 2 and payload.refcount == 2
    payload.close()
    w.close()
    assert heap.collect().unreachable == 2       # the weakref and the payload, a cycle
    target.close()


def test_weakref_to_a_closed_handle_is_refused(heap):
    target = heap.allocate("PyTarget")
    target.close()
    with pytest.raises(heapd.HandleClosed):
        heap.weakref(target)
    with pytest.raises(heapd.NoSuchObject):
        heap.weakref(target.id)
    plain = heap.allocate("PyTarget")
    with pytest.raises(TypeError):
        plain.referent()
    plain.close()

"""Subscriptions: callbacks, the events() iterator, ordering before replies, other clients."""

import threading
import time

import heapd


def test_events_dispatched_before_the_reply_returns(heap):
    log = []
    heap.subscribe(["freed"], callback=lambda e: log.append(("event", tuple(e.ids))))
    a = heap.allocate("PyEv")
    b = heap.allocate("PyEv", fields={"x": a})
    a_id, b_id = a.id, b.id
    a.close()
    log.append(("closed a", ()))
    b.close()
    log.append(("closed b", ()))
    assert log == [("closed a", ()), ("event", (b_id, a_id)), ("closed b", ())]


def test_events_iterator_with_timeout(heap):
    assert heap.subscribe(["freed", "gc.start", "gc.stop"]) == ["freed", "gc.start", "gc.stop"]
    a = heap.allocate("PyEv")
    a_id = a.id
    a.close()
    heap.collect(0)
    got = list(heap.events(timeout=0))
    assert [e.kind for e in got] == ["freed", "gc.start", "gc.stop"]
    assert got[0].ids == [a_id] and got[0]["ids"] == [a_id] and got[0].get("nope", 5) == 5
    assert got[1].generation == 0
    start = time.monotonic()
    assert list(heap.events(timeout=0.1)) == []   # idle timeout ends the iteration
    assert time.monotonic() - start >= 0.09


def test_events_caused_by_another_connection(heap, connect):
    heap.subscribe("*")
    other = connect()
    x = other.allocate("PyEv", finalizer=True)
    x_id = x.id
    x.close()
    events = []
    for event in heap.events(timeout=2):
        events.append(event)
        if event.kind == "freed":
            break
    causes = [dict(e.params).pop("cause") for e in events]
    assert [(e.kind, {k: v for k, v in e.params.items() if k != "cause"}) for e in events] == [
        ("finalize", {"id": x_id, "type": "PyEv"}), ("freed", {"ids": [x_id]})]
    # The other connection's request caused them (SPEC §2.3: a client can tie an event to its cause).
    assert [c["kind"] for c in causes] == ["request", "request"]


def test_events_from_another_thread_wake_a_blocking_iterator(heap, connect):
    heap.subscribe("freed")
    other = connect()
    x = other.allocate("PyEv")
    x_id = x.id
    t = threading.Timer(0.05, x.close)
    t.start()
    event = next(heap.events(timeout=5))
    t.join()
    assert event.kind == "freed" and event.ids == [x_id]


def test_subscribe_star_and_unsubscribe(heap):
    assert set(heap.subscribe("*")) == set(heapd.EVENT_KINDS)
    assert heap.unsubscribe(["gc.start", "gc.stop"]) == ["finalize", "weakref.callback",
                                                        "freed", "session.closed"]
    assert heap.unsubscribe() == []
    a = heap.allocate("PyEv")
    a.close()
    assert list(heap.events(timeout=0)) == []


def test_unsubscribe_a_callback_queues_again(heap):
    seen = []
    heap.subscribe("freed", callback=seen.append)
    heap.allocate("PyEv").close()
    assert len(seen) == 1
    assert heap.unsubscribe(callback=seen.append) == ["freed"]
    heap.allocate("PyEv").close()
    assert len(seen) == 1 and len(heap.pending_events()) == 1


def test_poll_runs_callbacks(heap, connect):
    seen = []
    heap.subscribe("freed", callback=seen.append)
    other = connect()
    other.allocate("PyEv").close()
    deadline = time.monotonic() + 2
    while not seen and time.monotonic() < deadline:
        heap.poll(0.05)
    assert len(seen) == 1


def test_callback_errors_are_reported_not_raised(heap, capsys):
    def boom(event):
        raise RuntimeError("callback failed")

    heap.subscribe("freed", callback=boom)
    heap.allocate("PyEv").close()                 # the unref itself still succeeds
    assert [str(e) for e in heap.callback_errors] == ["callback failed"]
    assert "callback failed" in capsys.readouterr().err


def test_callbacks_may_call_the_heap(heap):
    seen = []

    def on_finalize(event):
        # A re-entrant request from inside a callback. The daemon has finished the collection
        # when its events are read: finalizers observe, they cannot resurrect.
        try:
            heap.get(event.id)
        except heapd.NoSuchObject as e:
            seen.append(e.state)

    heap.subscribe("finalize", callback=on_finalize)
    a = heap.allocate("PyEv", finalizer=True)
    b = heap.allocate("PyEv", finalizer=True)
    a.other, b.other = b, a
    a.close()
    b.close()
    assert heap.collect().unreachable == 2
    assert seen == ["freed", "freed"] and heap.callback_errors == []

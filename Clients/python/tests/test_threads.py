"""One connection per thread (the intended use), and one connection shared by threads."""

import threading
import time

import pytest

import heapd


def test_one_heap_per_thread(daemon, framing):
    errors = []

    def work(n):
        try:
            with daemon.heap(framing=framing) as heap:
                with heap.scope():
                    nodes = [heap.allocate("PyThread", data=n) for _ in range(20)]
                    for x, y in zip(nodes, nodes[1:] + nodes[:1]):
                        x.next = y
                for _ in range(3):
                    heap.collect(0)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_shared_heap_serializes_calls(heap):
    errors = []
    made = []

    def work():
        try:
            for _ in range(25):
                h = heap.allocate("PyShared")
                assert h.refcount == 1
                made.append(h.id)
                h.close()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(set(made)) == 100
    assert list(heap.objects(type="PyShared")) == []


def test_close_from_another_thread_ends_a_blocked_events_wait(daemon, framing):
    heap = daemon.heap(framing=framing)
    heap.subscribe("freed")
    threading.Timer(0.1, heap.close).start()
    start = time.monotonic()
    with pytest.raises(heapd.ConnectionLost):
        for _ in heap.events(timeout=None):
            pass
    assert time.monotonic() - start < 5 and heap.closed

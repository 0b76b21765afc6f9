"""collect, stats, gc controls, freeze, garbage, objects paging, referrers, check, raw calls."""

import pytest

import heapd


def make_cycle(heap, type_name="PyCyc", finalizer=False):
    a = heap.allocate(type_name, finalizer=finalizer)
    b = heap.allocate(type_name, finalizer=finalizer)
    a.next, b.next = b, a
    ids = [a.id, b.id]
    a.close()
    b.close()
    return ids


def test_collect_generations(heap):
    make_cycle(heap)
    young = heap.collect(0)
    assert young.generation == 0 and young.unreachable == 2 and young.uncollectable == 0
    assert young.duration_ms >= 0
    assert heap.collect().generation == 2


def test_stats(heap):
    a = heap.allocate("PyStat", data="xyz")
    stats = heap.stats()
    for key in ("objects", "bytes", "generations", "permanent", "garbage", "gc", "types",
                "roots", "sessions", "connections", "requests", "uptime_s", "table_bytes",
                "persistence"):
        assert key in stats
    assert stats.objects >= 1 and len(stats.generations) == 3
    assert any(t["type"] == "PyStat" and t["count"] == 1 for t in stats.types)
    a.close()


def test_gc_get_set_enable_disable(heap):
    state = heap.gc_get()
    assert state.enabled is True and state.threshold == [700, 10, 10]
    assert len(state.count) == 3 and len(state.stats) == 3 and state.debug == []
    new = heap.gc_set(threshold=[5, 2], debug=["STATS"])
    assert new.threshold == [5, 2, 10] and new.debug == ["STATS"]
    assert heap.gc_disable().enabled is False
    assert heap.gc_get().enabled is False
    assert heap.gc_enable().enabled is True
    heap.gc_set(threshold=[700, 10, 10], debug=[])


def test_automatic_collection_by_threshold(heap):
    seen = []
    heap.subscribe("gc.start", callback=seen.append)
    heap.gc_set(threshold=[3])
    try:
        handles = [heap.allocate("PyAuto") for _ in range(5)]
        assert any(e.generation == 0 for e in seen)
    finally:
        heap.gc_set(threshold=[700])
    for h in handles:
        h.close()


def test_saveall_garbage_and_clear(heap):
    heap.gc_set(debug=["SAVEALL"])
    try:
        ids = make_cycle(heap)
        assert heap.collect().collected == 2
        assert sorted(heap.gc_get().garbage) == sorted(ids)
        assert heap.inspect(ids[0]).holders.garbage == 1
    finally:
        heap.gc_set(debug=[])
    cleared = heap.garbage_clear()
    assert cleared.cleared == 2 and cleared.freed == []   # still a cycle, as in CPython
    assert heap.gc_get().garbage == []
    assert heap.collect().unreachable == 2


def test_freeze_unfreeze(heap):
    a = heap.allocate("PyFrozen")
    try:
        assert heap.freeze() >= 1
        assert heap.gc_get().freeze_count >= 1
        assert a.inspect().generation == "permanent"
        assert [o.id for o in heap.objects(type="PyFrozen", generation="permanent")] == [a.id]
    finally:
        assert heap.unfreeze() == 0
    assert a.inspect().generation == 2
    a.close()


def test_objects_iterator_follows_pages(heap):
    handles = [heap.allocate("PyPaged", data=i) for i in range(7)]
    listed = list(heap.objects(type="PyPaged", page_size=3))
    assert [o.id for o in listed] == [h.id for h in handles]
    assert all(o.type == "PyPaged" and o.refcount == 1 and o.generation == 0 for o in listed)
    assert list(heap.objects(type="PyPaged", generation=1)) == []
    for h in handles:
        h.close()
    assert list(heap.objects(type="PyPaged")) == []


def test_referrers_referents_accept_ids_and_handles(heap):
    a = heap.allocate("PyRef")
    b = heap.allocate("PyRef", fields={"to": a})
    assert heap.referrers(a.id) == [b.id] and heap.referents(b) == [a.id]
    assert a.referents() == [] and b.referrers() == []
    b.close()
    a.close()


def test_check_ping_discover(heap):
    check = heap.check()
    assert check.ok is True and check.problems == []
    assert heap.ping() is True
    doc = heap.discover()
    assert doc.openrpc.startswith("1.") and any(m["name"] == "allocate" for m in doc.methods)


def test_raw_call_and_notify(heap):
    assert heap.call("ping") == {"pong": True}
    a = heap.allocate("PyRaw")
    assert heap.call("get", id=a).id == a.id     # handles become ids
    heap.call("set", id=a.id, data={"raw": True})
    assert a.data == {"raw": True}
    heap.notify("set", id=a.id, data=2)          # no reply
    assert a.data == 2
    with pytest.raises(heapd.MethodNotFound):
        heap.call("no.such.method")
    a.close()


def test_record_attribute_access():
    r = heapd.Record({"a": 1, "items": 2})
    assert r.a == 1 and r["items"] == 2 and callable(r.items)
    with pytest.raises(AttributeError):
        r.missing

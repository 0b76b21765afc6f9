"""Pipelining: many requests in one write, their replies read together, results after the block."""

import pytest

import heapd


def count_writes(heap):
    """Count the connection's socket writes (the real writes, still performed)."""
    conn = heap._conn
    calls = []
    send = conn.send_bodies

    def counting(bodies):
        calls.append(len(bodies))
        return send(bodies)
    conn.send_bodies = counting
    return calls


def test_pipeline_allocates_handles_in_one_write(heap):
    writes = count_writes(heap)
    with heap.pipeline() as p:
        nodes = [p.allocate("PipeNode", data=i) for i in range(200)]
        stats = p.stats()
        assert not nodes[0].done
        with pytest.raises(RuntimeError):
            nodes[0].result()
    assert writes == [201]                         # one write carried all 201 requests
    handles = [n.result() for n in nodes]
    assert all(isinstance(h, heapd.Handle) for h in handles)
    assert [h.data for h in handles] == list(range(200))
    assert len({h.id for h in handles}) == 200 and [h.id for h in handles] == sorted(h.id for h in handles)
    assert stats.result().objects >= 200           # answered after the allocations, in order
    # Link and read back in a second pipeline; close them all in a third.
    with heap.pipeline() as p:
        sets = [p.set(a, fields={"next": b}) for a, b in zip(handles, handles[1:])]
        got = p.get(handles[0])
        ping = p.ping()
    assert [s.result().fields["next"] for s in sets] == [h.id for h in handles[1:]]
    assert got.result().fields == {"next": handles[1].id}
    assert ping.result() is True
    with heap.pipeline() as p:
        for h in handles:
            p.close(h)
    assert all(h.closed for h in handles)
    assert heap.collect().unreachable == 0         # the chain was freed by refcounting alone


def test_pipeline_events_arrive_before_each_result(heap):
    heap.subscribe(["freed"])
    a = heap.allocate("PipeEv")
    b = heap.allocate("PipeEv")
    with heap.pipeline() as p:
        ra, rb = p.close(a), p.close(b)
    assert ra.result().freed == [a.id] and rb.result().freed == [b.id]
    assert [e.ids for e in heap.events(timeout=0)] == [[a.id], [b.id]]


def test_pipeline_errors_raise_after_every_reply_is_read(heap):
    a = heap.allocate("PipeErr")
    with pytest.raises(heapd.NoSuchObject) as info:
        with heap.pipeline() as p:
            before = p.get(a)
            bad = p.get(987654321)
            after = p.allocate("PipeErr")
    assert info.value.state == "never-existed"
    assert before.result().type == "PipeErr"
    assert bad.error is info.value
    with pytest.raises(heapd.NoSuchObject):
        bad.result()
    after.result().close()                         # the request after the error still ran
    assert heap.ping()                             # and the connection is in step
    p = heap.pipeline(raise_on_error=False)
    bad = p.call("unref", id=987654321)
    ok = p.ping()
    p.execute()
    assert isinstance(bad.error, heapd.NoSuchObject) and ok.result() is True
    with pytest.raises(RuntimeError):
        p.execute()                                # a pipeline runs once
    a.close()


def test_pipeline_block_that_raises_sends_nothing(heap):
    before = heap.stats().objects
    with pytest.raises(KeyError):
        with heap.pipeline() as p:
            p.allocate("NeverSent")
            raise KeyError("boom")
    assert heap.stats().objects == before
    assert not p.pending[0].done


def test_large_pipeline_in_chunks(heap):
    writes = count_writes(heap)
    with heap.pipeline() as p:
        made = [p.call("allocate", type="PipeBulk") for _ in range(2500)]
    assert writes == [1000, 1000, 500]             # chunks bound what either side buffers
    ids = [m.result().id for m in made]
    results = heap.call_many([("unref", {"id": i}) for i in ids])
    assert [r.refcount for r in results] == [0] * 2500


def test_call_many(heap):
    results = heap.call_many(["ping", ("allocate", {"type": "Many"}), ("get", {"id": 987654321})],
                             raise_on_error=False)
    assert results[0].pong is True
    assert isinstance(results[2], heapd.NoSuchObject)
    heap.call("unref", id=results[1].id)
    with pytest.raises(heapd.MethodNotFound):
        heap.call_many(["ping", "no.such.method"])

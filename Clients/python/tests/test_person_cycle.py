"""The issue's required test: a named session, the classic Person partner cycle, refcounts
through inspect, drop it, collect, and see `freed` / `gc.stop` through the library's API."""

import pytest

import heapd


def test_person_partner_cycle_in_a_named_session(daemon, framing):
    with heapd.Heap(daemon.socket, framing=framing, session="py-person-cycle") as heap:
        assert heap.session == "py-person-cycle"
        heap.subscribe(["finalize", "freed", "gc.stop"])

        alice = heap.allocate("Person", data={"name": "Alice"})
        bob = heap.allocate("Person", data={"name": "Bob"}, finalizer=True)
        assert alice.refcount == 1
        assert alice.inspect().getrefcount == 2           # x = Person(); getrefcount(x) == 2

        alice.partner = bob
        bob.partner = alice

        a, b = alice.inspect(), bob.inspect()
        assert (a.refcount, a.getrefcount) == (2, 3)
        assert (b.refcount, b.getrefcount) == (2, 3)
        assert b.holders.fields == [{"object": alice.id, "field": "partner"}]
        assert [(s.name, s.count) for s in b.holders.sessions] == [("py-person-cycle", 1)]
        assert a.fields == {"partner": bob.id} and b.referrers == [alice.id]
        assert b.finalizer is True and b.finalized is False

        # Reading a field is a new reference, as in Python.
        with alice.partner as partner:
            assert partner == bob and partner.data == {"name": "Bob"}
            assert heap.inspect(bob.id).refcount == 3
        assert heap.inspect(bob.id).refcount == 2

        ids = {alice.id, bob.id}
        alice_id, bob_id = alice.id, bob.id
        alice.close()                                      # del alice
        bob.close()                                        # del bob
        assert alice.closed and bob.closed
        assert heap.inspect(alice_id).refcount == 1        # the cycle keeps itself alive
        assert heap.inspect(bob_id).refcount == 1
        assert list(heap.events(timeout=0)) == []          # nothing freed yet

        result = heap.collect()
        assert result.unreachable == 2 and result.collected == 2 and result.generation == 2

        events = list(heap.events(timeout=0))               # already read before the reply
        kinds = [e.kind for e in events]
        assert kinds == ["finalize", "freed", "gc.stop"]
        assert events[0].id == bob_id and events[0].type == "Person"
        assert set(events[1].ids) == ids
        assert events[2].generation == 2 and events[2].collected == 2

        with pytest.raises(heapd.NoSuchObject) as info:
            heap.get(alice_id)
        assert info.value.state == "freed" and info.value.id == alice_id

        closed = heap.close_session()
        assert closed.name == "py-person-cycle" and closed.released == 0
        assert heap.session is None


def test_person_cycle_events_through_callbacks(heap):
    seen = []
    heap.subscribe(["finalize", "freed", "gc.start", "gc.stop"], callback=seen.append)
    alice = heap.allocate("Person", data={"name": "Alice"}, finalizer=True)
    bob = heap.allocate("Person", data={"name": "Bob"}, finalizer=True)
    alice.partner, bob.partner = bob, alice
    ids = [alice.id, bob.id]
    alice.close()
    bob.close()
    assert seen == []
    heap.collect()
    # Dispatched before collect() returned, in the order they happened.
    assert [e.kind for e in seen] == ["gc.start", "finalize", "finalize", "freed", "gc.stop"]
    assert sorted(e.id for e in seen if e.kind == "finalize") == sorted(ids)
    assert sorted(seen[3].ids) == sorted(ids)

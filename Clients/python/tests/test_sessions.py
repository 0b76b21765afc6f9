"""Named sessions: survive disconnects, resume, conflicts, closing (also by another client)."""

import time

import pytest

import heapd


def named(heap, name):
    return [s for s in heap.sessions() if s.name == name]


def test_named_session_survives_disconnect_and_resumes(daemon, framing):
    with daemon.heap(framing=framing, session="py-keep") as first:
        a = first.allocate("PySess", data="kept")
        a_id = a.id
    assert a.closed                               # the handle went with its connection ...
    with daemon.heap(framing=framing) as other:
        # The daemon notices the closed connection asynchronously: wait for it (bounded).
        deadline = time.time() + 10
        info = named(other, "py-keep")
        while info and info[0].connected and time.time() < deadline:
            time.sleep(0.01)
            info = named(other, "py-keep")
        assert info and info[0].references == 1 and info[0].connected is False
        assert other.get(a_id).data == "kept"     # ... but the reference survived
    with daemon.heap(framing=framing) as second:
        result = second.open_session("py-keep")
        assert result.resumed is True and second.session == "py-keep"
        again = second.adopt(a_id)                # wrap the reference the session holds
        assert again.data == "kept" and again.refcount == 1
        again.close()
        closed = second.close_session()
        assert closed.released == 0 and second.session is None
    with pytest.raises(heapd.NoSuchObject):
        daemon.heap().get(a_id)


def test_open_session_moves_anonymous_references(heap):
    a = heap.allocate("PySess")
    result = heap.open_session("py-move")
    assert result.resumed is False
    assert named(heap, "py-move")[0].references == 1
    assert not a.closed and a.refcount == 1
    a.close()
    assert named(heap, "py-move")[0].references == 0
    heap.close_session()


def test_session_conflict(heap, connect):
    heap.open_session("py-conflict")
    other = connect()
    with pytest.raises(heapd.SessionConflict) as info:
        other.open_session("py-conflict")
    assert info.value.name == "py-conflict"
    with pytest.raises(heapd.SessionConflict):
        connect(session="py-conflict")
    assert other.session is None
    heap.close_session("py-conflict")
    assert heap.session is None


def test_switching_named_sessions_closes_the_old_handles(heap, connect):
    heap.open_session("py-s1")
    a = heap.allocate("PySess")
    heap.open_session("py-s2")
    assert a.closed                               # it stays with py-s1
    assert named(heap, "py-s1")[0].references == 1
    closed = heap.close_session("py-s1")          # closing another session by name
    assert closed.released == 1 and closed.freed == [a.id]
    assert heap.session == "py-s2"
    heap.close_session()


def test_session_closed_by_another_client(heap, connect):
    heap.open_session("py-victim")
    a = heap.allocate("PySess")
    with heap.scope():
        b = heap.allocate("PySess")
        killer = connect()
        result = killer.close_session("py-victim")
        assert result.released == 2
        # The victim learns it from the session.closed notification (sent to it even
        # unsubscribed) with its next request; its handles are then closed.
        assert heap.ping()
        assert heap.session is None and a.closed and b.closed
        assert heap.scope_depth == 0
    # The scope block's exit is a no-op: that scope went with the session.
    c = heap.allocate("PySess")
    assert c.refcount == 1
    c.close()


def test_session_closed_event_for_subscribers(heap, connect):
    heap.subscribe("session.closed")
    other = connect(session="py-observed")
    other.close_session()
    event = next(heap.events(timeout=5))
    assert (event.kind, event.name) == ("session.closed", "py-observed")


def test_no_such_session(heap):
    with pytest.raises(heapd.NoSuchSession):
        heap.close_session()
    with pytest.raises(heapd.NoSuchSession):
        heap.close_session("py-never")


def test_sessions_listing(heap):
    a = heap.allocate("PySess", data="12345")
    with heap.scope():
        sessions = heap.sessions()
        assert all({"id", "name", "connected", "references", "objects", "bytes",
                    "scope_depth"} <= set(s) for s in sessions)
        mine = [s for s in sessions if s.references == 1 and s.scope_depth == 1]
        assert mine and mine[0].bytes == a.size
    a.close()

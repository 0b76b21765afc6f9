"""Leases on named sessions (session.open's lease_s) and the reply timeout."""

import os
import signal
import threading
import time

import pytest

import heapd


def session_info(heap, name):
    found = [s for s in heap.sessions() if s.name == name]
    return found[0] if found else None


def test_open_session_with_lease(heap, connect):
    result = heap.open_session("py-lease", lease_s=30)
    assert result.lease_s == 30 and result.resumed is False
    info = session_info(heap, "py-lease")
    assert info.lease_s == 30 and 0 < info.lease_left_s <= 30
    heap.close_session()
    with connect(session="py-lease-2", lease_s=45) as other:    # also through Heap(...)
        assert session_info(other, "py-lease-2").lease_s == 45
        other.close_session()
    with pytest.raises(heapd.InvalidParams) as info:
        heap.open_session("py-lease-bad", lease_s=0)
    assert "lease_s" in str(info.value)
    with pytest.raises(TypeError):
        heapd.Heap(heap.socket_path, lease_s=5)                       # a lease needs a session
    assert session_info(heap, "py-lease-bad") is None


def test_lease_renewed_by_requests_then_expires(daemon, connect):
    heap = connect(session="py-lease-short", lease_s=1.0)
    kept = heap.allocate("Leased")
    kept_id = kept.id
    # Requests renew it: 2.5 s of pings, never 1 s apart.
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        assert heap.ping()
        time.sleep(0.1)
    assert heap.session == "py-lease-short" and not kept.closed
    # Idle past the lease: the daemon closes the session, the library hears session.closed.
    watcher = connect()
    deadline = time.monotonic() + 10
    while session_info(watcher, "py-lease-short") is not None:
        assert time.monotonic() < deadline, "the lease did not expire"
        time.sleep(0.05)
    with pytest.raises(heapd.NoSuchObject) as info:
        watcher.get(kept_id)
    assert info.value.state == "freed"
    heap.poll(1)                                                # read the session.closed
    assert heap.session is None and kept.closed
    assert heap.ping()                                          # anonymous now, still usable


def wait_until_stopped(pid, timeout=10.0):
    """kill(2) returns before the stop takes effect, and a thread still running could answer one
    more request: wait until every thread of ``pid`` is in job-control stop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])  # the name may hold spaces
        if states and all(state in ("T", "t") for state in states):
            return
        time.sleep(0.005)
    raise AssertionError(f"process {pid} did not stop within {timeout} s")


def stop_daemon(d, resume_after=10.0):
    """SIGSTOP the daemon; a timer sends SIGCONT after ``resume_after`` s, so that a client
    without a working timeout fails the test (too slow) instead of hanging it."""
    os.kill(d.proc.pid, signal.SIGSTOP)
    wait_until_stopped(d.proc.pid)
    timer = threading.Timer(resume_after, os.kill, (d.proc.pid, signal.SIGCONT))
    timer.start()
    return timer


def resume_daemon(d, timer):
    timer.cancel()
    os.kill(d.proc.pid, signal.SIGCONT)


def test_reply_timeout_closes_the_connection(spawn):
    d = spawn()
    heap = d.heap(timeout=0.3)
    assert heap.ping()                                          # fast replies: no timeout
    timer = stop_daemon(d)                                      # the daemon stops answering
    try:
        start = time.monotonic()
        with pytest.raises(heapd.ReplyTimeout) as info:
            heap.stats()
        took = time.monotonic() - start
    finally:
        resume_daemon(d, timer)
    assert 0.25 <= took < 9   # well before the timer resumes the daemon
    err = info.value
    assert isinstance(err, TimeoutError) and isinstance(err, heapd.ConnectionLost)
    assert err.method == "stats" and err.timeout == 0.3
    assert "no reply to 'stats' from heapd within 0.3 s" in str(err)
    assert heap.closed
    with pytest.raises(heapd.ConnectionLost):
        heap.ping()
    with d.heap(timeout=5) as again:                            # the daemon is fine
        assert again.ping()


def test_reply_timeout_in_a_pipeline(spawn):
    d = spawn()
    heap = d.heap()
    heap.timeout = 0.3                                          # settable after connecting
    timer = stop_daemon(d)
    try:
        with pytest.raises(heapd.ReplyTimeout):
            with heap.pipeline() as p:
                first = p.ping()
                second = p.ping()
    finally:
        resume_daemon(d, timer)
    assert isinstance(first.error, heapd.ReplyTimeout) and isinstance(second.error, heapd.ReplyTimeout)
    assert heap.closed


def test_no_timeout_by_default(heap):
    assert heap.timeout is None
    assert heap.collect().generation == 2

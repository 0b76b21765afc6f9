"""SPEC §3 (sessions, sharing) and §1 (scopes): who holds external references, and what happens
to them when a connection goes away, a named session is resumed or closed, or a scope exits.
"""
import random
import socket
import threading
import time

import pytest

from heapd_harness import RPCError, is_alive


# -- helpers ----------------------------------------------------------------------------------

def alloc(c, type="T", **kw):
    return c.call("allocate", type=type, **kw)["id"]


def wait_until(fn, timeout=10, what="condition"):
    """Polls `fn` (disconnects are processed asynchronously) until it is truthy."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def connections(c):
    return c.call("stats")["connections"]


def sessions_by_name(c):
    return {s["name"]: s for s in c.call("session.list")["sessions"] if s["name"] is not None}


def wait_disconnected(observer, still_open):
    """Waits until the daemon counts exactly `still_open` connections (those the test keeps)."""
    wait_until(lambda: connections(observer) == still_open, what="the disconnect")


def reachable_from_roots(c):
    """Ids reachable from the named roots through fields (what the roots hold)."""
    todo = [r["id"] for r in c.call("root.list")["roots"]]
    seen = set()
    while todo:
        oid = todo.pop()
        if oid in seen:
            continue
        seen.add(oid)
        todo.extend(c.call("get", id=oid)["fields"].values())
    return seen


# -- anonymous sessions -----------------------------------------------------------------------

def test_disconnect_drops_anonymous_references(daemon, client):
    """SPEC §3: when an anonymous connection closes, every reference it held is dropped, whatever
    it did: what it alone held is freed (a subscriber sees `freed`), what a root also holds
    survives with its refcount reduced."""
    client.call("subscribe", events=["freed"])
    a = daemon.client()
    lone = alloc(a, "Lone")
    kid = alloc(a, "Kid")
    a.call("set", id=lone, fields={"kid": kid})
    a.call("ref", id=lone)
    a.call("ref", id=kid)
    kept = alloc(a, "Kept")
    a.call("ref", id=kept)
    a.call("root.set", name="keep", id=kept)
    assert client.call("get", id=kept)["refcount"] == 3
    a.close()
    wait_disconnected(client, 1)
    assert not is_alive(client, lone) and not is_alive(client, kid)
    assert client.call("get", id=kept)["refcount"] == 1
    client.call("ping")
    assert sorted(i for n in client.take_notifications("freed") for i in n["params"]["ids"]) == sorted([lone, kid])
    i = client.call("inspect", id=kept)
    assert i["holders"]["sessions"] == [] and i["holders"]["roots"] == ["keep"]


def test_disconnect_with_unread_replies_and_partial_message(daemon, client):
    """A client vanishing mid-request (replies unread, half a message sent) still loses its
    references, and the half message does nothing."""
    a = daemon.client()
    x = alloc(a)
    a.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ref","params":{"id":%d}}\n' % x * 20)
    a.send_raw(b'{"jsonrpc":"2.0","id":2,"method":"allocate","params":{"type":"Half')
    a.close()
    wait_disconnected(client, 1)
    assert not is_alive(client, x)
    assert client.call("objects", type="Half")["objects"] == []


def test_disconnect_drops_cycle_members_to_collector(daemon, client):
    """Dropping a dead client's references turns its cycles into garbage for the collector,
    not leaks."""
    a = daemon.client()
    p = alloc(a)
    q = alloc(a, fields={"p": p})
    a.call("set", id=p, fields={"q": q})
    a.close()
    wait_disconnected(client, 1)
    assert client.call("get", id=p)["refcount"] == 1
    assert client.call("collect")["collected"] == 2
    assert not is_alive(client, p) and not is_alive(client, q)


# -- named sessions ---------------------------------------------------------------------------

def test_named_session_resumes_across_reconnects(daemon, client):
    """SPEC §3: a named session's references survive disconnects; reconnecting with the name
    resumes it (and its references can then be dropped)."""
    a = daemon.client()
    assert a.call("session.open", name="editor")["resumed"] is False
    x = alloc(a, data="kept")
    a.call("ref", id=x)
    a.close()
    wait_disconnected(client, 1)
    assert client.call("get", id=x)["refcount"] == 2
    s = sessions_by_name(client)["editor"]
    assert s["connected"] is False and s["references"] == 2
    b = daemon.client()
    assert b.call("session.open", name="editor")["resumed"] is True
    assert sessions_by_name(b)["editor"]["connected"] is True
    b.call("unref", id=x)
    r = b.call("unref", id=x)
    assert r["freed"] == [x]
    b.close()


def test_named_session_free_after_holder_disconnects(daemon, client):
    """One connection holds a named session at a time: a second is refused (-32004) while the
    first is connected, and may resume it once it has gone."""
    a = daemon.client()
    a.call("session.open", name="solo")
    x = alloc(a)
    b = daemon.client()
    with pytest.raises(RPCError) as e:
        b.call("session.open", name="solo")
    assert e.value.code == -32004
    a.close()
    wait_disconnected(client, 2)
    assert b.call("session.open", name="solo")["resumed"] is True
    assert b.call("unref", id=x)["refcount"] == 0
    b.close()


def test_references_taken_before_open_move_into_named_session(daemon, client):
    """References taken anonymously before session.open move into the named session, so they
    survive the disconnect; the anonymous session is gone."""
    a = daemon.client()
    x = alloc(a)
    a.call("ref", id=x)
    a.call("session.open", name="adopter")
    # a's anonymous session is closed, its references moved (none left anywhere anonymous).
    assert [s for s in client.call("session.list")["sessions"] if s["name"] is None and s["references"]] == []
    a.close()
    wait_disconnected(client, 1)
    assert client.call("get", id=x)["refcount"] == 2
    holders = client.call("inspect", id=x)["holders"]["sessions"]
    assert [(h["name"], h["count"]) for h in holders] == [("adopter", 2)]


def test_switching_named_sessions_keeps_each_ones_references(daemon, client):
    """A named session keeps its references until it is closed (SPEC §3): opening another named
    session on the same connection must not move the first one's references away."""
    a = daemon.client()
    a.call("session.open", name="first")
    x = alloc(a)
    a.call("session.open", name="second")
    y = alloc(a)
    s = sessions_by_name(client)
    assert s["first"]["references"] == 1 and s["first"]["connected"] is False
    assert s["second"]["references"] == 1 and s["second"]["connected"] is True
    a.close()
    b = daemon.client()
    wait_until(lambda: not sessions_by_name(client)["second"]["connected"], what="the disconnect")
    b.call("session.open", name="first")
    assert b.call("unref", id=x)["refcount"] == 0
    with pytest.raises(RPCError) as e:
        b.call("unref", id=y)
    assert e.value.code == -32002
    b.close()


def test_session_list(daemon, client):
    """session.list shows each session's name, whether it is connected, and what it holds."""
    a = daemon.client()
    a.call("session.open", name="lister")
    x = alloc(a, size=100)
    a.call("ref", id=x)
    alloc(a, size=20)
    s = sessions_by_name(client)["lister"]
    assert (s["connected"], s["references"], s["objects"], s["bytes"]) == (True, 3, 2, 120)
    anon = [s for s in client.call("session.list")["sessions"] if s["name"] is None]
    assert anon and all(s["connected"] for s in anon)
    a.close()
    wait_until(lambda: not sessions_by_name(client)["lister"]["connected"], what="the disconnect")
    assert sessions_by_name(client)["lister"]["references"] == 3


def test_session_close_by_other_connection(daemon, client):
    """SPEC §3: another client may close a named session (as Redis CLIENT KILL): its references
    are dropped, the attached connection is told with `session.closed` {name} (unsubscribed),
    and carries on in a fresh anonymous session."""
    client.call("subscribe", events=["freed"])
    a = daemon.client()
    a.call("session.open", name="victim")
    x = alloc(a)
    a.call("ref", id=x)
    shared = alloc(client)
    a.call("ref", id=shared)
    r = client.call("session.close", name="victim")
    assert r["name"] == "victim" and r["released"] == 3
    assert r["freed"] == [x]
    assert not is_alive(client, x)
    assert client.call("get", id=shared)["refcount"] == 1
    assert "victim" not in sessions_by_name(client)
    assert a.call("ping") == {"pong": True}
    closed = a.take_notifications("session.closed")
    assert [(n["method"], n["params"]["name"]) for n in closed] == [("session.closed", "victim")]
    # Closed by `client`'s request, not by the connection that was attached to it.
    assert closed[0]["params"]["cause"]["kind"] == "request"
    assert closed[0]["params"]["cause"]["method"] == "session.close"
    y = alloc(a)
    with pytest.raises(RPCError) as e:
        a.call("unref", id=shared)
    assert e.value.code == -32002
    assert a.call("unref", id=y)["refcount"] == 0
    a.close()


def test_session_closed_sent_once_to_subscribed_holder(daemon, client):
    """A holder subscribed to everything gets `session.closed` once, not twice."""
    a = daemon.client()
    a.call("subscribe", events=["*"])
    a.call("session.open", name="watched")
    client.call("session.close", name="watched")
    a.call("ping")
    closed = [n["params"] for n in a.take_notifications("session.closed")]
    assert [n["name"] for n in closed] == ["watched"]
    assert closed[0]["cause"] == {"kind": "request", "method": "session.close",
                                  "connection": closed[0]["cause"]["connection"], "session": None}
    a.close()


def test_session_close_own(daemon, client):
    """session.close without a name closes this connection's named session, dropping its
    references; the name can then be opened afresh."""
    x = alloc(client)
    client.call("session.open", name="mine")
    r = client.call("session.close")
    assert r["freed"] == [x]
    assert client.call("session.open", name="mine")["resumed"] is False


# -- scopes -----------------------------------------------------------------------------------

def test_scope_exit_drops_references_taken_inside(client):
    """SPEC §1: references taken inside a scope are dropped at scope.exit, as a function's
    locals; those taken outside stay."""
    outer = alloc(client)
    assert client.call("scope.enter")["depth"] == 1
    inner = alloc(client)
    client.call("ref", id=outer)
    assert client.call("get", id=outer)["refcount"] == 2
    r = client.call("scope.exit")
    assert r["depth"] == 0 and r["freed"] == [inner]
    assert client.call("get", id=outer)["refcount"] == 1
    assert not is_alive(client, inner)


def test_nested_scopes(client):
    """Each scope.exit drops only its own scope's references."""
    client.call("scope.enter")
    a = alloc(client)
    assert client.call("scope.enter")["depth"] == 2
    b = alloc(client)
    client.call("ref", id=a)
    assert client.call("scope.exit")["freed"] == [b]
    assert client.call("get", id=a)["refcount"] == 1
    assert client.call("scope.exit")["freed"] == [a]
    assert [s["scope_depth"] for s in client.call("session.list")["sessions"]] == [0]


def test_scope_exit_object_kept_by_field(client):
    """An object created in a scope but stored in an outer object survives the scope."""
    outer = alloc(client)
    client.call("scope.enter")
    inner = alloc(client, data="escaped")
    client.call("set", id=outer, fields={"inner": inner})
    assert client.call("scope.exit")["freed"] == []
    assert client.call("get", id=inner)["refcount"] == 1


def test_disconnect_inside_scope_drops_everything(daemon, client):
    """Disconnecting inside (nested) scopes drops the references of every scope and of the
    session itself."""
    a = daemon.client()
    base = alloc(a)
    a.call("scope.enter")
    s1 = alloc(a)
    a.call("ref", id=base)
    a.call("scope.enter")
    s2 = alloc(a)
    a.call("ref", id=s1)
    a.close()
    wait_disconnected(client, 1)
    for oid in (base, s1, s2):
        assert not is_alive(client, oid)


# -- many clients at once ---------------------------------------------------------------------

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_slow_subscriber_does_not_grow_memory_without_bound(daemon, client):
    """SPEC §8: slow readers get back-pressure instead of unbounded memory. A subscriber that
    never reads while another client frees 200k objects with finalizers (~400k notifications,
    ~30 MB of JSON) must not make the daemon grow by tens of MiB (without the subscriber the
    same work grows it by < 10 MiB)."""
    slow = daemon.client()
    slow.call("subscribe", events=["*"])
    client.call("ping")
    before = rss_kib(daemon.proc.pid)
    for _ in range(40):
        client.send([{"jsonrpc": "2.0", "id": i, "method": "allocate",
                      "params": {"type": "T", "finalizer": True}} for i in range(5000)])
        ids = [r["result"]["id"] for r in client.read_message()]
        client.send([{"jsonrpc": "2.0", "method": "unref", "params": {"id": i}} for i in ids])
    assert client.call("stats")["objects"] == 0
    growth_mib = (rss_kib(daemon.proc.pid) - before) / 1024
    slow.close()
    assert growth_mib < 48, f"daemon grew by {growth_mib:.0f} MiB for one non-reading subscriber"
    # It was cut off (as Redis cuts a pub/sub client past its output limit), and says so.
    assert "does not read its events" in daemon.read_log()


def test_50_concurrent_clients_vanishing(daemon, client):
    """50 clients at once take and drop references on shared objects, link them, then vanish
    abruptly. Afterwards the heap passes `check`, no session or connection is left behind, and
    (after a collection for the cycles they made) exactly what the roots hold is alive."""
    shared = []
    for i in range(8):
        s = alloc(client, "Shared", data=i)
        client.call("root.set", name=f"s{i}", id=s)
        client.call("unref", id=s)
        shared.append(s)
    errors = []
    barrier = threading.Barrier(50)

    def worker(n):
        rng = random.Random(n)
        try:
            c = daemon.client()
            barrier.wait(timeout=30)
            held = []  # ids this client holds references to (with multiplicity)
            for _ in range(40):
                op = rng.random()
                if op < 0.3 or not held:
                    fields = {"s": rng.choice(shared)} if rng.random() < 0.5 else None
                    held.append(c.call("allocate", type="W", **({"fields": fields} if fields else {}))["id"])
                elif op < 0.5:
                    target = rng.choice(shared + held)
                    c.call("ref", id=target)
                    held.append(target)
                elif op < 0.65:
                    target = held.pop(rng.randrange(len(held)))
                    c.call("unref", id=target)
                elif op < 0.85:
                    try:
                        c.call("set", id=rng.choice(shared), fields={f"f{rng.randrange(4)}": rng.choice(held + [None])})
                    except RPCError as e:
                        if e.code != -32015:  # deleting a field no client set (yet) is refused
                            raise
                else:
                    own = rng.choice(held)
                    c.call("set", id=own, fields={"back": rng.choice(shared + held)})
            how = n % 3
            if how == 1:  # requests in flight, replies never read
                c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ref","params":{"id":%d}}\n' % shared[0] * 10)
            elif how == 2:  # half a message
                c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"ty')
            c.sock.shutdown(socket.SHUT_RDWR)
            c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {n}: {e!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    wait_disconnected(client, 1)
    wait_until(lambda: client.call("stats")["sessions"] == 1, what="sessions to close")
    assert client.call("check")["ok"]
    client.call("collect")
    expected = reachable_from_roots(client)
    stats = client.call("stats")
    assert stats["objects"] == len(expected), (stats["objects"], len(expected))
    check = client.call("check")
    assert check["ok"], check["problems"]
    for s in shared:
        i = client.call("inspect", id=s)
        assert i["holders"]["sessions"] == [] and i["holders"]["roots"] == [f"s{shared.index(s)}"]

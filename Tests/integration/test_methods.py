"""Every method's semantics through the wire (SPEC §1, §2.3), with CPython 3.11's rules where the
spec borrows them: refcounts, immediate deallocation, weakrefs and their callbacks, finalizers,
gc controls, and "events reach every subscriber before the reply of the request that caused
them".
"""
import json
import time

import pytest

from heapd_harness import RPCError, is_alive


# -- helpers ----------------------------------------------------------------------------------

ALL_EVENTS = ["finalize", "weakref.callback", "gc.start", "gc.stop", "freed"]


def alloc(c, type="T", **kw):
    return c.call("allocate", type=type, **kw)["id"]


def error_code(c, method, **params):
    with pytest.raises(RPCError) as e:
        c.call(method, **params)
    return e.value.code


def freed_ids(notes):
    return [i for n in notes if n["method"] == "freed" for i in n["params"]["ids"]]


def messages_until_reply(c, rid):
    """Every message the daemon sends up to and including the reply with id `rid`, in order."""
    out = []
    while True:
        m = c.read_message()
        out.append(m)
        if isinstance(m, dict) and m.get("id") == rid and "method" not in m:
            return out


def call_raw(c, rid, method, params=None):
    msg = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    c.send(msg)
    return messages_until_reply(c, rid)


def cycle(c, type="Node", finalizer=False):
    """Two objects referring to each other, no longer referenced by the session."""
    a = alloc(c, type, finalizer=finalizer)
    b = alloc(c, type, fields={"other": a}, finalizer=finalizer)
    c.call("set", id=a, fields={"other": b})
    c.call("unref", id=a)
    c.call("unref", id=b)
    return a, b


def compact_len(value):
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# -- allocate / get ---------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    {"name": "Alice", "age": 30, "tags": ["a", "b"], "nested": {"x": None, "y": [True, False]}},
    [1, "two", 3.5, None, {"k": []}],
    "h\u00e9llo \u2603 \U0001F600 \"quoted\" \\ back\nslash",
    0, -12345678901234, 1e-7, True, False, {}, [],
])
def test_data_round_trips(client, data):
    """`data` is opaque JSON and comes back equal."""
    x = alloc(client, data=data)
    got = client.call("get", id=x)
    assert got["data"] == data
    assert got["type"] == "T" and got["id"] == x and got["fields"] == {}


def test_allocate_returns_new_ids_never_reused(client):
    """SPEC §1: ids are > 0, below 2^53, and never reused within one heap."""
    seen = set()
    for _ in range(5):
        x = alloc(client)
        assert 0 < x < 2 ** 53 and x not in seen
        seen.add(x)
        client.call("unref", id=x)
    assert alloc(client) not in seen


def test_size_defaults_to_encoded_data_length(client):
    """SPEC §1: size defaults to the size of the data (its compact JSON encoding); no data: 0."""
    data = {"name": "Alice", "list": [1, 2, 3], "flag": True}
    x = alloc(client, data=data)
    assert client.call("get", id=x)["size"] == compact_len(data)
    assert client.call("get", id=alloc(client))["size"] == 0
    assert client.call("get", id=alloc(client, data="abc"))["size"] == 5


def test_explicit_size_and_stats_bytes(client):
    """An explicit size overrides the data's; stats.bytes sums sizes and drops freed ones."""
    before = client.call("stats")["bytes"]
    x = alloc(client, size=1000, data="tiny")
    y = alloc(client, size=24)
    assert client.call("get", id=x)["size"] == 1000
    assert client.call("stats")["bytes"] == before + 1024
    client.call("unref", id=x)
    assert client.call("stats")["bytes"] == before + 24
    client.call("unref", id=y)
    assert client.call("stats")["bytes"] == before


def test_allocate_with_fields_takes_references(client):
    """allocate's fields are strong references: each target's refcount grows by one per field."""
    t = alloc(client)
    x = alloc(client, fields={"a": t, "b": t})
    assert client.call("get", id=x)["fields"] == {"a": t, "b": t}
    assert client.call("get", id=t)["refcount"] == 3
    client.call("unref", id=x)
    assert client.call("get", id=t)["refcount"] == 1


# -- ref / unref ------------------------------------------------------------------------------

def test_ref_unref_refcounts(client):
    """allocate → 1 (held by the caller), ref +1, unref -1; at 0 the object is freed at once."""
    x = alloc(client)
    assert client.call("get", id=x)["refcount"] == 1
    assert client.call("ref", id=x) == {"id": x, "refcount": 2}
    assert client.call("ref", id=x) == {"id": x, "refcount": 3}
    r = client.call("unref", id=x)
    assert (r["id"], r["refcount"], r["freed"]) == (x, 2, [])
    client.call("unref", id=x)
    r = client.call("unref", id=x)
    assert r["refcount"] == 0 and r["freed"] == [x]
    assert not is_alive(client, x)


def test_unref_cascade_frees_chain(client):
    """Freeing an object releases its fields, freeing what only they held (and nothing else)."""
    c3 = alloc(client)
    c2 = alloc(client, fields={"next": c3})
    c1 = alloc(client, fields={"next": c2})
    keep = alloc(client)
    client.call("set", id=c2, fields={"keep": keep})
    client.call("unref", id=c3)
    client.call("unref", id=c2)
    r = client.call("unref", id=c1)
    assert sorted(r["freed"]) == sorted([c1, c2, c3])
    assert client.call("get", id=keep)["refcount"] == 1


def test_long_chain_freed_without_recursion(client):
    """SPEC §1.1: releasing may free more, iteratively (a long chain must not overflow)."""
    head = alloc(client)
    n = 3000
    for _ in range(n):
        head_new = alloc(client, fields={"next": head})
        client.call("unref", id=head)
        head = head_new
    before = client.call("stats")["objects"]
    r = client.call("unref", id=head)
    assert r["refcount"] == 0
    assert client.call("stats")["objects"] == before - (n + 1)


def test_big_cascade_reply_and_freed_notifications(daemon, client):
    """A cascade freeing 10051 objects: the reply's `freed` list may be cut, but then
    `freed_count` gives the total; a `freed` subscriber still gets every id exactly once."""
    watcher = daemon.client()
    watcher.call("subscribe", events=["freed"])
    n = 10050
    client.send([{"jsonrpc": "2.0", "id": i, "method": "allocate", "params": {"type": "Leaf"}} for i in range(n)])
    leaves = [r["result"]["id"] for r in client.read_message()]
    hub = alloc(client, "Hub", fields={f"f{i}": leaf for i, leaf in enumerate(leaves)})
    client.send([{"jsonrpc": "2.0", "method": "unref", "params": {"id": leaf}} for leaf in leaves])
    assert client.call("get", id=leaves[-1])["refcount"] == 1
    r = client.call("unref", id=hub)
    everything = set(leaves) | {hub}
    assert len(set(r["freed"])) == len(r["freed"]) and set(r["freed"]) <= everything
    assert r.get("freed_count", len(r["freed"])) == n + 1
    watcher.call("ping")
    notified = [i for note in watcher.take_notifications("freed") for i in note["params"]["ids"]]
    assert sorted(notified) == sorted(everything)
    watcher.close()


# -- set --------------------------------------------------------------------------------------

def test_set_fields_and_null_deletes(client):
    """set adds, replaces and (null) deletes fields, adjusting the targets' refcounts."""
    a, b, x = alloc(client), alloc(client), alloc(client)
    r = client.call("set", id=x, fields={"f": a, "g": b})
    assert r["fields"] == {"f": a, "g": b} and r["id"] == x
    assert client.call("get", id=a)["refcount"] == 2
    client.call("set", id=x, fields={"f": b})
    assert client.call("get", id=a)["refcount"] == 1
    assert client.call("get", id=b)["refcount"] == 3
    r = client.call("set", id=x, fields={"g": None})
    assert r["fields"] == {"f": b}
    assert client.call("get", id=x)["fields"] == {"f": b}
    assert client.call("get", id=b)["refcount"] == 2


def test_set_null_frees_last_reference(client):
    """Deleting the field that held the last reference frees the target immediately."""
    x = alloc(client)
    t = alloc(client)
    client.call("set", id=x, fields={"f": t})
    client.call("unref", id=t)
    r = client.call("set", id=x, fields={"f": None})
    assert t in r.get("freed", []), r
    assert not is_alive(client, t)


def test_set_data_and_data_null(client):
    """set replaces data (the default size follows it); data null removes it."""
    x = alloc(client, data="abc")
    client.call("set", id=x, data={"k": "value"})
    got = client.call("get", id=x)
    assert got["data"] == {"k": "value"} and got["size"] == compact_len({"k": "value"})
    client.call("set", id=x, data=None)
    got = client.call("get", id=x)
    assert got["data"] is None and got["size"] == 0


def test_self_reference(client):
    """An object may hold itself; it then needs the collector."""
    x = alloc(client)
    client.call("set", id=x, fields={"me": x})
    assert client.call("get", id=x)["refcount"] == 2
    client.call("unref", id=x)
    assert is_alive(client, x)
    assert client.call("collect")["unreachable"] == 1
    assert not is_alive(client, x)


# -- weakref ----------------------------------------------------------------------------------

def test_weakref_referent_becomes_null(client):
    """SPEC §1: a weakref does not count towards the refcount; it reads null once the referent died."""
    x = alloc(client)
    w = client.call("weakref", id=x)["id"]
    assert client.call("get", id=x)["refcount"] == 1
    got = client.call("get", id=w)
    assert got["type"] == "weakref" and got["referent"] == x
    client.call("unref", id=x)
    assert client.call("get", id=w)["referent"] is None
    assert client.call("get", id=w)["refcount"] == 1


def test_weakref_callback_notification(client):
    """weakref.callback {weakref, referent} fires when the referent dies (callback: true only),
    before the reply of the request that freed it."""
    client.call("subscribe", events=["weakref.callback"])
    x = alloc(client)
    w_cb = client.call("weakref", id=x, callback=True)["id"]
    w_plain = client.call("weakref", id=x)["id"]
    msgs = call_raw(client, 900, "unref", {"id": x})
    notes = [m for m in msgs if "method" in m]
    cause = notes[0]["params"].pop("cause")
    assert notes == [{"jsonrpc": "2.0", "method": "weakref.callback", "params": {"weakref": w_cb, "referent": x}}]
    assert cause["kind"] == "request" and cause["method"] == "unref" and cause["session"] is None
    assert msgs[-1]["id"] == 900
    assert client.call("get", id=w_plain)["referent"] is None


def test_dead_weakref_fires_no_callback(client):
    """A weakref freed before its referent never calls back."""
    client.call("subscribe", events=["weakref.callback"])
    x = alloc(client)
    w = client.call("weakref", id=x, callback=True)["id"]
    client.call("unref", id=w)
    client.call("unref", id=x)
    client.call("ping")
    assert client.take_notifications("weakref.callback") == []


def test_weakref_fields_are_strong(client):
    """A weakref object may carry fields of its own, which are strong references."""
    x, cap = alloc(client), alloc(client)
    w = client.call("weakref", id=x, callback=True, fields={"closure": cap})["id"]
    assert client.call("get", id=w)["fields"] == {"closure": cap}
    assert client.call("get", id=cap)["refcount"] == 2
    r = client.call("unref", id=w)
    assert w in r["freed"]
    assert client.call("get", id=cap)["refcount"] == 1


def test_fields_released_in_first_use_order_per_type(client):
    """SPEC §1.1: fields are released in the order each field name was first used on any object
    of the type, visible through which weakref callback comes first."""
    client.call("subscribe", events=["weakref.callback"])
    first = alloc(client, "Ordered")
    a0, b0 = alloc(client), alloc(client)
    client.call("set", id=first, fields={"alpha": a0})
    client.call("set", id=first, fields={"beta": b0})  # type order: alpha, beta
    obj = alloc(client, "Ordered")
    ta, tb = alloc(client), alloc(client)
    client.call("set", id=obj, fields={"beta": tb})  # this object uses beta first
    client.call("set", id=obj, fields={"alpha": ta})
    wa = client.call("weakref", id=ta, callback=True)["id"]
    wb = client.call("weakref", id=tb, callback=True)["id"]
    client.call("unref", id=ta)
    client.call("unref", id=tb)
    client.call("unref", id=obj)
    order = [n["params"]["weakref"] for n in client.take_notifications("weakref.callback")]
    assert order == [wa, wb]


def test_collect_clears_weakrefs_to_garbage(client):
    """collect clears every weakref to the garbage; callbacks run only for weakrefs that are not
    themselves garbage (gcmodule.c handle_weakrefs)."""
    client.call("subscribe", events=["weakref.callback"])
    p = alloc(client, "P")
    q = alloc(client, "P", fields={"p": p})
    client.call("set", id=p, fields={"q": q})
    w_outside = client.call("weakref", id=p, callback=True)["id"]
    w_inside = client.call("weakref", id=q, callback=True)["id"]
    client.call("set", id=p, fields={"w": w_inside})
    client.call("unref", id=w_inside)
    client.call("unref", id=p)
    client.call("unref", id=q)
    r = client.call("collect")
    assert r["collected"] == 3 and r["unreachable"] == 3
    notes = [n["params"] for n in client.take_notifications("weakref.callback")]
    causes = [n.pop("cause") for n in notes]
    assert notes == [{"weakref": w_outside, "referent": p}]
    assert [(c["kind"], c["method"]) for c in causes] == [("request", "collect")]
    assert client.call("get", id=w_outside)["referent"] is None


# -- finalize, freed, gc.start/gc.stop, ordering ----------------------------------------------

def test_finalize_then_freed_before_reply(client):
    """An object with a finalizer gets `finalize` {id, type} exactly once, then `freed`, all before
    the reply of the unref that freed it."""
    client.call("subscribe", events=ALL_EVENTS)
    x = alloc(client, "Fin", finalizer=True)
    msgs = call_raw(client, 500, "unref", {"id": x})
    assert [m.get("method") for m in msgs] == ["finalize", "freed", None]
    cause = {"kind": "request", "method": "unref", "connection": msgs[0]["params"]["cause"]["connection"],
             "session": None}
    assert msgs[0]["params"] == {"id": x, "type": "Fin", "cause": cause}
    assert msgs[1]["params"] == {"ids": [x], "cause": cause}


def test_collect_events_order(client):
    """collect: gc.start first, gc.stop last, finalizers before frees, all before the reply;
    gc.stop carries the same numbers as the reply."""
    client.call("subscribe", events=ALL_EVENTS)
    a, b = cycle(client, "Person", finalizer=True)
    client.call("ping")
    client.take_notifications()
    msgs = call_raw(client, 600, "collect", {"generation": 2})
    methods = [m.get("method") for m in msgs]
    assert methods[0] == "gc.start" and methods[-2] == "gc.stop" and methods[-1] is None, methods
    assert msgs[0]["params"]["generation"] == 2
    assert msgs[0]["params"]["cause"]["method"] == "collect"
    fin = [m["params"]["id"] for m in msgs if m.get("method") == "finalize"]
    assert sorted(fin) == sorted([a, b])
    assert methods.index("finalize") < methods.index("freed")
    assert sorted(freed_ids(msgs[:-1])) == sorted([a, b])
    reply = msgs[-1]["result"]
    stop = msgs[-2]["params"]
    assert (reply["generation"], reply["collected"], reply["uncollectable"]) == (2, 2, 0)
    assert reply["unreachable"] == 2
    assert {k: stop[k] for k in ("generation", "collected", "uncollectable")} == \
        {k: reply[k] for k in ("generation", "collected", "uncollectable")}


def test_finalizer_runs_once(client):
    """PEP 442: a finalizer runs once per object, even across collections."""
    client.call("subscribe", events=["finalize"])
    a, b = cycle(client, "Once", finalizer=True)
    client.call("collect")
    client.call("collect")
    fin = [n["params"]["id"] for n in client.take_notifications("finalize")]
    assert sorted(fin) == sorted([a, b])


def test_collect_returns_zero_without_garbage(client):
    """collect on a heap with only reachable objects finds nothing and frees nothing."""
    x = alloc(client)
    y = alloc(client, fields={"x": x})
    r = client.call("collect", generation=0)
    assert (r["generation"], r["collected"], r["unreachable"], r["uncollectable"]) == (0, 0, 0, 0)
    assert is_alive(client, y) and is_alive(client, x)


def test_events_reach_other_subscriber(daemon, client):
    """SPEC §2.3: events caused by connection A reach subscriber B too (A not subscribed)."""
    b = daemon.client()
    b.call("subscribe", events=ALL_EVENTS)
    x = alloc(client, "Fin", finalizer=True)
    w = client.call("weakref", id=x, callback=True)["id"]
    client.call("unref", id=x)
    pa, pb = cycle(client)
    client.call("collect")
    assert client.take_notifications() == []
    b.call("ping")
    notes = b.take_notifications()
    methods = [n["method"] for n in notes]
    assert methods[:3] == ["finalize", "weakref.callback", "freed"], methods
    assert notes[1]["params"]["weakref"] == w and notes[1]["params"]["referent"] == x
    assert "gc.start" in methods and "gc.stop" in methods
    assert sorted(freed_ids(notes)) == sorted([x, pa, pb])
    b.close()


def test_unsubscribe(client):
    """unsubscribe stops the named events; without params, all of them."""
    assert client.call("subscribe", events=["freed", "finalize"])["events"] == ["finalize", "freed"]
    assert client.call("unsubscribe", events=["freed"])["events"] == ["finalize"]
    client.call("unref", id=alloc(client, finalizer=True))
    client.call("ping")
    assert [n["method"] for n in client.take_notifications()] == ["finalize"]
    assert client.call("unsubscribe")["events"] == []
    client.call("unref", id=alloc(client, finalizer=True))
    client.call("ping")
    assert client.take_notifications() == []


def test_automatic_collection_threshold(client):
    """SPEC §1.1: generation 0 is collected automatically when allocations exceed threshold 0;
    gc.set enabled=false or threshold 0 turns that off."""
    client.call("subscribe", events=["gc.start"])
    client.call("gc.set", threshold=[5])
    for _ in range(12):
        alloc(client)
    starts = client.take_notifications("gc.start")
    assert starts and all(n["params"]["generation"] == 0 for n in starts)
    client.call("gc.set", enabled=False)
    for _ in range(20):
        alloc(client)
    assert client.take_notifications("gc.start") == []
    client.call("gc.set", enabled=True, threshold=[0])
    for _ in range(20):
        alloc(client)
    assert client.take_notifications("gc.start") == []


# -- inspect, referrers, referents, objects ---------------------------------------------------

def test_inspect_holders(daemon, client):
    """inspect breaks the refcount down by holder (fields, sessions, roots); getrefcount is
    refcount + 1, as sys.getrefcount counts its own argument."""
    other = daemon.client()
    x = alloc(client, "Target")
    holder = alloc(client, fields={"slot": x})
    client.call("ref", id=x)
    other.call("ref", id=x)
    client.call("root.set", name="global_x", id=x)
    i = client.call("inspect", id=x)
    assert i["refcount"] == 5 and i["getrefcount"] == 6
    assert i["holders"]["fields"] == [{"object": holder, "field": "slot"}]
    assert i["holders"]["roots"] == ["global_x"]
    counts = sorted(s["count"] for s in i["holders"]["sessions"])
    assert counts == [1, 2]
    total = len(i["holders"]["fields"]) + len(i["holders"]["roots"]) + sum(counts) + i["holders"]["garbage"]
    assert total == i["refcount"]
    assert i["referrers"] == [holder]
    assert i["type"] == "Target" and i["tracked"] is True and i["generation"] in (0, 1, 2)
    other.close()


def test_inspect_weakrefs_and_finalized(client):
    """inspect lists the weakrefs to an object and whether its finalizer ran."""
    x = alloc(client, finalizer=True)
    w1 = client.call("weakref", id=x)["id"]
    w2 = client.call("weakref", id=x, callback=True)["id"]
    i = client.call("inspect", id=x)
    assert sorted(i["weakrefs"]) == sorted([w1, w2])
    assert i["finalizer"] is True and i["finalized"] is False
    assert client.call("inspect", id=w1)["referent"] == x


def test_referrers_and_referents(client):
    """referrers: objects whose fields hold it; referents: what its fields hold (no weak edge)."""
    a, b, t = alloc(client), alloc(client), alloc(client)
    client.call("set", id=a, fields={"x": t, "y": b})
    client.call("set", id=b, fields={"x": t})
    client.call("set", id=a, fields={"again": t})  # a second field: a is still one referrer
    w = client.call("weakref", id=t)["id"]
    assert sorted(client.call("referrers", id=t)["referrers"]) == sorted([a, b])
    fields = client.call("inspect", id=t)["holders"]["fields"]
    assert sorted((h["object"], h["field"]) for h in fields) == sorted([(a, "x"), (a, "again"), (b, "x")])
    # Once per field, in field order, as gc.get_referents lists an instance's attribute values.
    assert client.call("referents", id=a)["referents"] == [t, b, t]
    assert client.call("referents", id=t)["referents"] == []
    assert w not in client.call("referrers", id=t)["referrers"]


def test_objects_paging(client):
    """objects pages with `limit`; `next` passed as `after` continues; null on the last page;
    together the pages list every object once, in id order."""
    ids = [alloc(client, "Paged") for _ in range(25)]
    alloc(client, "Other")
    seen, after, pages = [], None, 0
    while True:
        params = {"type": "Paged", "limit": 10}
        if after is not None:
            params["after"] = after
        page = client.call("objects", **params)
        pages += 1
        assert len(page["objects"]) <= 10
        seen += [o["id"] for o in page["objects"]]
        assert all(o["type"] == "Paged" for o in page["objects"])
        after = page["next"]
        if after is None:
            break
        assert pages < 10
    assert seen == ids and pages == 3


def test_objects_paging_exact_multiple(client):
    """When the objects fill the pages exactly, the last full page has next null (no empty page)."""
    ids = [alloc(client, "Exact") for _ in range(20)]
    p1 = client.call("objects", type="Exact", limit=10)
    assert [o["id"] for o in p1["objects"]] == ids[:10] and p1["next"] == ids[9]
    p2 = client.call("objects", type="Exact", limit=10, after=p1["next"])
    assert [o["id"] for o in p2["objects"]] == ids[10:] and p2["next"] is None


def test_objects_paging_across_reused_slots(client):
    """Once freed slots are reused (ids past 2^32), table order is not id order: the walk still
    returns every object live throughout exactly once, even when the cursor object was freed
    between pages (the pages used to filter `id > after` over slot order and lose objects)."""
    churn = [alloc(client, "Churn") for _ in range(1100)]
    for i in churn:
        client.call("unref", id=i)
    # 1100 free slots: the first 76 allocations reuse slots (until 1024 wait), then fresh ones.
    reused = [alloc(client, "Reuse") for _ in range(80)]
    assert any(i >= 1 << 32 for i in reused) and any(i < 1 << 32 for i in reused)
    seen, after = [], None
    while True:
        params = {"type": "Reuse", "limit": 7}
        if after is not None:
            params["after"] = after
        page = client.call("objects", **params)
        seen += [o["id"] for o in page["objects"]]
        after = page["next"]
        if after is None:
            break
        if len(seen) == 14:
            client.call("unref", id=after)  # the cursor dies: the walk goes on after its slot
    assert sorted(seen) == sorted(reused) and len(seen) == len(set(seen))
    assert seen == sorted(seen, key=lambda i: i & 0xFFFFFFFF), "table (slot) order"


def test_referrers_list_gc_get_referrers_holders_by_generation_then_id(client):
    """referrers lists the holders gc.get_referrers finds (generations 0, 1, 2, each once, frozen
    holders not searched) by generation, then id (SPEC §1: not CPython's list order); inspect
    shows every holder, frozen ones last."""
    client.call("gc.set", enabled=False)
    try:
        t = alloc(client, "Target")
        frozen_holder = alloc(client, "Frozen", fields={"x": t})
        client.call("gc.freeze")
        old = alloc(client, "Old", fields={"x": t})
        client.call("collect", generation=0)  # old moves to generation 1
        # first is held only by second: the collection sets it aside, then moves it back after
        # second, so generation 1's list runs old, second, first (CPython's get_referrers order)
        first = alloc(client, "First", fields={"x": t})
        second = alloc(client, "Second", fields={"x": t, "first": first})
        client.call("unref", id=first)
        client.call("collect", generation=0)
        newest = alloc(client, "Newest", fields={"x": t})
        gens = {i: client.call("inspect", id=i)["generation"] for i in (newest, old, first, second)}
        assert gens == {newest: 0, old: 1, first: 1, second: 1}
        assert old < first < second
        assert client.call("referrers", id=t)["referrers"] == [newest, old, first, second]
        assert client.call("inspect", id=t)["referrers"] == [newest, old, first, second, frozen_holder]
    finally:
        client.call("gc.unfreeze")
        client.call("gc.set", enabled=True)


def test_long_holder_lists_are_put_in_order_after_the_lock(client):
    """Past 4,096 holders, referrers and inspect put the holders in order after the heap's lock
    (ServerState.holdersSortedInside; a million took 49 ms to sort inside it): the same order,
    by generation then id, frozen holders last in inspect, each holding field once per field."""
    client.call("gc.set", enabled=False)
    try:
        t = alloc(client, "Hub")
        frozen = alloc(client, "Frozen", fields={"x": t})
        client.call("gc.freeze")

        def holders(n):
            ids = client.call("apply", ops=[["alloc", "Holder"] for _ in range(n)])["results"]
            ops = [["set", i, "x", t] for i in ids] + [["set", i, "y", t] for i in ids[::7]]
            client.call("apply", ops=ops)
            return ids

        old = holders(3000)
        client.call("collect", generation=0)  # to generation 1
        new = holders(3000)
        expected = sorted(new) + sorted(old)
        assert client.call("referrers", id=t)["referrers"] == expected
        got = client.call("inspect", id=t)
        assert got["referrers"] == expected + [frozen]
        by_fields = [(h["object"], h["field"]) for h in got["holders"]["fields"]]
        twice = set(new[::7] + old[::7])
        assert by_fields == [(h, f) for h in expected + [frozen] for f in (["x", "y"] if h in twice else ["x"])]
        client.call("apply", ops=[["unref", i] for i in old + new])
    finally:
        client.call("gc.unfreeze")
        client.call("gc.set", enabled=True)


def test_objects_entry_shape_and_refcount(client):
    x = alloc(client, "Shape", size=7)
    client.call("ref", id=x)
    [o] = client.call("objects", type="Shape")["objects"]
    assert (o["id"], o["type"], o["size"], o["refcount"]) == (x, "Shape", 7, 2)


# -- roots ------------------------------------------------------------------------------------

def test_roots_set_get_list_delete(client):
    """root.set binds a name (a strong reference), root.get reads it, root.list lists them
    sorted, null deletes; rebinding drops the previous reference."""
    a, b = alloc(client), alloc(client)
    r = client.call("root.set", name="zeta", id=a)
    assert r["previous"] is None
    client.call("root.set", name="alpha", id=b)
    assert client.call("root.get", name="zeta") == {"name": "zeta", "id": a}
    assert client.call("root.list")["roots"] == [{"name": "alpha", "id": b}, {"name": "zeta", "id": a}]
    assert client.call("get", id=a)["refcount"] == 2
    r = client.call("root.set", name="zeta", id=b)
    assert r["previous"] == a
    assert client.call("get", id=a)["refcount"] == 1
    assert client.call("get", id=b)["refcount"] == 3
    client.call("root.set", name="zeta", id=None)
    client.call("root.set", name="alpha", id=None)
    assert client.call("root.list")["roots"] == []
    assert client.call("get", id=b)["refcount"] == 1


def test_root_delete_frees_last_reference(client):
    """Deleting a root that held the last reference frees the object (and what it held)."""
    x = alloc(client)
    kid = alloc(client)
    client.call("set", id=x, fields={"kid": kid})
    client.call("unref", id=kid)
    client.call("root.set", name="only", id=x)
    client.call("unref", id=x)
    assert client.call("get", id=x)["refcount"] == 1
    r = client.call("root.set", name="only", id=None)
    assert sorted(r["freed"]) == sorted([x, kid])
    assert not is_alive(client, x) and not is_alive(client, kid)


def test_root_keeps_object_across_connections(daemon, client):
    """A root is global: it keeps the object alive after its creator's session drops it."""
    x = alloc(client, data="shared")
    client.call("root.set", name="shared", id=x)
    client.call("unref", id=x)
    other = daemon.client()
    assert other.call("root.get", name="shared")["id"] == x
    assert other.call("get", id=x)["data"] == "shared"
    other.close()


# -- gc controls ------------------------------------------------------------------------------

def test_gc_get_defaults(client):
    """Defaults as CPython 3.11: enabled, thresholds (700, 10, 10), no debug flags."""
    g = client.call("gc.get")
    assert g["enabled"] is True and g["threshold"] == [700, 10, 10]
    assert g["debug"] == [] and g["freeze_count"] == 0 and g["garbage"] == []
    assert len(g["count"]) == 3 and len(g["stats"]) == 3


def test_gc_set_threshold_partial_and_full(client):
    """gc.set_threshold(t0) keeps t1, t2; three values set all; stats shows them too."""
    assert client.call("gc.set", threshold=[100])["threshold"] == [100, 10, 10]
    assert client.call("gc.set", threshold=[1, 2, 3])["threshold"] == [1, 2, 3]
    assert client.call("gc.get")["threshold"] == [1, 2, 3]
    assert [g["threshold"] for g in client.call("stats")["generations"]] == [1, 2, 3]


def test_gc_set_enabled_and_debug(client):
    """gc.set enabled/debug; LEAK is COLLECTABLE|UNCOLLECTABLE|SAVEALL; [] clears."""
    assert client.call("gc.set", enabled=False)["enabled"] is False
    assert client.call("gc.get")["enabled"] is False
    assert client.call("gc.set", debug=["STATS", "SAVEALL"])["debug"] == ["STATS", "SAVEALL"]
    assert sorted(client.call("gc.set", debug=["LEAK"])["debug"]) == ["COLLECTABLE", "SAVEALL", "UNCOLLECTABLE"]
    assert client.call("gc.set", debug=[])["debug"] == []
    assert client.call("gc.set", enabled=True)["enabled"] is True


def test_gc_count_tracks_allocations(client):
    """count[0] is allocations minus deallocations since the last gen-0 collection."""
    client.call("collect", generation=0)
    c0 = client.call("gc.get")["count"][0]
    ids = [alloc(client) for _ in range(4)]
    assert client.call("gc.get")["count"][0] == c0 + 4
    client.call("unref", id=ids[0])
    assert client.call("gc.get")["count"][0] == c0 + 3


def test_freeze_and_unfreeze(client):
    """gc.freeze moves every tracked object to the permanent generation (freeze_count);
    unfreeze moves them to generation 2."""
    ids = [alloc(client) for _ in range(5)]
    n = client.call("stats")["objects"]
    assert client.call("gc.freeze")["freeze_count"] == n
    assert client.call("gc.get")["freeze_count"] == n
    assert client.call("inspect", id=ids[0])["generation"] == "permanent"
    assert client.call("stats")["permanent"] == n
    assert client.call("gc.unfreeze")["freeze_count"] == 0
    assert client.call("inspect", id=ids[0])["generation"] == 2


def test_frozen_cycle_not_collected(client):
    """A cycle frozen before it became garbage survives collections until unfreeze."""
    a, b = alloc(client), alloc(client)
    client.call("set", id=a, fields={"b": b})
    client.call("set", id=b, fields={"a": a})
    client.call("gc.freeze")
    client.call("unref", id=a)
    client.call("unref", id=b)
    assert client.call("collect")["collected"] == 0
    assert is_alive(client, a) and is_alive(client, b)
    client.call("gc.unfreeze")
    assert client.call("collect")["collected"] == 2
    assert not is_alive(client, a) and not is_alive(client, b)


def test_debug_saveall_and_garbage_clear(client):
    """DEBUG_SAVEALL: collected garbage goes to gc.garbage (which holds a reference) instead of
    being freed; gc.garbage.clear drops those references and frees it."""
    client.call("subscribe", events=["freed"])
    client.call("gc.set", debug=["SAVEALL"])
    a, b = cycle(client)
    r = client.call("collect")
    assert r["unreachable"] == 2
    g = client.call("gc.get")
    assert sorted(g["garbage"]) == sorted([a, b])
    assert client.call("stats")["garbage"] == 2
    assert is_alive(client, a) and is_alive(client, b)
    assert freed_ids(client.take_notifications("freed")) == []
    assert client.call("inspect", id=a)["holders"]["garbage"] == 1
    assert client.call("get", id=a)["refcount"] == 2
    client.call("gc.set", debug=[])
    r = client.call("gc.garbage.clear")
    assert r["cleared"] == 2
    assert client.call("gc.get")["garbage"] == []
    # As `del gc.garbage[:]`: the cycle is garbage again, for the next collection to free.
    assert client.call("get", id=a)["refcount"] == 1
    assert client.call("collect")["collected"] == 2
    assert not is_alive(client, a) and not is_alive(client, b)


def test_garbage_clear_frees_acyclic_garbage(client):
    """Saved garbage whose cycle was broken meanwhile (gc.garbage is then its only holder) is
    freed by gc.garbage.clear at once, with what it held."""
    client.call("gc.set", debug=["SAVEALL"])
    a = alloc(client)
    leaf = alloc(client)
    client.call("set", id=a, fields={"me": a, "leaf": leaf})
    client.call("unref", id=leaf)
    client.call("unref", id=a)
    client.call("collect")
    assert sorted(client.call("gc.get")["garbage"]) == sorted([a, leaf])
    client.call("set", id=a, fields={"me": None})
    r = client.call("gc.garbage.clear")
    assert sorted(r["freed"]) == sorted([a, leaf])
    assert not is_alive(client, leaf)


# -- stats, check, ping -----------------------------------------------------------------------

def test_stats_fields(daemon, client):
    """stats: objects, bytes, generations (objects, threshold, count each), roots, sessions,
    connections, uptime."""
    deadline = time.time() + 10  # the harness's start-up probe connection may still be counted
    while client.call("stats")["connections"] != 1 and time.time() < deadline:
        time.sleep(0.02)
    s0 = client.call("stats")
    assert s0["connections"] == 1
    for key in ("objects", "bytes", "generations", "permanent", "garbage", "gc", "roots",
                "sessions", "connections", "uptime_s"):
        assert key in s0, key
    assert len(s0["generations"]) == 3
    x = alloc(client, size=10)
    y = alloc(client, size=5)
    client.call("root.set", name="s", id=x)
    other = daemon.client()
    other.call("ping")
    s1 = client.call("stats")
    assert s1["objects"] == s0["objects"] + 2
    assert s1["bytes"] == s0["bytes"] + 15
    assert s1["roots"] == s0["roots"] + 1
    assert s1["connections"] == s0["connections"] + 1
    assert sum(g["objects"] for g in s1["generations"]) + s1["permanent"] == s1["objects"]
    assert s1["uptime_s"] >= s0["uptime_s"]
    other.close()
    client.call("unref", id=y)


def test_check_ping_discover(client):
    """check reports ok with the object count; ping pongs; rpc.discover returns OpenRPC."""
    alloc(client)
    ch = client.call("check")
    assert ch["ok"] is True and ch["problems"] == [] and ch["objects"] == client.call("stats")["objects"]
    assert client.call("ping") == {"pong": True}
    doc = client.call("rpc.discover")
    assert "openrpc" in doc
    names = {m["name"] for m in doc["methods"]}
    assert {"allocate", "ref", "unref", "set", "get", "weakref", "collect", "inspect", "stats"} <= names

"""`apply` on the real daemon: the result shape, per-op errors, malformed ops, `$k`, atomic
batches (all or nothing, no events when aborted), events before the reply, persistence across
kill -9, and automatic collection (where single requests collect; an atomic batch's at its end)."""
import signal

from heapd_harness import Daemon
from test_persistence import everything


def heap_state(c):
    """What must not change when a request is refused: every object, the gc state, stats."""
    stats = c.call("stats")
    return everything(c), {k: stats[k] for k in ("objects", "bytes", "generations", "types")}


def test_results_shape_and_per_op_errors(client):
    held = client.call("allocate", type="Held")["id"]
    out = client.call("apply", ops=[
        ["alloc", "Node"], ["alloc", "Node", 64], ["ref", held], ["set", "$0", "next", "$1"],
        ["unref", 987654], ["weakref", "$1", True], ["set", "$1", "x", "$4"], ["ref", "$9"],
        ["set", held, "gone", None], ["unref", "$1"], ["unref", "$0"]])
    a, b = out["results"][0], out["results"][1]
    assert out["results"][2:4] == [2, 1]
    assert out["results"][4] == {"code": -32001, "message": "object 987654 does not exist",
                                 "data": {"id": 987654, "state": "never-existed"}}
    assert isinstance(out["results"][5], int)
    assert out["results"][6] == {"code": -32602, "message": '"$4" names op 4 (unref), which produces no object id'}
    assert out["results"][7]["code"] == -32602 and "does not come before" in out["results"][7]["message"]
    # Deleting a field the object lacks fails alone (-32015), as the single `set` would.
    assert out["results"][8]["code"] == -32015 and out["results"][8]["data"] == {"id": held, "field": "gone"}
    assert out["results"][9:] == [1, 0]
    assert out["errors"] == 4
    assert out["freed"] == 2
    assert client.request("get", {"id": a})["error"]["data"]["state"] == "freed"
    assert client.request("get", {"id": b})["error"]["data"]["state"] == "freed"
    assert client.call("get", id=out["results"][5])["referent"] is None
    # An op refused with the same error the single method gives.
    client.call("root.set", name="held", id=held)
    assert client.call("apply", ops=[["unref", held], ["unref", held], ["unref", held]])["results"] == [2, 1, {
        "code": -32002, "message": f"this session holds no reference to object {held}", "data": {"id": held}}]


def test_malformed_ops_fail_the_request_and_change_nothing(client):
    client.call("allocate", type="Keep")
    before = heap_state(client)
    cases = [
        ([["ref", 1], ["unref", 1, 2]], 'params.ops[1]: "unref" takes 1 argument, got 2'),
        ([["alloc"]], 'params.ops[0]: "alloc" takes 1 to 3 arguments, got 0'),
        ([["alloc", "T"], ["frob", 1]], 'params.ops[1][0]: unknown op "frob"'),
        ([["alloc", "T"], 7], "params.ops[1]: expected an op such as"),
        ([[]], "params.ops[0]: expected an op such as"),
        ([["ref", "1"]], "params.ops[0][1]: expected an object id"),
        ([["ref", "$x"]], "params.ops[0][1]: expected an object id"),
        ([["ref", 0]], "params.ops[0][1]: expected an object id"),
        ([["set", 1, "", 2]], "params.ops[0][2]: must not be empty"),
        ([["weakref", 1, "yes"]], "params.ops[0][2]: expected true or false"),
        ([["alloc", "T", -1]], "params.ops[0][2]: expected a byte count"),
        ([["alloc", "T", None, ""]], "params.ops[0][3]: must not be empty"),
        ([["alloc", "T", None, 5]], "params.ops[0][3]: expected a string"),
        ([], "params.ops: expected 1 to 10000 ops, got 0"),
        ([["ref", 1]] * 10001, "params.ops: expected 1 to 10000 ops, got 10001"),
        ({"ref": 1}, "params.ops: expected an array of ops"),
    ]
    for ops, message in cases:
        reply = client.request("apply", {"ops": ops})
        assert reply["error"]["code"] == -32602, (ops, reply)
        assert reply["error"]["message"].startswith(message), (message, reply["error"]["message"])
    assert client.request("apply", {})["error"]["message"] == "params.ops: missing"
    assert client.request("apply", {"ops": [["ref", 1]], "atomic": 1})["error"]["code"] == -32602
    assert heap_state(client) == before


def test_atomic_success_and_abort(daemon, client):
    watcher = daemon.client()
    watcher.call("subscribe", events=["*"])
    kept = client.call("allocate", type="Kept", finalizer=True)["id"]
    before = heap_state(client)
    reply = client.request("apply", {"atomic": True, "ops": [
        ["alloc", "Temp"], ["set", kept, "t", "$0"], ["unref", "$0"], ["unref", "$0"]]})
    assert reply["error"]["code"] == -32002 and reply["error"]["data"]["op"] == 3, reply
    assert reply["error"]["message"].startswith("ops[3] (unref): this session holds no reference to object ")
    reply = client.request("apply", {"atomic": True, "ops": [["unref", kept], ["ref", kept]]})
    assert reply["error"] == {"code": -32001, "message": f"ops[1] (ref): object {kept} was freed",
                              "data": {"op": 1, "id": kept, "state": "freed"}}
    reply = client.request("apply", {"atomic": True, "ops": [["alloc", "Temp"], ["set", "$0", "x", 424242]]})
    assert reply["error"]["code"] == -32001 and reply["error"]["data"] == {"op": 1, "id": 424242, "state": "never-existed"}
    assert reply["error"]["message"] == "ops[1] (set): object 424242 does not exist"
    assert heap_state(client) == before
    assert watcher.call("ping") == {"pong": True}
    assert watcher.take_notifications() == [], "an aborted batch sends no events"

    out = client.call("apply", atomic=True, ops=[
        ["alloc", "Temp"], ["set", kept, "t", "$0"], ["unref", "$0"], ["unref", kept]])
    assert out == {"results": [out["results"][0], 1, 1, 0], "errors": 0, "freed": 2}
    assert watcher.call("ping") == {"pong": True}
    kinds = [n["method"] for n in watcher.take_notifications()]
    assert kinds == ["finalize", "freed"], kinds
    watcher.close()


def test_atomic_quota_counts_what_the_batch_itself_allocates_and_frees():
    d = Daemon("--memory", "--max-objects", "3")
    try:
        c = d.client()
        c.call("allocate", type="First")
        quota = c.request("apply", {"atomic": True, "ops": [["alloc", "A"], ["alloc", "B"], ["alloc", "C"]]})
        assert quota["error"]["code"] == -32003 and quota["error"]["data"] == {"op": 2}, quota
        assert c.call("stats")["objects"] == 1
        # Freeing within the batch makes room, as it would one op at a time.
        out = c.call("apply", atomic=True, ops=[["alloc", "A"], ["alloc", "B"], ["unref", "$1"], ["alloc", "C"]])
        assert out["errors"] == 0 and out["freed"] == 1
        assert c.call("check")["ok"]
        c.close()
    finally:
        assert d.stop() == 0, d.read_log()


def test_dollar_k_builds_a_three_cycle_that_collect_frees(client):
    client.call("subscribe", events=["freed", "gc.stop"])
    out = client.call("apply", ops=[
        ["alloc", "Node"], ["alloc", "Node"], ["alloc", "Node"],
        ["set", "$0", "next", "$1"], ["set", "$1", "next", "$2"], ["set", "$2", "next", "$0"],
        ["unref", "$0"], ["unref", "$1"], ["unref", "$2"]], atomic=True)
    ids = out["results"][:3]
    assert out["results"][3:] == [1, 2, 2, 1, 1, 1] and out["errors"] == 0 and "freed" not in out
    assert [client.call("get", id=i)["fields"]["next"] for i in ids] == [ids[1], ids[2], ids[0]]
    assert client.take_notifications() == []
    assert client.call("collect")["collected"] == 3
    freed = [i for n in client.take_notifications("freed") for i in n["params"]["ids"]]
    assert sorted(freed) == sorted(ids)


def test_events_reach_subscribers_before_the_reply_in_order(daemon, client):
    client.call("subscribe", events=["finalize", "weakref.callback", "freed"])
    a = client.call("allocate", type="Fin", finalizer=True)["id"]
    w = client.call("weakref", id=a, callback=True)["id"]
    client.send({"jsonrpc": "2.0", "id": 77, "method": "apply", "params": {"ops": [["alloc", "B", 3], ["unref", a], ["unref", "$0"]]}})
    messages = []
    while True:
        m = client.read_message()
        messages.append(m)
        if m.get("id") == 77:
            break
    methods = [m.get("method", "reply") for m in messages]
    assert methods == ["finalize", "weakref.callback", "freed", "reply"], messages
    assert messages[1]["params"]["weakref"] == w and messages[1]["params"]["referent"] == a
    assert messages[1]["params"]["cause"]["method"] == "apply"
    b = messages[-1]["result"]["results"][0]
    assert messages[2]["params"]["ids"] == [a, b]   # consecutive frees: one notification


def _apply_collections(client, atomic):
    """20 allocations in one apply with threshold 0 = 5: the gc events before the reply."""
    client.send({"jsonrpc": "2.0", "id": 5, "method": "apply",
                 "params": {"ops": [["alloc", "N"]] * 20, "atomic": atomic}})
    messages = []
    while not messages or messages[-1].get("id") != 5:
        messages.append(client.read_message())
    return [m.get("method", "reply") for m in messages]


def test_plain_apply_collects_where_single_requests_do(client):
    # CPython 3.11 and single requests: gen-0 collections at the 6th, 12th and 18th
    # allocation, count (2, 3, 0) after; a plain batch is the same ops, so the same.
    client.call("gc.set", threshold=[5])
    client.call("subscribe", events=["gc.start", "gc.stop"])
    assert _apply_collections(client, False) == ["gc.start", "gc.stop"] * 3 + ["reply"]
    gc = client.call("gc.get")
    assert gc["stats"][0]["collections"] == 3
    assert gc["count"] == [2, 3, 0]
    client.call("gc.freeze")
    for _ in range(20):
        client.call("allocate", type="N")
    gc = client.call("gc.get")
    assert gc["stats"][0]["collections"] == 6
    assert gc["count"] == [2, 3, 0]


def test_atomic_apply_holds_collection_until_its_end(client):
    # A collection inside an atomic batch could free what its dry run did not predict: the one
    # that fell due runs once, after the last op (SPEC §1.1's documented deviation).
    client.call("gc.set", threshold=[5])
    client.call("subscribe", events=["gc.start", "gc.stop"])
    assert _apply_collections(client, True) == ["gc.start", "gc.stop", "reply"]
    gc = client.call("gc.get")
    assert gc["stats"][0]["collections"] == 1
    assert gc["count"] == [0, 1, 0]


def test_apply_survives_kill_9_exactly():
    d = Daemon("--fsync", "always")
    try:
        c = d.client()
        c.call("session.open", name="bulk")
        c.call("gc.set", threshold=[7])
        root = c.call("allocate", type="Root")["id"]
        c.call("root.set", name="root", id=root)
        c.call("apply", ops=[["alloc", "A"], ["alloc", "B", 10], ["set", root, "a", "$0"], ["set", "$0", "b", "$1"],
                             ["set", "$1", "a", "$0"], ["weakref", "$1", True], ["unref", "$1"], ["unref", 555],
                             ["alloc", "C"], ["unref", "$8"]] + [["alloc", "Filler"]] * 12)
        c.call("apply", atomic=True, ops=[["alloc", "D"], ["set", root, "d", "$0"], ["set", root, "a", None]])
        assert "error" in c.request("apply", {"atomic": True, "ops": [["alloc", "E"], ["unref", 555]]})
        c.call("apply", ops=[["unref", 555]])   # every op failed: nothing to journal
        before = everything(c)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        c.close()
        d = Daemon(directory=d.dir)
        c = d.client()
        c.call("session.open", name="bulk")
        assert everything(c) == before
        assert c.call("check")["ok"]
        c.close()
    finally:
        assert d.stop() == 0, d.read_log()

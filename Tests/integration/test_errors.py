"""SPEC §2.2: every error code, over the wire, and "a malformed message never ends the daemon and
never changes the heap".

Each malformed-input test first builds a small heap (`world`), sends the bad input, and then
checks that the daemon still answers on the same connection and that the heap (object count,
bytes, a pre-existing object, gc settings, roots) is exactly as before.
"""
import json
import time

import pytest

from heapd_harness import Daemon, daemon_with


# -- helpers ----------------------------------------------------------------------------------

def req(rid, method, params=None):
    msg = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def heap_state(c, ids):
    """What a malformed message must not change."""
    stats = c.call("stats")
    return {
        "objects": stats["objects"],
        "bytes": stats["bytes"],
        "roots": c.call("root.list"),
        "gc": {k: v for k, v in c.call("gc.get").items()},
        "objects_got": [c.call("get", id=i) for i in ids],
        # Sessions that hold something (empty anonymous ones come and go with connections).
        "sessions": [{k: s[k] for k in ("name", "references", "objects", "scope_depth")}
                     for s in c.call("session.list")["sessions"]
                     if s["name"] is not None or s["references"] or s["scope_depth"]],
    }


class World:
    """A small heap: `parent` (held by the client's session) holds `child` in field `kid`; root `r`
    holds `child` too; no session holds `child`."""

    def __init__(self, client):
        self.c = client
        self.child = client.call("allocate", type="Child", data={"n": 1})["id"]
        self.parent = client.call("allocate", type="Parent", data=[1, 2], fields={"kid": self.child})["id"]
        client.call("root.set", name="r", id=self.child)
        client.call("unref", id=self.child)
        self.before = heap_state(client, [self.parent, self.child])

    def assert_unchanged(self):
        assert self.c.call("ping") == {"pong": True}
        assert heap_state(self.c, [self.parent, self.child]) == self.before


@pytest.fixture
def world(client):
    return World(client)


def expect_error(c, method, params, code):
    reply = c.request(method, params)
    assert "error" in reply, reply
    assert reply["error"]["code"] == code, reply
    return reply["error"]


def raw_reply(c, line: bytes):
    c.send_raw(line + b"\n")
    return c.read_message()


def wait_until(fn, timeout=10):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.02)


# -- -32700 parse error -----------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"T",}}',
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"\xff\xfe"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"\xc3"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"T"}',
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"T"}} xyz',
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"T"}}{"jsonrpc":"2.0","id":2,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":1,"method":"ref","params":{"id":123456789012345678901234567890}}',
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"T","data":{"a":1,"a":2}}}',
    b'{"jsonrpc":"2.0","id":1,"method":"allocate","params":{"type":"T","data":NaN}}',
    b"{'jsonrpc':'2.0','id':1,'method':'ping'}",
    b'\x00\x01\x02',
    b'[' * 100000,
], ids=["syntax", "invalid-utf8", "truncated-utf8", "truncated-json", "trailing-garbage",
        "two-values-one-line", "huge-integer", "duplicate-key", "nan", "single-quotes", "binary", "deep-nesting"])
def test_parse_error(world, line):
    """-32700 with id null; the line costs only itself and the heap is unchanged."""
    reply = raw_reply(world.c, line)
    assert reply["id"] is None and reply["error"]["code"] == -32700, reply
    world.assert_unchanged()


def test_parse_error_mid_stream_costs_only_its_line(world):
    """A broken line between two good ones: exactly three replies, the good ones answered."""
    c = world.c
    c.send_raw(json.dumps(req(1, "ping")).encode() + b"\n{broken\n" + json.dumps(req(2, "ping")).encode() + b"\n")
    assert c.read_message()["id"] == 1
    assert c.read_message()["error"]["code"] == -32700
    assert c.read_message() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
    world.assert_unchanged()


# -- -32600 invalid request -------------------------------------------------------------------

@pytest.mark.parametrize("message, reply_id", [
    ({"id": 1, "method": "ping"}, 1),
    ({"jsonrpc": "1.0", "id": 2, "method": "ping"}, 2),
    ({"jsonrpc": 2.0, "id": 3, "method": "ping"}, 3),
    ({"jsonrpc": "2.0", "id": 4, "method": 42}, 4),
    ({"jsonrpc": "2.0", "id": 5}, 5),
    ({"jsonrpc": "2.0", "id": 6, "method": "allocate", "params": "type=T"}, 6),
    ({"jsonrpc": "2.0", "id": 7, "method": "allocate", "params": 5}, 7),
    ({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": [1], "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": True, "method": "ping"}, None),
    ({"jsonrpc": "2.0", "method": 42}, None),
], ids=["missing-jsonrpc", "jsonrpc-1.0", "jsonrpc-number", "method-number", "method-missing",
        "params-string", "params-number", "id-object", "id-array", "id-bool", "method-number-no-id"])
def test_invalid_request(world, message, reply_id):
    """-32600 for a well-formed JSON text that is not a JSON-RPC 2.0 request. The reply carries
    the request's id when it could be read, else null; it is answered even without an id."""
    reply = raw_reply(world.c, json.dumps(message).encode())
    assert reply["error"]["code"] == -32600, reply
    assert "id" in reply and reply["id"] == reply_id, reply
    world.assert_unchanged()


@pytest.mark.parametrize("line", [b"42", b'"allocate"', b"null", b"true", b"3.5"])
def test_scalar_at_top_level(world, line):
    """A scalar is neither a request nor a batch: one -32600 reply with id null."""
    reply = raw_reply(world.c, line)
    assert isinstance(reply, dict) and reply["id"] is None and reply["error"]["code"] == -32600, reply
    world.assert_unchanged()


def test_empty_batch(world):
    """An empty batch is one Invalid Request (not an empty array)."""
    reply = raw_reply(world.c, b"[ ]")
    assert isinstance(reply, dict) and reply["id"] is None and reply["error"]["code"] == -32600, reply
    world.assert_unchanged()


def test_batch_of_non_objects(world):
    """`[1,2]`: each element gets its own -32600 reply with id null, in one array."""
    reply = raw_reply(world.c, b"[1, 2]")
    assert isinstance(reply, list) and len(reply) == 2, reply
    assert all(r["error"]["code"] == -32600 and r["id"] is None for r in reply)
    world.assert_unchanged()


# -- -32601 method not found ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["frobnicate", "Allocate", "gc.collect", "rpc.nothing", ""])
def test_method_not_found(world, method):
    """-32601 and the message names the method."""
    err = expect_error(world.c, method, None, -32601)
    if method:
        assert method in err["message"], err
    world.assert_unchanged()


def test_unknown_method_notification_gets_no_reply(world):
    world.c.send({"jsonrpc": "2.0", "method": "frobnicate"})
    world.c.send(req(42, "ping"))
    assert world.c.read_message()["id"] == 42
    world.assert_unchanged()


# -- -32602 invalid params --------------------------------------------------------------------

INVALID_PARAMS = [
    ("ref", {"id": "1"}, "params.id"),
    ("ref", {"id": -1}, "params.id"),
    ("ref", {"id": 0}, "params.id"),
    ("ref", {"id": 2 ** 53}, "params.id"),
    ("ref", {"id": 1.5}, "params.id"),
    ("ref", {"id": None}, "params.id"),
    ("ref", {"id": True}, "params.id"),
    ("ref", {}, "params.id"),
    ("ref", None, "params.id"),
    ("unref", {"id": [1]}, "params.id"),
    ("get", {"id": {"id": 1}}, "params.id"),
    ("inspect", {"id": "x"}, "params.id"),
    ("weakref", {"id": 0}, "params.id"),
    ("referrers", {"id": -3}, "params.id"),
    ("allocate", {}, "params.type"),
    ("allocate", {"type": 5}, "params.type"),
    ("allocate", {"type": ""}, "params.type"),
    ("allocate", {"type": "T", "fields": [1]}, "params.fields"),
    ("allocate", {"type": "T", "fields": "kid"}, "params.fields"),
    ("allocate", {"type": "T", "fields": {"kid": "x"}}, "params.fields.kid"),
    ("allocate", {"type": "T", "fields": {"kid": 0}}, "params.fields.kid"),
    ("allocate", {"type": "T", "size": -1}, "params.size"),
    ("allocate", {"type": "T", "size": "big"}, "params.size"),
    ("allocate", {"type": "T", "finalizer": "yes"}, "params.finalizer"),
    ("set", {"id": "1"}, "params.id"),
    ("set", {"id": 1, "fields": {"kid": 1.5}}, "params.fields.kid"),
    ("weakref", {"id": 1, "callback": 1}, "params.callback"),
    ("collect", {"generation": 3}, "params.generation"),
    ("collect", {"generation": -1}, "params.generation"),
    ("collect", {"generation": "2"}, "params.generation"),
    ("gc.set", {"threshold": "700"}, "params.threshold"),
    ("gc.set", {"threshold": []}, "params.threshold"),
    ("gc.set", {"threshold": [1, 2, 3, 4]}, "params.threshold"),
    ("gc.set", {"threshold": [5, -2 ** 40]}, "params.threshold"),
    ("gc.set", {"threshold": [5, 2 ** 40]}, "params.threshold"),
    ("gc.set", {"threshold": [5], "debug": ["BOGUS"]}, "params.debug"),
    ("gc.set", {"debug": "STATS"}, "params.debug"),
    ("gc.set", {"enabled": 0}, "params.enabled"),
    ("gc.set", {"enabled": False, "threshold": ["x"]}, "params.threshold"),
    ("subscribe", {"events": ["freed", "explode"]}, "params.events"),
    ("subscribe", {"events": "freed"}, "params.events"),
    ("subscribe", {"events": [1]}, "params.events"),
    ("root.set", {"id": 1}, "params.name"),
    ("root.set", {"name": "r", "id": "x"}, "params.id"),
    ("root.get", {"name": 3}, "params.name"),
    ("session.open", {}, "params.name"),
    ("session.open", {"name": ""}, "params.name"),
    ("objects", {"limit": 0}, "params.limit"),
    ("objects", {"after": "x"}, "params.after"),
    ("objects", {"generation": 7}, "params.generation"),
    ("allocate", ["T"], "params"),
]


@pytest.mark.parametrize("method, params, names", INVALID_PARAMS,
                         ids=[f"{m}-{json.dumps(p)}" for m, p, _ in INVALID_PARAMS])
def test_invalid_params(world, method, params, names):
    """-32602; SPEC §2.2: the message names the parameter. Nothing is applied, even when other
    params of the same request were valid (e.g. `gc.set` with a good threshold and a bad flag)."""
    err = expect_error(world.c, method, params, -32602)
    assert names in err["message"], err
    world.assert_unchanged()


def test_invalid_params_notification_gets_no_reply(world):
    """A notification with bad params is dropped silently (no error reply) and changes nothing."""
    c = world.c
    c.send({"jsonrpc": "2.0", "method": "ref", "params": {"id": "x"}})
    c.send({"jsonrpc": "2.0", "method": "gc.set", "params": {"threshold": [1], "debug": ["NOPE"]}})
    c.send({"jsonrpc": "2.0", "method": "unref", "params": {"id": 10 ** 9}})
    c.send(req(77, "ping"))
    assert c.read_message() == {"jsonrpc": "2.0", "id": 77, "result": {"pong": True}}
    world.assert_unchanged()


# -- -32001 no such object --------------------------------------------------------------------

def test_no_such_object_freed(world):
    """-32001 for a freed id: data says state "freed" and gives the id."""
    c = world.c
    x = c.call("allocate", type="Doomed")["id"]
    c.call("unref", id=x)
    before = heap_state(c, [world.parent, world.child])
    for method in ("get", "ref", "unref", "inspect", "weakref", "referrers", "referents"):
        err = expect_error(c, method, {"id": x}, -32001)
        assert err["data"] == {"id": x, "state": "freed"}, (method, err)
    err = expect_error(c, "set", {"id": x, "fields": {"a": world.child}}, -32001)
    assert err["data"]["state"] == "freed"
    assert heap_state(c, [world.parent, world.child]) == before


def test_no_such_object_never_existed(world):
    """-32001 for an id never handed out: state "never-existed"."""
    c = world.c
    ghost = 10 ** 12
    for method in ("get", "ref", "unref", "inspect"):
        err = expect_error(c, method, {"id": ghost}, -32001)
        assert err["data"] == {"id": ghost, "state": "never-existed"}, (method, err)
    world.assert_unchanged()


def test_field_target_missing_changes_nothing(world):
    """A set/allocate naming a dead field target fails as a whole: earlier fields in the same
    request are not applied (each request is atomic)."""
    c = world.c
    x = c.call("allocate", type="Doomed")["id"]
    c.call("unref", id=x)
    before = heap_state(c, [world.parent, world.child])
    err = expect_error(c, "set", {"id": world.parent, "fields": {"kid": None, "other": world.parent, "bad": x}}, -32001)
    assert err["data"]["id"] == x
    expect_error(c, "allocate", {"type": "T", "fields": {"a": world.child, "b": x}}, -32001)
    expect_error(c, "root.set", {"name": "r", "id": x}, -32001)
    assert heap_state(c, [world.parent, world.child]) == before


# -- -32002 reference not held ----------------------------------------------------------------

def test_unref_of_reference_held_by_another_connection(daemon, world):
    """SPEC §1: a session can only drop references it holds."""
    other = daemon.client()
    mine = world.c.call("allocate", type="Mine")["id"]
    before = heap_state(world.c, [world.parent, world.child, mine])
    err = expect_error(other, "unref", {"id": mine}, -32002)
    assert err["data"]["id"] == mine
    # `child` is held by a field and a root, but by no session: no one may unref it.
    expect_error(other, "unref", {"id": world.child}, -32002)
    expect_error(world.c, "unref", {"id": world.child}, -32002)
    assert heap_state(world.c, [world.parent, world.child, mine]) == before
    other.close()


def test_unref_more_than_held(world):
    """Two refs held → two unrefs succeed, the third is -32002 (the root keeps it alive)."""
    c = world.c
    c.call("ref", id=world.child)
    c.call("ref", id=world.child)
    c.call("unref", id=world.child)
    c.call("unref", id=world.child)
    expect_error(c, "unref", {"id": world.child}, -32002)
    world.assert_unchanged()


# -- -32003 quota -----------------------------------------------------------------------------

def test_object_quota():
    """SPEC §3: with --max-objects 3 the 4th allocate (or weakref) fails with -32003 and nothing
    is evicted; after one is freed, allocation works again."""
    with daemon_with("--max-objects", "3") as d:
        c = d.client()
        ids = [c.call("allocate", type="Q", data=i)["id"] for i in range(3)]
        err = expect_error(c, "allocate", {"type": "Q"}, -32003)
        assert err["message"]
        expect_error(c, "weakref", {"id": ids[0]}, -32003)
        assert c.call("stats")["objects"] == 3
        assert [c.call("get", id=i)["data"] for i in ids] == [0, 1, 2]
        c.call("unref", id=ids[0])
        assert c.call("allocate", type="Q")["id"] not in ids
        expect_error(c, "allocate", {"type": "Q"}, -32003)
        c.close()


def test_byte_quota():
    """--max-bytes: an allocation (or a set growing an object) over the quota fails with -32003."""
    with daemon_with("--max-bytes", "100") as d:
        c = d.client()
        a = c.call("allocate", type="B", size=60)["id"]
        expect_error(c, "allocate", {"type": "B", "size": 41}, -32003)
        b = c.call("allocate", type="B", size=40)["id"]
        assert c.call("stats")["bytes"] == 100
        expect_error(c, "set", {"id": b, "size": 41}, -32003)
        assert c.call("get", id=b)["size"] == 40
        assert c.call("get", id=a)["size"] == 60
        c.close()


# -- sessions, scopes, roots ------------------------------------------------------------------

def test_session_conflict(daemon, world):
    """-32004: a named session is held by one connection at a time."""
    a = daemon.client()
    a.call("session.open", name="busy")
    x = a.call("allocate", type="T")["id"]
    b = daemon.client()
    err = expect_error(b, "session.open", {"name": "busy"}, -32004)
    assert "busy" in err["message"]
    assert b.call("ping") == {"pong": True}
    assert a.call("get", id=x)["refcount"] == 1
    a.call("unref", id=x)
    a.close()
    b.close()


def test_no_such_session(world):
    """-32007: closing a session that does not exist, or closing "this" anonymous session."""
    err = expect_error(world.c, "session.close", {"name": "nobody"}, -32007)
    assert "nobody" in err["message"]
    expect_error(world.c, "session.close", None, -32007)
    world.assert_unchanged()


def test_scope_exit_without_scope(world):
    """-32008: scope.exit with no scope entered (also after entering and leaving one)."""
    expect_error(world.c, "scope.exit", None, -32008)
    assert world.c.call("scope.enter")["depth"] == 1
    assert world.c.call("scope.exit")["depth"] == 0
    expect_error(world.c, "scope.exit", None, -32008)
    world.assert_unchanged()


def test_no_such_root(world):
    """-32009: root.get of a name never bound, or deleted."""
    err = expect_error(world.c, "root.get", {"name": "missing"}, -32009)
    assert err["data"] == {"name": "missing"}
    world.c.call("root.set", name="tmp", id=world.parent)
    world.c.call("root.set", name="tmp", id=None)
    expect_error(world.c, "root.get", {"name": "tmp"}, -32009)
    world.assert_unchanged()


# -- -32010 too many clients -----------------------------------------------------------------

def connect_when_slot_free(d, timeout=10):
    """A served client; closed connections free their slot asynchronously, so retry a moment."""
    deadline = time.time() + timeout
    while True:
        c = d.client()
        try:
            assert c.call("ping") == {"pong": True}
            return c
        except (ConnectionError, OSError, AssertionError):
            c.close()
            assert time.time() < deadline, "no client slot became free"
            time.sleep(0.05)


def test_too_many_clients():
    """SPEC §3: a limit on clients at once, with a clear error: the connection over
    --max-clients gets -32010 (id null) and is closed; once a client leaves, a new one is served."""
    with daemon_with("--max-clients", "2") as d:
        a = connect_when_slot_free(d)
        b = connect_when_slot_free(d)
        extra = d.client()
        reply = extra.read_message()
        assert reply["id"] is None and reply["error"]["code"] == -32010, reply
        with pytest.raises((ConnectionError, OSError)):
            extra.send(req(1, "ping"))
            extra.read_message()
        extra.close()
        # A client that speaks LSP gets the error in LSP framing (known from its first byte).
        lsp = d.client("lsp")
        lsp.send(req(2, "ping"))
        reply = lsp.read_message()
        assert reply["id"] is None and reply["error"]["code"] == -32010, reply
        lsp.close()
        assert a.call("ping") == {"pong": True}
        b.close()
        connect_when_slot_free(d).close()
        a.close()


# -- -32006 shutting down ---------------------------------------------------------------------

def test_shutting_down():
    """-32006: once `shutdown` ran, later requests (here: in the same batch) are refused; the
    daemon then exits cleanly."""
    d = Daemon()
    try:
        c = d.client()
        c.send([req(1, "shutdown"), req(2, "ping"), req(3, "allocate", {"type": "T"})])
        reply = c.read_message()
        assert reply[0]["id"] == 1 and "result" in reply[0], reply
        assert [r["id"] for r in reply[1:]] == [2, 3]
        assert all(r["error"]["code"] == -32006 for r in reply[1:]), reply
        c.close()
        assert wait_until(lambda: not d.alive(), 20), "heapd did not exit after shutdown"
    finally:
        code = d.stop()
    assert code == 0, d.read_log()


# -- robustness -------------------------------------------------------------------------------

def test_many_malformed_messages_in_a_row(world):
    """A burst of assorted bad input in one write: one error each, nothing changes."""
    c = world.c
    lines = [b"{", b"[]", b"7", b'{"jsonrpc":"2.0","id":1,"method":"nope"}',
             b'{"jsonrpc":"2.0","id":2,"method":"ref","params":{"id":"z"}}',
             b'{"jsonrpc":"2.0","id":3,"method":"unref","params":{"id":999999}}', b"\xff"]
    c.send_raw(b"\n".join(lines) + b"\n")
    codes = [c.read_message()["error"]["code"] for _ in lines]
    assert codes == [-32700, -32600, -32600, -32601, -32602, -32001, -32700]
    world.assert_unchanged()


# -- -32015 no such field -----------------------------------------------------------------------

def test_delete_of_absent_field_is_refused_and_interns_the_name(world):
    """set {b: null} on an object without b: -32015 with data {id, field}; no other field, data
    or size of the request is applied; the name is interned all the same (CPython 3.11's failed
    `del d.b` makes b the class's key 0, so b is released before q)."""
    c = world.c
    d = c.call("allocate", type="D")["id"]
    x = c.call("allocate", type="X")["id"]
    err = expect_error(c, "set", {"id": d, "fields": {"q": x, "b": None}, "data": 5}, -32015)
    assert err["data"] == {"id": d, "field": "b"}
    assert "no field 'b'" in err["message"] and "params.fields.b" in err["message"]
    got = c.call("get", id=d)
    assert got["fields"] == {} and got["data"] is None
    assert c.call("get", id=x)["refcount"] == 1
    c.call("set", id=d, fields={"q": x, "b": x})
    assert list(c.call("get", id=d)["fields"]) == ["b", "q"]   # fields come in release order
    # In an apply batch: the op fails alone (non-atomic), or the batch is refused (atomic).
    r = c.call("apply", ops=[["set", d, "nope", None], ["ref", x]])
    assert r["results"][0]["code"] == -32015 and r["results"][1] == 4, r
    err = expect_error(c, "apply", {"ops": [["ref", x], ["set", d, "nope2", None]], "atomic": True}, -32015)
    assert err["data"] == {"op": 1, "id": d, "field": "nope2"}
    assert c.call("get", id=x)["refcount"] == 4

"""Error mapping: every daemon code to its class, plus the client-side errors."""

import json

import pytest

import heapd
from heapd.errors import ERROR_CLASSES, error_from_response

EXPECTED = {
    -32700: heapd.ParseError, -32600: heapd.InvalidRequest, -32601: heapd.MethodNotFound,
    -32602: heapd.InvalidParams, -32603: heapd.InternalError, -32001: heapd.NoSuchObject,
    -32002: heapd.ReferenceNotHeld, -32003: heapd.QuotaExceeded, -32004: heapd.SessionConflict,
    -32005: heapd.RequestTooLarge, -32006: heapd.ShuttingDown, -32007: heapd.NoSuchSession,
    -32008: heapd.ScopeError, -32009: heapd.NoSuchRoot, -32010: heapd.TooManyClients,
    -32011: heapd.AccessDenied, -32012: heapd.DiskFull, -32013: heapd.NoSuchSnapshot,
    -32014: heapd.RendererUnavailable, -32015: heapd.NoSuchField,
}


def test_every_documented_code_has_its_class():
    with open(__file__.rsplit("/Clients/", 1)[0] + "/Protocol/heapd.openrpc.json") as f:
        documented = {e["code"] for e in json.load(f)["components"]["errors"].values()}
    assert documented == set(EXPECTED) == set(ERROR_CLASSES)
    for code, cls in EXPECTED.items():
        err = error_from_response({"code": code, "message": "m", "data": {"x": 1}})
        assert type(err) is cls and isinstance(err, heapd.HeapdError)
        assert (err.code, err.message, err.data) == (code, "m", {"x": 1})
        assert str(err) == "[%d] m" % code
    other = error_from_response({"code": -32099, "message": "new"})
    assert type(other) is heapd.HeapdError and other.code == -32099


def test_no_such_object_states(heap):
    with pytest.raises(heapd.NoSuchObject) as info:
        heap.get(2 ** 50)
    assert info.value.state == "never-existed" and info.value.id == 2 ** 50
    a = heap.allocate("PyErr")
    a.close()
    with pytest.raises(heapd.NoSuchObject) as info:
        heap.inspect(a.id)
    assert info.value.state == "freed"


def test_reference_not_held(heap, connect):
    other = connect()
    theirs = other.allocate("PyErr")
    with pytest.raises(heapd.ReferenceNotHeld) as info:
        heap.call("unref", id=theirs.id)
    assert info.value.id == theirs.id
    # A handle whose reference was dropped behind the library's back: close() reports it once.
    mine = heap.ref(theirs)
    heap.call("unref", id=mine.id)
    with pytest.raises(heapd.ReferenceNotHeld):
        mine.close()
    assert mine.closed
    mine.close()
    theirs.close()


def test_invalid_params_method_not_found_scope_root_session(heap):
    with pytest.raises(heapd.InvalidParams) as info:
        heap.call("get", id="x")
    assert "params.id" in info.value.message and isinstance(info.value, ValueError)
    with pytest.raises(heapd.InvalidParams):
        heap.subscribe(["bogus"])
    with pytest.raises(heapd.InvalidParams):
        heap.allocate("weakref")
    with pytest.raises(heapd.MethodNotFound):
        heap.call("no.such.method")
    with pytest.raises(heapd.ScopeError):
        heap.call("scope.exit")
    with pytest.raises(heapd.NoSuchRoot):
        heap.roots.get_id("py-missing-root")
    with pytest.raises(heapd.NoSuchSession):
        heap.close_session()


def test_parse_error_and_invalid_request_keep_the_connection(heap):
    with pytest.raises(heapd.ParseError):
        heap.send_raw("{not json")
    with pytest.raises(heapd.InvalidRequest):
        heap.send_raw('{"jsonrpc":"1.0","id":1,"method":"ping"}')
    with pytest.raises(heapd.InvalidRequest):
        heap.send_raw("[]")
    batch = heap.send_raw('[{"jsonrpc":"2.0","id":"a","method":"ping"},7]')
    assert batch[0] == {"jsonrpc": "2.0", "id": "a", "result": {"pong": True}}
    assert batch[1]["error"]["code"] == -32600
    assert heap.ping()


def test_session_conflict(heap, connect):
    heap.open_session("py-err-conflict")
    with pytest.raises(heapd.SessionConflict):
        connect().open_session("py-err-conflict")
    heap.close_session()


def test_quota_exceeded(spawn, framing):
    d = spawn("--max-objects", "2")
    with d.heap(framing=framing) as heap:
        a = heap.allocate("PyQuota")
        b = heap.allocate("PyQuota")
        with pytest.raises(heapd.QuotaExceeded):
            heap.allocate("PyQuota")
        a.close()
        heap.allocate("PyQuota").close()         # room again
        b.close()


def test_request_too_large_keeps_the_connection(spawn, framing):
    d = spawn("--max-message", "1024")
    with d.heap(framing=framing) as heap:
        with pytest.raises(heapd.RequestTooLarge) as info:
            heap.allocate("PyBig", data="x" * 4000)
        assert info.value.limit == 1024
        assert heap.ping()
        assert list(heap.objects(type="PyBig")) == []


def test_shutting_down(spawn, framing):
    d = spawn()
    heap = d.heap(framing=framing)
    replies = heap.send_raw('[{"jsonrpc":"2.0","id":1,"method":"shutdown"},'
                            '{"jsonrpc":"2.0","id":2,"method":"ping"}]', check=False)
    assert replies[0]["result"] == {"shutting_down": True}
    err = error_from_response(replies[1]["error"])
    assert isinstance(err, heapd.ShuttingDown)
    with pytest.raises((heapd.ShuttingDown, heapd.ConnectionLost)):
        heap.ping()
    heap.close()
    assert d.proc.wait(10) == 0


def test_shutdown_method(spawn):
    d = spawn()
    with d.heap() as heap:
        assert heap.shutdown().shutting_down is True
        with pytest.raises((heapd.ShuttingDown, heapd.ConnectionLost)):
            heap.ping()
    assert d.proc.wait(10) == 0


def test_too_many_clients(spawn, framing):
    d = spawn("--max-clients", "1")
    with d.heap_when_admitted(framing=framing) as first:   # after the fixture's probe left
        second = d.heap(framing=framing)
        with pytest.raises(heapd.TooManyClients) as info:
            second.ping()
        assert isinstance(info.value, ConnectionError)
        assert second.closed
        assert first.ping()


def test_daemon_unreachable_with_hint(tmp_path):
    path = str(tmp_path / "nobody.sock")
    with pytest.raises(heapd.DaemonUnreachable) as info:
        heapd.Heap(path)
    err = info.value
    assert isinstance(err, ConnectionError) and isinstance(err, heapd.HeapdError)
    assert err.path == path and "heapd --socket" in err.hint and "hint:" in str(err)


def test_daemon_unreachable_on_a_file_that_is_no_socket_gives_no_start_hint(tmp_path):
    path = tmp_path / "plain-file"
    path.write_text("not a socket")
    with pytest.raises(heapd.DaemonUnreachable) as info:
        heapd.Heap(str(path))
    assert "heapd --socket" not in str(info.value)
    assert info.value.hint == ("%s is not a socket: set HEAPD_SOCKET (or pass the path) to "
                               "heapd's socket" % path)


def test_connection_lost_when_the_daemon_stops(spawn):
    d = spawn()
    heap = d.heap()
    a = heap.allocate("PyLost")
    assert d.stop() == 0
    with pytest.raises((heapd.ConnectionLost, heapd.ShuttingDown)):
        heap.ping()
    with pytest.raises(heapd.ConnectionLost):
        heap.ping()
    assert heap.closed and a.closed

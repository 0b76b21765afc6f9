"""SPEC §2.1 (transport and framing) and the batch/id rules of JSON-RPC 2.0, over the real socket.

Both framings are detected per connection from its first byte (`C`/`c`: LSP base protocol,
anything else: NDJSON) and replies use the connection's framing. Oversized messages get a
-32005 reply with id null and cost only themselves; a broken LSP header closes only its
connection.
"""
import json
import socket
import time

import pytest

from heapd_harness import Client, daemon_with


# -- helpers ----------------------------------------------------------------------------------

def req(rid, method, params=None):
    msg = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def note(method, params=None):
    msg = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def enc(msg) -> bytes:
    return json.dumps(msg, ensure_ascii=False).encode()


def lsp(body: bytes, header_name=b"Content-Length", extra=b"") -> bytes:
    return extra + header_name + b": %d\r\n\r\n" % len(body) + body


def padded_ping(rid, total_len: int) -> bytes:
    """A valid ping request of exactly `total_len` bytes (padded with spaces inside the object)."""
    head = b'{"jsonrpc":"2.0","id":%d,"method":"ping"' % rid
    body = head + b" " * (total_len - len(head) - 1) + b"}"
    assert len(body) == total_len
    json.loads(body)
    return body


def recv_raw(client, n_messages=1):
    """Reads raw bytes until `n_messages` NDJSON lines are complete (for checking the framing)."""
    while client.buf.count(b"\n") < n_messages:
        client._fill()
    return client.buf


def rss_kib(pid) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_closed_by_daemon(client, timeout=10):
    """The daemon closed this connection: reading yields EOF (or a reset), not a timeout."""
    client.sock.settimeout(timeout)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = client.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return
        if not chunk:
            return
    raise AssertionError("connection still open")


# -- both framings ----------------------------------------------------------------------------

@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_request_answered_in_connections_framing(daemon, framing):
    """SPEC §2.1: replies use the framing the connection's first byte selected."""
    c = daemon.client(framing)
    c.send(req(1, "ping"))
    while (b"\n" if framing == "ndjson" else b"\r\n\r\n") not in c.buf:
        c._fill()
    if framing == "lsp":
        assert c.buf.startswith(b"Content-Length: ") or c.buf.lower().startswith(b"content-length:"), c.buf
    else:
        assert c.buf.startswith(b"{"), c.buf
    reply = c.read_message()
    assert reply == {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}}
    c.close()


def test_two_connections_with_different_framings_at_once(daemon):
    """Framing is per connection: an LSP and an NDJSON client interleave without interference."""
    a, b = daemon.client("lsp"), daemon.client("ndjson")
    x = a.call("allocate", type="Framed", data={"via": "lsp"})["id"]
    assert b.call("get", id=x)["data"] == {"via": "lsp"}
    y = b.call("allocate", type="Framed", data={"via": "ndjson"})["id"]
    assert a.call("get", id=y)["data"] == {"via": "ndjson"}
    a.close()
    b.close()


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_notifications_use_subscribers_framing(daemon, framing):
    """Events are pushed in the subscriber's framing, before the reply of the request causing them."""
    c = daemon.client(framing)
    c.call("subscribe", events=["freed"])
    x = c.call("allocate", type="T")["id"]
    c.call("unref", id=x)
    assert [n["params"]["ids"] for n in c.take_notifications("freed")] == [[x]]
    c.close()


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_one_byte_at_a_time(daemon, framing):
    """A message trickling in byte by byte (splitting the LSP header terminator and multi-byte
    UTF-8 characters) is decoded exactly once."""
    c = daemon.client(framing)
    data = {"text": "h\u00e9llo \u2603 \U0001F600", "n": [1, 2, 3]}
    raw = c.frame(enc(req(1, "allocate", {"type": "Slow", "data": data})))
    for i in range(len(raw)):
        c.send_raw(raw[i:i + 1])
        time.sleep(0.002)
    reply = c.read_reply()
    assert reply["id"] == 1, reply
    oid = reply["result"]["id"]
    assert c.call("get", id=oid)["data"] == data
    c.close()


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_several_messages_in_one_write(daemon, framing):
    """Three requests in one write get three replies, in order."""
    c = daemon.client(framing)
    x = c.call("allocate", type="T")["id"]
    c.send_raw(b"".join(c.frame(enc(req(100 + i, "ref", {"id": x}))) for i in range(3)))
    replies = [c.read_reply() for _ in range(3)]
    assert [r["id"] for r in replies] == [100, 101, 102]
    assert [r["result"]["refcount"] for r in replies] == [2, 3, 4]
    c.close()


def test_lsp_length_counts_utf8_bytes(daemon):
    """Content-Length is a byte count: a body with multi-byte characters is read exactly."""
    c = daemon.client("lsp")
    body = enc(req(1, "allocate", {"type": "T", "data": "\u00e9\u2603\U0001F600"}))
    assert len(body) != len(body.decode())
    c.send_raw(lsp(body) + lsp(enc(req(2, "ping"))))
    assert c.read_reply()["id"] == 1
    assert c.read_reply() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
    c.close()


def test_lsp_extra_content_type_header(daemon):
    """LSP headers other than Content-Length (Content-Type, before or after it) are ignored."""
    c = daemon.client("lsp")
    body = enc(req(1, "ping"))
    c.send_raw(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert c.read_reply()["result"] == {"pong": True}
    body = enc(req(2, "ping"))
    c.send_raw(b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(body) + body)
    assert c.read_reply() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
    c.close()


@pytest.mark.parametrize("name", [b"content-length", b"CONTENT-LENGTH", b"Content-length", b"cOnTeNt-LeNgTh"])
def test_lsp_header_name_case_insensitive(daemon, name):
    """LSP header names are case-insensitive (the first byte `c` or `C` selects LSP)."""
    c = daemon.client("lsp")
    c.send_raw(lsp(enc(req(1, "ping")), header_name=name))
    assert c.read_reply() == {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}}
    c.send_raw(lsp(enc(req(2, "ping")), header_name=name))
    assert c.read_reply()["id"] == 2
    c.close()


def test_ndjson_crlf_line_endings(daemon):
    """NDJSON lines ending in \\r\\n are accepted."""
    c = daemon.client()
    c.send_raw(enc(req(1, "ping")) + b"\r\n" + enc(req(2, "ping")) + b"\r\n")
    assert c.read_reply() == {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}}
    assert c.read_reply() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
    c.close()


def test_ndjson_blank_lines_ignored(daemon):
    """Blank lines (also first on the connection, or only spaces/tabs/\\r) get no reply."""
    c = daemon.client()
    c.send_raw(b"\n\n   \n\t\r\n" + enc(req(1, "ping")) + b"\n\n\r\n" + enc(req(2, "ping")) + b"\n")
    assert c.read_message() == {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}}
    assert c.read_message() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
    c.close()


def test_ndjson_reply_is_one_line_even_with_newlines_in_data(daemon):
    """Data holding newlines comes back escaped: each reply is exactly one line."""
    c = daemon.client()
    x = c.call("allocate", type="T", data={"text": "a\nb\r\nc", "k\n": ["\n"]})["id"]
    c.send(req(9, "get", {"id": x}))
    raw = recv_raw(c)
    line = raw.split(b"\n", 1)[0]
    assert json.loads(line)["result"]["data"] == {"text": "a\nb\r\nc", "k\n": ["\n"]}
    c.close()


# -- message size limit -----------------------------------------------------------------------

def test_ndjson_oversized_line_then_next_line_answered():
    """SPEC §3: largest message with a clear error: -32005 with id null; the connection goes on."""
    with daemon_with("--max-message", "2048") as d:
        c = d.client()
        big = padded_ping(7, 5000)
        c.send_raw(big + b"\n" + enc(req(8, "ping")) + b"\n")
        err = c.read_message()
        assert err["id"] is None and err["error"]["code"] == -32005, err
        assert c.read_message() == {"jsonrpc": "2.0", "id": 8, "result": {"pong": True}}
        c.close()


def test_ndjson_limit_is_inclusive():
    """A line of exactly --max-message bytes (also with \\r\\n) is accepted; one byte more is not."""
    with daemon_with("--max-message", "2048") as d:
        c = d.client()
        c.send_raw(padded_ping(1, 2048) + b"\n")
        assert c.read_message()["result"] == {"pong": True}
        c.send_raw(padded_ping(2, 2048) + b"\r\n")
        assert c.read_message()["result"] == {"pong": True}
        c.send_raw(padded_ping(3, 2049) + b"\n")
        err = c.read_message()
        assert err["error"]["code"] == -32005 and err["id"] is None
        c.send_raw(enc(req(4, "ping")) + b"\n")
        assert c.read_message()["id"] == 4
        c.close()


def test_ndjson_oversized_line_streamed_in_pieces():
    """An oversized line arriving over many writes is rejected once and skipped up to its newline."""
    with daemon_with("--max-message", "2048") as d:
        c = d.client()
        c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"')
        for _ in range(20):
            c.send_raw(b"x" * 1000)
            time.sleep(0.005)
        c.send_raw(b'"}}\n' + enc(req(2, "ping")) + b"\n")
        err = c.read_message()
        assert err["id"] is None and err["error"]["code"] == -32005, err
        assert c.read_message() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
        c.close()


def _stream_huge_line_and_measure(d, total, chunk=1 << 20):
    c = d.client()
    c.call("ping")
    before = rss_kib(d.proc.pid)
    peak = before
    c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"')
    piece = b"y" * chunk
    for i in range(total // chunk):
        c.send_raw(piece)
        if i % 8 == 0:
            peak = max(peak, rss_kib(d.proc.pid))
    c.send_raw(b'"}}\n' + enc(req(2, "ping")) + b"\n")
    err = c.read_message()
    assert err["id"] is None and err["error"]["code"] == -32005, err
    assert c.read_message()["id"] == 2
    peak = max(peak, rss_kib(d.proc.pid))
    c.close()
    return before, peak


def test_ndjson_64mib_line_does_not_balloon_rss():
    """A 64 MiB line against a 2 KiB limit is dropped as it arrives: RSS grows < 100 MiB."""
    with daemon_with("--max-message", "2048") as d:
        before, peak = _stream_huge_line_and_measure(d, 64 << 20)
        assert (peak - before) < 100 * 1024, f"RSS grew from {before} KiB to {peak} KiB"


def test_ndjson_64mib_line_default_limit_bounded_rss(daemon):
    """With the default 16 MiB limit a 64 MiB line is rejected and memory stays bounded."""
    before, peak = _stream_huge_line_and_measure(daemon, 64 << 20)
    assert (peak - before) < 100 * 1024, f"RSS grew from {before} KiB to {peak} KiB"


def test_lsp_oversized_content_length_then_next_frame():
    """An LSP frame over the limit is skipped by its declared length (even if its body looks like
    a header) and answered with -32005, id null; the next frame is answered."""
    with daemon_with("--max-message", "2048") as d:
        c = d.client("lsp")
        trap = '\r\n\r\nContent-Length: 2\r\n\r\n{}'
        body = enc(req(1, "ping", {"pad": trap + "z" * 5000}))
        c.send_raw(b"Content-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), 700):
            c.send_raw(body[i:i + 700])
            time.sleep(0.002)
        c.send_raw(lsp(enc(req(2, "ping"))))
        err = c.read_message()
        assert err["id"] is None and err["error"]["code"] == -32005, err
        assert c.read_message() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
        c.close()


def test_lsp_64mib_body_does_not_balloon_rss(daemon):
    """An LSP body over the (default 16 MiB) limit is skipped as it arrives, not buffered."""
    c = daemon.client("lsp")
    c.call("ping")
    before = peak = rss_kib(daemon.proc.pid)
    total, chunk = 64 << 20, b"q" * (1 << 20)
    c.send_raw(b"Content-Length: %d\r\n\r\n" % total)
    for i in range(total // len(chunk)):
        c.send_raw(chunk)
        if i % 8 == 0:
            peak = max(peak, rss_kib(daemon.proc.pid))
    c.send_raw(lsp(enc(req(2, "ping"))))
    err = c.read_message()
    assert err["id"] is None and err["error"]["code"] == -32005, err
    assert c.read_message()["id"] == 2
    peak = max(peak, rss_kib(daemon.proc.pid))
    assert (peak - before) < 100 * 1024, f"RSS grew from {before} KiB to {peak} KiB"
    c.close()


def test_lsp_limit_is_inclusive():
    """An LSP body of exactly --max-message bytes is accepted; one more is -32005."""
    with daemon_with("--max-message", "2048") as d:
        c = d.client("lsp")
        c.send_raw(lsp(padded_ping(1, 2048)))
        assert c.read_message()["id"] == 1
        c.send_raw(lsp(padded_ping(2, 2049)) + lsp(padded_ping(3, 100)))
        err = c.read_message()
        assert err["error"]["code"] == -32005 and err["id"] is None
        assert c.read_message()["id"] == 3
        c.close()


# -- broken LSP headers -----------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    b"Content-Length: abc\r\n\r\n",
    b"Content-Length: -5\r\n\r\n",
    b"Content-Length: 1e3\r\n\r\n",
    b"Content-Length: 99999999999999999999999999\r\n\r\n",
    b"Content-Length: 12\r\nContent-Length: 13\r\n\r\n",
    b"Content-Type: application/json\r\n\r\n",
    b"Content-Length 12\r\n\r\n",
    b"Content-Length: " + b"1" * 9000,
], ids=["not-a-number", "negative", "exponent", "huge", "conflicting", "missing", "no-colon", "header-too-long"])
def test_broken_lsp_header_closes_only_that_connection(daemon, header):
    """SPEC §2.2: a broken header gets a parse error (id null), then that connection is closed;
    the daemon and other connections carry on, and the heap is unchanged."""
    other = daemon.client()
    x = other.call("allocate", type="Keep", data=[1])["id"]
    before = other.call("stats")["objects"]
    c = Client(daemon.socket, "lsp")
    c.send_raw(header + enc(req(1, "allocate", {"type": "Nope"})))
    err = c.read_message()
    assert err["id"] is None and err["error"]["code"] == -32700, err
    assert_closed_by_daemon(c)
    c.close()
    assert other.call("ping") == {"pong": True}
    assert other.call("stats")["objects"] == before
    assert other.call("get", id=x)["data"] == [1]
    fresh = daemon.client("lsp")
    assert fresh.call("ping") == {"pong": True}
    fresh.close()
    other.close()


def test_lsp_broken_json_body_costs_only_its_frame(daemon):
    """SPEC §2.2: in LSP framing a syntax error costs only its frame."""
    c = daemon.client("lsp")
    c.send_raw(lsp(b'{"jsonrpc":"2.0","id":1,"method":') + lsp(enc(req(2, "ping"))))
    err = c.read_message()
    assert err["error"]["code"] == -32700 and err["id"] is None
    assert c.read_message() == {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}
    c.close()


# -- batches ----------------------------------------------------------------------------------

@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_batch_mixed_requests_and_notifications(daemon, framing):
    """JSON-RPC 2.0 batch: one array reply holding only the requests' replies, in order; the
    notifications in it are executed (in order) too."""
    c = daemon.client(framing)
    x = c.call("allocate", type="T")["id"]
    c.send([
        req("a", "ref", {"id": x}),
        note("ref", {"id": x}),
        req(7, "get", {"id": x}),
        note("ping"),
        req(None, "ref", {"id": x}),
    ])
    reply = c.read_message()
    assert isinstance(reply, list), reply
    assert [r["id"] for r in reply] == ["a", 7, None]
    assert reply[0]["result"]["refcount"] == 2
    assert reply[1]["result"]["refcount"] == 3
    assert reply[2]["result"]["refcount"] == 4
    c.close()


def test_batch_of_only_notifications_gets_no_reply(daemon, client):
    """A batch of notifications is executed but answered with nothing at all."""
    x = client.call("allocate", type="T")["id"]
    client.send([note("ref", {"id": x}), note("ref", {"id": x}), note("ping")])
    client.send(req(99, "ping"))
    assert client.read_message() == {"jsonrpc": "2.0", "id": 99, "result": {"pong": True}}
    assert client.call("get", id=x)["refcount"] == 3


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_empty_batch_is_single_invalid_request(daemon, framing):
    """JSON-RPC 2.0: `[]` gets one -32600 reply with id null (not an array)."""
    c = daemon.client(framing)
    c.send_raw(c.frame(b"[]"))
    reply = c.read_message()
    assert isinstance(reply, dict), reply
    assert reply["id"] is None and reply["error"]["code"] == -32600
    assert c.call("ping") == {"pong": True}
    c.close()


def test_batch_with_invalid_members(daemon, client):
    """Invalid members of a batch get their own error replies; the valid ones still run."""
    client.send([1, req(1, "ping"), {"foo": "bar"}, req(2, "nope")])
    reply = client.read_message()
    assert isinstance(reply, list) and len(reply) == 4, reply
    assert reply[0]["error"]["code"] == -32600 and reply[0]["id"] is None
    assert reply[1] == {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}}
    assert reply[2]["error"]["code"] == -32600 and reply[2]["id"] is None
    assert reply[3]["error"]["code"] == -32601 and reply[3]["id"] == 2


# -- ids and ordering -------------------------------------------------------------------------

@pytest.mark.parametrize("rid", [0, 1, -5, 2 ** 53 + 1, 2 ** 62, "abc", "", "\u2603 id", None])
def test_ids_echoed_exactly(daemon, client, rid):
    """Ids may be numbers, strings or null; the reply carries the same id (null → null)."""
    client.send(req(rid, "ping"))
    reply = client.read_message()
    assert "id" in reply and reply["id"] == rid and type(reply["id"]) is type(rid), reply
    assert reply["result"] == {"pong": True}


def test_notification_gets_no_reply(daemon, client):
    """A message without id is a notification: executed, never answered."""
    x = client.call("allocate", type="T")["id"]
    client.send(note("ref", {"id": x}))
    client.send(req(5, "get", {"id": x}))
    reply = client.read_message()
    assert reply["id"] == 5 and reply["result"]["refcount"] == 2


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_200_pipelined_requests_answered_in_order(daemon, framing):
    """SPEC §2.1: requests on one connection are answered in order (and run in order: the
    refcounts count up)."""
    c = daemon.client(framing)
    x = c.call("allocate", type="T")["id"]
    msgs = []
    for i in range(200):
        if i % 3 == 2:
            msgs.append(req(f"s{i}", "ping"))
        else:
            msgs.append(req(i, "ref", {"id": x}))
    c.send_raw(b"".join(c.frame(enc(m)) for m in msgs))
    replies = [c.read_message() for _ in range(200)]
    assert [r["id"] for r in replies] == [m["id"] for m in msgs]
    refcounts = [r["result"]["refcount"] for r in replies if "refcount" in r.get("result", {})]
    assert refcounts == list(range(2, 2 + len(refcounts)))
    c.close()


def test_pipelined_requests_interleaved_connections(daemon):
    """Two connections pipelining at once: each gets its own replies, each in order."""
    a, b = daemon.client(), daemon.client("lsp")
    x = a.call("allocate", type="T")["id"]
    a.send_raw(b"".join(a.frame(enc(req(i, "ref", {"id": x}))) for i in range(100)))
    b.send_raw(b"".join(b.frame(enc(req(i, "ref", {"id": x}))) for i in range(100)))
    ra = [a.read_message() for _ in range(100)]
    rb = [b.read_message() for _ in range(100)]
    assert [r["id"] for r in ra] == list(range(100))
    assert [r["id"] for r in rb] == list(range(100))
    counts = [r["result"]["refcount"] for r in ra + rb]
    assert sorted(counts) == list(range(2, 202))
    assert [r["result"]["refcount"] for r in ra] == sorted(r["result"]["refcount"] for r in ra)
    assert a.call("get", id=x)["refcount"] == 201
    a.close()
    b.close()


# -- end of input -----------------------------------------------------------------------------

def test_half_close_after_pipelined_requests_gets_every_reply(daemon, client):
    """`cat requests | socat - UNIX-CONNECT:…` sends its lines, then shuts down its write side and
    reads: every request must still be answered (SPEC §2.1: NDJSON for shells)."""
    x = client.call("allocate", type="Big", data="z" * 2000)["id"]
    client.call("root.set", name="big", id=x)
    c = daemon.client()
    n = 1000
    c.send_raw(b"".join(enc(req(i, "get", {"id": x})) + b"\n" for i in range(n)))
    c.sock.shutdown(socket.SHUT_WR)
    time.sleep(0.5)  # a reader that is busy for a moment: the ~2 MB of replies cannot all be in flight
    got = []
    try:
        while len(got) < n:
            got.append(c.read_message()["id"])
    except ConnectionError:
        pass
    assert got == list(range(n)), f"{len(got)} of {n} replies before the daemon closed"
    c.close()


def test_final_line_without_newline_answered_at_eof(daemon, client):
    """`printf '{…}' | socat - UNIX-CONNECT:…`: a last line without newline, then EOF, is a
    request like any other: it is answered (or, at the very least, not executed silently)."""
    x = client.call("allocate", type="T")["id"]
    c = daemon.client()
    c.send_raw(enc(req(1, "root.set", {"name": "eof", "id": x})))
    c.sock.shutdown(socket.SHUT_WR)
    try:
        reply = c.read_message()
    except ConnectionError:
        reply = None
    c.close()
    executed = any(r["name"] == "eof" for r in client.call("root.list")["roots"])
    assert reply is not None and reply["id"] == 1 and "result" in reply, \
        f"no reply at EOF (request executed anyway: {executed})"
    assert executed

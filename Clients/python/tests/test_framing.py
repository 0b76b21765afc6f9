"""Framings (unit and end to end) and the default socket path rule."""

import os

import pytest

import heapd
from heapd.framing import FramingError, LSPFraming, NDJSONFraming, get_framing


def test_ndjson_decode():
    f = NDJSONFraming()
    buf = bytearray(b'\n  \r\n{"a":1}\r\n{"b"')
    assert f.decode(buf) == b'{"a":1}'
    assert f.decode(buf) is None and buf == bytearray(b'{"b"')
    buf += b':2}\n'
    assert f.decode(buf) == b'{"b":2}' and buf == bytearray()
    assert f.encode(b"{}") == b"{}\n"
    with pytest.raises(ValueError):
        f.encode(b"{\n}")


def test_lsp_decode():
    f = LSPFraming()
    body = b'{"jsonrpc":"2.0","id":1,"result":{}}'
    framed = f.encode(body)
    assert framed == b"Content-Length: %d\r\n\r\n" % len(body) + body
    buf = bytearray(framed[:10])
    assert f.decode(buf) is None
    buf += framed[10:-3]
    assert f.decode(buf) is None
    buf += framed[-3:] + b"content-length: 2\r\nContent-Type: x\r\n\r\n{}"
    assert f.decode(buf) == body
    assert f.decode(buf) == b"{}" and buf == bytearray()
    for broken in (b"Content-Length: x\r\n\r\n", b"Nope\r\n\r\n", b"Content-Type: a\r\n\r\n",
                   b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n"):
        with pytest.raises(FramingError):
            f.decode(bytearray(broken))


def test_get_framing():
    assert get_framing("NDJSON").name == "ndjson" and get_framing("lsp").name == "lsp"
    with pytest.raises(ValueError):
        get_framing("xml")
    with pytest.raises(ValueError):
        heapd.Heap("/nonexistent/heapd.sock", framing="xml")


def test_both_framings_end_to_end(daemon, framing):
    with daemon.heap(framing=framing) as heap:
        assert heap.framing == framing
        a = heap.allocate("PyFrame", data={"text": "é\u2603 \n newline", "n": [1, 2.5, None]})
        assert a.data == {"text": "é\u2603 \n newline", "n": [1, 2.5, None]}
        big = "x" * 200_000                       # several socket reads per message
        a.data = big
        assert a.data == big
        a.close()


def test_default_socket_path_rule(monkeypatch):
    monkeypatch.delenv("HEAPD_SOCKET", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert heapd.default_socket_path() == "/tmp/heapd-%d/heapd.sock" % os.getuid()
    monkeypatch.setenv("XDG_RUNTIME_DIR", "")
    assert heapd.default_socket_path() == "/tmp/heapd-%d/heapd.sock" % os.getuid()
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/42")
    assert heapd.default_socket_path() == "/run/user/42/heapd/heapd.sock"
    monkeypatch.setenv("HEAPD_SOCKET", "/x/y.sock")
    assert heapd.default_socket_path() == "/x/y.sock"
    assert heapd.default_socket_path("/explicit.sock") == "/explicit.sock"


def test_connect_through_heapd_socket_env(daemon, monkeypatch):
    monkeypatch.setenv("HEAPD_SOCKET", daemon.socket)
    with heapd.connect() as heap:
        assert heap.socket_path == daemon.socket and heap.ping()

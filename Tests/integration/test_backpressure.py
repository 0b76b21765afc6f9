"""What a connection may have pending is bounded, replies included (SPEC §8, issue 15 item 4).

A client that pipelines many requests and never reads their replies must not make the daemon
hold them all: past the channel's high watermark (1 MiB) the daemon stops running that
connection's requests (and stops reading it) until the client reads again; then every request
runs and every reply arrives, in order."""
import json
import socket
import time

from heapd_harness import Daemon
from test_sessions import rss_kib

OBJECT_BYTES = 256 << 10
REQUESTS = 1000


def test_unread_replies_do_not_grow_memory_and_all_arrive_later():
    d = Daemon("--memory")
    try:
        c = d.client()
        blob = "x" * OBJECT_BYTES
        oid = c.call("allocate", type="Blob", data=blob)["id"]
        c.call("root.set", name="blob", id=oid)
        before = rss_kib(d.proc.pid)

        hog = socket.socket(socket.AF_UNIX)
        hog.connect(d.socket)
        f = hog.makefile("rb")
        # Warm up: after full reads NIO reads up to 64 KiB at once, so one read then holds
        # hundreds of requests (a connection that already did some work, as in the report).
        for _ in range(4):
            hog.sendall(b'{"jsonrpc":"2.0","id":0,"method":"ping"}\n' * 5000)
            for _ in range(5000):
                f.readline()
        requests_before = c.call("stats")["requests"]
        request = json.dumps({"jsonrpc": "2.0", "method": "get", "params": {"id": oid}})
        hog.sendall("".join(request[:-1] + f',"id":{i}}}\n' for i in range(REQUESTS)).encode())
        # Not reading: ~256 MiB of replies would pile up if the daemon answered them all. Give
        # it three seconds to do so (before the fix it went on running ~200 of them a second).
        for _ in range(15):
            time.sleep(0.2)
            c.call("ping")
        growth_mib = (rss_kib(d.proc.pid) - before) / 1024
        served = c.call("stats")["requests"] - requests_before - 16
        # Bound: the 1 MiB watermark, one read's replies chunk (256 KiB) and one reply past
        # it, the socket's own buffer, and the request bytes: a few MiB; allow 32.
        assert growth_mib < 32, f"daemon grew by {growth_mib:.0f} MiB for a client that does not read"
        assert served < REQUESTS // 4, f"{served} of {REQUESTS} requests ran while their replies were unread"

        # Reading again: every reply arrives, in request order.
        for i in range(REQUESTS):
            reply = json.loads(f.readline())
            assert reply["id"] == i and reply["result"]["size"] == OBJECT_BYTES + 2
        hog.close()
        assert c.call("check")["ok"]
        c.close()
    finally:
        assert d.stop() == 0

"""The two crashes an adversarial review found stay fixed, on the real daemon (issue 15).

1. A subscriber that never reads, on the same event loop as a client whose requests cause many
   events: its event outbox overflows and it is cut off. The daemon used to close its channel
   while holding the heap's lock, and the close re-entered the lock ("Recursive call to lock
   Mutex"). With one event-loop thread every connection shares the loop."""
import json
import socket
import time

from heapd_harness import Daemon


def test_a_subscriber_that_never_reads_is_cut_off_and_the_daemon_stays_up():
    d = Daemon("--memory", "--threads", "1")
    try:
        stalled = socket.socket(socket.AF_UNIX)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(d.socket)
        stalled.sendall(b'{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"events":["*"]}}\n')
        c = d.client()
        c.call("ping")
        # 8,000 finalizer objects with 1,000-byte type names freed by one scope exit, 4 times:
        # ~36 MB of finalize events for a subscriber that reads nothing.
        type_name = "T" * 1000
        for _ in range(4):
            c.call("scope.enter")
            c.send([{"jsonrpc": "2.0", "id": i, "method": "allocate",
                     "params": {"type": type_name, "finalizer": True}} for i in range(8000)])
            assert all("result" in r for r in c.read_message())
            c.call("scope.exit")
        assert d.alive()
        assert c.call("check")["ok"]
        assert "does not read its events" in d.read_log()
        # Closed at once, not after what it never reads: only `c` stays registered.
        deadline = time.time() + 10
        while c.call("stats")["connections"] != 1:
            assert time.time() < deadline, "the subscriber's connection is still registered"
            time.sleep(0.05)
        stalled.close()
        c.close()
    finally:
        assert d.stop() == 0


def test_a_shutdown_with_bad_params_is_refused_and_stops_nothing():
    d = Daemon("--memory")
    try:
        c = d.client()
        reply = c.request("shutdown", [1])
        assert reply["error"]["code"] == -32602, reply
        assert c.call("ping") == {"pong": True} and d.alive()
        c.close()
    finally:
        assert d.stop() == 0


def test_a_huge_batch_gets_bounded_replies():
    """A batch's replies stop at 64 MiB: later requests do not run and say so (-32005), so one
    16 MiB message cannot make the daemon build gigabytes of replies (each rpc.discover reply
    is the whole document, ~70 KB compact)."""
    d = Daemon("--memory")
    try:
        c = d.client()
        c.send([{"jsonrpc": "2.0", "id": i, "method": "rpc.discover"} for i in range(1000)])
        replies = c.read_message()
        assert [r["id"] for r in replies] == list(range(1000))
        ran = [r for r in replies if "result" in r]
        refused = [r for r in replies if "error" in r]
        assert ran and refused, (len(ran), len(refused))
        assert all(r["error"]["code"] == -32005 and "not run" in r["error"]["message"] for r in refused)
        # The budget is checked between chunks of 16 requests: at most one chunk past it.
        size = len(json.dumps(ran[0], separators=(",", ":")))
        assert (64 << 20) <= len(ran) * size <= (64 << 20) + 16 * size, (len(ran), size)
        assert c.call("ping") == {"pong": True}
        c.close()
    finally:
        assert d.stop() == 0

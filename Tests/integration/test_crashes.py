"""The two crashes an adversarial review found stay fixed, on the real daemon (issue 15).

1. A subscriber that never reads, on the same event loop as a client whose requests cause many
   events: its event outbox overflows and it is cut off. The daemon used to close its channel
   while holding the heap's lock, and the close re-entered the lock ("Recursive call to lock
   Mutex"). With one event-loop thread every connection shares the loop."""
import socket

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
        stalled.close()
        c.close()
    finally:
        assert d.stop() == 0

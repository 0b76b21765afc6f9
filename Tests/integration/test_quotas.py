"""Quotas and byte counts on the real daemon (issue 15 items 2 and 5): sizes and their sums
never trap, and every table a client can grow is bounded."""
from heapd_harness import Daemon

HUGE = 2 ** 53 - 1   # the largest size the wire accepts


def test_byte_totals_past_int64_survive_stats_session_list_and_restart():
    """1,024 objects of type A and one of B, each 2^53-1 bytes, held by a named session: the
    totals pass 2^63 (once they made `stats` and `session.list` trap, on every restart)."""
    d = Daemon()
    try:
        c = d.client()
        c.call("session.open", name="big")
        out = c.call("apply", ops=[["alloc", "A", HUGE]] * 1024 + [["alloc", "B", HUGE]])
        assert out["errors"] == 0, out
        stats = c.call("stats")
        # Reports saturate at the largest JSON integer; the heap itself counts exactly.
        assert stats["objects"] == 1025 and stats["bytes"] == 2 ** 63 - 1, stats
        listed = {s["name"]: s for s in c.call("session.list")["sessions"]}
        assert listed["big"]["objects"] == 1025 and listed["big"]["bytes"] == 2 ** 63 - 1
        c.close()
        assert d.stop() == 0, d.read_log()
        d = Daemon(directory=d.dir)
        c = d.client()
        assert c.call("stats")["objects"] == 1025
        assert {s["name"]: s for s in c.call("session.list")["sessions"]}["big"]["objects"] == 1025
        assert c.call("check")["ok"]
        # A size past 2^53-1 never gets in; the total past UInt64 is refused, typed.
        c.call("session.open", name="big")
        refused = c.request("apply", {"ops": [["alloc", "A", HUGE]] * 1100})["result"]
        assert refused["errors"] == 1100 - 1023, refused
        assert refused["results"][-1]["code"] == -32003, refused["results"][-1]
        assert "cannot be counted" in refused["results"][-1]["message"]
        c.close()
    finally:
        assert d.stop() == 0, d.read_log()

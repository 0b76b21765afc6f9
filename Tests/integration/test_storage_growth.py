"""The heap's arrays grow ahead of need (`StorageGrowth`): with `HEAPD_GROW_AHEAD_BYTES=0` every
array of a small heap is grown outside the lock, on the daemon's 100 ms tick, while a client
builds, links and frees objects. Nothing a client sees may change: every object, field and site
reads back as written, the invariant check passes, and the heap survives a restart."""
import random
import time

from heapd_harness import Daemon


def test_arrays_grown_ahead_keep_every_object(monkeypatch):
    monkeypatch.setenv("HEAPD_GROW_AHEAD_BYTES", "0")
    d = Daemon()
    rng = random.Random(5)
    fields = {}  # id -> {name: id}
    c = d.client()
    try:
        c.call("session.open", name="builder")  # its references outlive the restart below
        assert c.call("stats")["storage"] == {"grown_ahead": 0, "moved_for_snapshots": 0, "copied_bytes": 0}
        grown = 0
        rounds = 0
        # Until several growths happened (each array doubles about every round or two here).
        while grown < 6 and rounds < 400:
            rounds += 1
            new = c.call("apply", ops=[["alloc", "Node", 8, f"site{rng.randrange(4)}"]
                                       for _ in range(rng.randrange(50, 400))])["results"]
            ops = []
            for o in new:
                if fields:
                    name, target = f"f{rng.randrange(5)}", rng.choice(list(fields))
                    ops.append(["set", o, name, target])
                fields[o] = {}
            c.call("apply", ops=ops)
            for op in ops:
                fields[op[1]][op[2]] = op[3]
            # Fresh objects and their fields die too: freed slots and field blocks are reused.
            for o in rng.sample(new, len(new) // 4):
                if not any(o in f.values() for f in fields.values()):
                    c.call("unref", id=o)
                    del fields[o]
            time.sleep(0.03)  # the daemon's tick grows what is nearly full meanwhile
            grown = c.call("stats")["storage"]["grown_ahead"]
        storage = c.call("stats")["storage"]
        assert storage["grown_ahead"] >= 6, storage
        assert storage["copied_bytes"] > 0, storage
        assert c.call("check")["problems"] == []
        for o, f in fields.items():
            got = c.call("get", id=o)
            assert got["fields"] == f, o
        sites = {r["site"]: r["count"] for r in c.call("histogram", by="site")["sites"]}
        assert sum(sites.values()) == len(fields)
    finally:
        c.close()
        assert d.stop() == 0

    # The journal replays into a heap that grows the usual way: the same objects.
    d = Daemon(directory=d.dir)
    c = d.client()
    try:
        assert c.call("check")["problems"] == []
        for o, f in fields.items():
            assert c.call("get", id=o)["fields"] == f, o
    finally:
        c.close()
        d.stop()

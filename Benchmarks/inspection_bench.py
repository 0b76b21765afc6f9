#!/usr/bin/env python3
"""The inspection methods on a big heap, end to end through the protocol (SPEC §5, §7; issue 12).

Builds, in a private `heapd --memory`, a heap of N objects through `apply`: a chain (`next`) with
one random older object per node (`other`), the session holding only the newest node, plus 10%
of the objects as unreachable two-object cycles (live garbage). Then times each method as a
client sees it, while a second client pings in a loop: the longest ping during the call is the
pause other clients see (every request runs under the heap's one lock; a graph method takes the
lock once per slice of its graph). Also the daemon's resident memory before and after the
dominator tree is cached.

Usage: Benchmarks/inspection_bench.py [--objects 1000000] [--seed 1]   (build first: make build)
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "integration"))
from heapd_harness import Daemon  # noqa: E402


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Pinger(threading.Thread):
    """Pings in a loop; `window()` gives the longest round trip since it was last called."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client, self.worst, self.stop = client, 0.0, False
        self.lock = threading.Lock()

    def run(self):
        while not self.stop:
            t = time.perf_counter()
            self.client.call("ping")
            dt = time.perf_counter() - t
            with self.lock:
                self.worst = max(self.worst, dt)
            time.sleep(0.001)

    def window(self):
        with self.lock:
            w, self.worst = self.worst, 0.0
        return w


def build(c, n, rng):
    chain = int(n * 0.9)
    batch, prev, made = 3000, None, []
    i = 0
    while i < chain:
        k = min(batch, chain - i)
        ops = [["alloc", "Node", 16] for _ in range(k)]
        got = c.call("apply", ops=ops)["results"]
        ops = []
        for j, oid in enumerate(got):
            if prev is not None:
                ops.append(["set", oid, "next", prev])
                ops.append(["unref", prev])
            if made:
                ops.append(["set", oid, "other", made[rng.randrange(len(made))]])
            made.append(oid)
            prev = oid
        c.call("apply", ops=ops)
        i += k
    pairs = (n - chain) // 2
    garbage = None
    for start in range(0, pairs, batch // 2):
        k = min(batch // 2, pairs - start)
        ops = []
        for _ in range(k):
            ops += [["alloc", "Garbage", 8], ["alloc", "Garbage", 8]]
        got = c.call("apply", ops=ops)["results"]
        garbage = garbage or got[0]
        ops = []
        for a, b in zip(got[::2], got[1::2]):
            ops += [["set", a, "peer", b], ["set", b, "peer", a], ["unref", a], ["unref", b]]
        c.call("apply", ops=ops)
    return made, garbage


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    d = Daemon("--memory")
    try:
        c = d.client()
        c.call("gc.set", enabled=False)
        t = time.perf_counter()
        made, garbage = build(c, args.objects, rng)
        objects = c.call("stats")["objects"]
        print(f"built {objects} objects in {time.perf_counter() - t:.1f} s; daemon RSS {rss_mib(d.proc.pid):.0f} MiB")
        pinger = Pinger(d.client())
        pinger.start()
        time.sleep(0.05)
        rows = [
            ("path (oldest object)", "path", {"id": made[0]}),
            ("path (again, unchanged)", "path", {"id": made[0]}),
            ("path (limit 10)", "path", {"id": made[len(made) // 2], "limit": 10}),
            ("path (after a change)", "path", {"id": made[0]}),
            ("path (only a cycle keeps it)", "path", {"id": garbage}),
            ("cycles", "cycles", {}),
            ("dominators (first)", "dominators", {}),
            ("dominators (cached)", "dominators", {}),
            ("dominators id (cached)", "dominators", {"id": made[len(made) // 2]}),
            ("histogram", "histogram", {}),
            ("histogram generation 0", "histogram", {"generation": 0}),
            ("referrers", "referrers", {"id": made[0]}),
            ("inspect", "inspect", {"id": made[0]}),
            ("referrers (after a change)", "referrers", {"id": made[len(made) // 3]}),
        ]
        # `stats.serial` counts the time requests spent inside the heap's lock: its change over
        # a call (less the pings and the stats call itself) is what the call held the lock for.
        # A `stats` call holds the lock itself (it walks the generation lists): measured alone,
        # then taken off each row.
        a = c.call("stats")["serial"]
        b = c.call("stats")["serial"]
        own = (b["ns"] - a["ns"]) / 1e6
        print(f"(a stats call holds the lock {own:.1f} ms; taken off the 'in lock' column)")
        built_longest = c.call("stats")["serial"].get("longest_ns", 0) / 1e6
        print(f"{'method':<28}{'seconds':>10}{'in lock ms':>12}{'max ping ms':>14}")
        for label, method, params in rows:
            if "after a change" in label:  # one field set: the cached graph is stale
                c.call("set", id=made[1], fields={"tag": made[2]})
            if method in ("referrers", "inspect"):  # the index the graph methods' captures left
                index = c.call("stats")["graph"].get("referrer_index", {})
            pinger.window()
            before = c.call("stats")["serial"]
            t = time.perf_counter()
            c.call(method, **params)
            dt = time.perf_counter() - t
            after = c.call("stats")["serial"]
            held = max(0.0, (after["ns"] - before["ns"]) / 1e6 - own)
            time.sleep(0.01)
            note = ""
            if method in ("referrers", "inspect") and index:
                indexed = c.call("stats")["graph"]["referrer_index"]["indexed"] > index["indexed"]
                note = "  (index)" if indexed else "  (a pass over the objects)"
            print(f"{label:<28}{dt:>10.4f}{held:>12.1f}{pinger.window() * 1000:>14.1f}{note}")
        # More new objects than the index follows (max(4096, slots/256) changed slots): the
        # next holder list is a pass over the objects, and starts a new index in the background.
        limit = max(4096, objects // 256)
        for start in range(0, limit + 1000, 3000):
            c.call("apply", ops=[["alloc", "Late", 8] for _ in range(3000)])
        for label, wait in (("referrers (a pass)", False), ("referrers (index rebuilt)", True)):
            index = c.call("stats")["graph"]["referrer_index"]
            deadline = time.time() + 120
            while wait and not (c.call("stats")["graph"]["referrer_index"]["kept"] or time.time() > deadline):
                time.sleep(0.1)
            index = c.call("stats")["graph"]["referrer_index"]
            pinger.window()
            before = c.call("stats")["serial"]
            t = time.perf_counter()
            c.call("referrers", id=made[0])
            dt = time.perf_counter() - t
            after = c.call("stats")["serial"]
            held = max(0.0, (after["ns"] - before["ns"]) / 1e6 - own)
            indexed = c.call("stats")["graph"]["referrer_index"]["indexed"] > index["indexed"]
            note = "  (index)" if indexed else "  (a pass over the objects)"
            print(f"{label:<28}{dt:>10.4f}{held:>12.1f}{pinger.window() * 1000:>14.1f}{note}")
        print(f"daemon RSS at the end: {rss_mib(d.proc.pid):.0f} MiB")
        # stats.serial.longest_ns is the longest single hold since start (older daemons: absent).
        longest = c.call("stats")["serial"].get("longest_ns", 0) / 1e6
        print(f"longest single lock hold: {built_longest:.1f} ms by the end of the build, "
              f"{longest:.1f} ms by the end of the calls")
        storage = c.call("stats").get("storage")  # older daemons: absent
        if storage:
            print(f"arrays grown ahead of need: {storage['grown_ahead']} times, "
                  f"{storage['copied_bytes'] / 2**20:.0f} MiB copied under the lock")
        pinger.stop = True
        pinger.join()
    finally:
        d.stop()


if __name__ == "__main__":
    main()

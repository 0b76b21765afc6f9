#!/usr/bin/env python3
"""What other clients wait for when the journal is compacted into a snapshot, on a big heap.

Builds the inspection benchmark's heap (`inspection_bench.build`: a chain with random back edges
and 10% garbage cycles) through `apply` in a private `heapd` with a data directory, `--fsync no`
and `--compact-after` just above the build's journal, so that no compaction runs during the
build. Then, while a second client pings in a loop, one client writes (`set` with 4 KB of data)
until the journal passes the threshold and the compaction it starts has finished. Prints the
longest lock hold (`stats.serial.longest_ns`) and the longest ping before and after: the first
write after a compaction starts is where a heap that shares its storage with the snapshot being
written copies its arrays.

With `--data`, the heap is instead N objects with data (`{"name": ..., "v": ...}`), allocated
by one session in JSON-RPC batches of `allocate` and all still held by it: the dictionaries of
objects' data and of the session's references then grow to N entries.

Usage: Benchmarks/compaction_pause.py [--objects 1000000] [--data]   (build first: make build)
"""
import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "integration"))
from heapd_harness import Daemon  # noqa: E402
from inspection_bench import Pinger, build, rss_mib  # noqa: E402

# Journal bytes the builds write per object (measured: about 44 and 47 MiB per million objects).
JOURNAL_PER_OBJECT = 52


def build_with_data(c, n):
    """N objects with data, held by the caller's session; their ids."""
    ids, next_id = [], 1
    for start in range(0, n, 2000):
        k = min(2000, n - start)
        c.send([{"jsonrpc": "2.0", "id": next_id + j, "method": "allocate",
                 "params": {"type": "Record", "data": {"name": f"r{start + j}", "v": j}}} for j in range(k)])
        next_id += k
        ids += [reply["result"]["id"] for reply in c.read_message()]
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--data", action="store_true", help="objects with data, all held by one session")
    args = ap.parse_args()
    threshold = int(args.objects * JOURNAL_PER_OBJECT) + (4 << 20)
    d = Daemon("--fsync", "no", "--compact-after", str(threshold))
    try:
        c = d.client()
        c.call("gc.set", enabled=False)
        t = time.perf_counter()
        made = build_with_data(c, args.objects) if args.data else build(c, args.objects, random.Random(1))
        stats = c.call("stats")
        p = stats["persistence"]
        print(f"built {stats['objects']} objects in {time.perf_counter() - t:.1f} s; daemon RSS "
              f"{rss_mib(d.proc.pid):.0f} MiB; journal {p['journal_bytes'] / 2**20:.0f} MiB, "
              f"compaction after {threshold / 2**20:.0f} MiB; last snapshot: {p['last_snapshot']}")
        print(f"longest lock hold during the build: {stats['serial']['longest_ns'] / 1e6:.1f} ms")
        pinger = Pinger(d.client())
        pinger.start()
        time.sleep(0.3)
        pinger.window()
        before = p["last_snapshot"]
        t = time.perf_counter()
        writes = 0
        while time.perf_counter() - t < 300:
            c.call("set", id=made[-1], data="x" * 4000 + str(writes))
            writes += 1
            p = c.call("stats")["persistence"]
            if p["last_snapshot"] != before and not p["compacting"]:
                break
        stats = c.call("stats")
        print(f"compaction done {time.perf_counter() - t:.1f} s and {writes} writes later "
              f"(snapshot {p['snapshot_bytes'] / 2**20:.0f} MiB)")
        print(f"longest ping meanwhile: {pinger.window() * 1000:.1f} ms; longest lock hold now: "
              f"{stats['serial']['longest_ns'] / 1e6:.1f} ms; storage: {stats.get('storage')}")
        pinger.stop = True
        pinger.join()
    finally:
        d.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`export` of a big heap to a .heapsnapshot file, end to end through the protocol (SPEC §5).

Builds, in a private `heapd --memory`, a heap of N objects through `apply` (4 ops per object in
one request per batch: a chain through `next`, one random earlier object per node in `other`,
the session holding only the newest node), plus 10% of them as unreachable two-object cycles
(live garbage). Then exports it to a file in a temp directory and reports: the time the client
waits, the time spent holding the heap's lock (`stats.serial` before and after: the export view),
the longest ping another client saw meanwhile, the bytes, nodes and edges written, and the
daemon's peak resident memory (VmHWM) before and after.

Not part of `make test`. Usage: Benchmarks/export_bench.py [--objects 1000000] [--keep]
(build first: swift build -c release)
"""
import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "integration"))
from heapd_harness import Daemon  # noqa: E402


def status_mib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class Pinger(threading.Thread):
    """Pings in a loop on its own connection; `worst` is the longest round trip."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client, self.worst, self.stop = client, 0.0, False

    def run(self):
        while not self.stop:
            t = time.perf_counter()
            self.client.call("ping")
            self.worst = max(self.worst, time.perf_counter() - t)
            time.sleep(0.001)


def build(c, n, rng, batch=2400):  # apply takes at most 10,000 ops: 4 per object
    chain = int(n * 0.9)
    prev, made = None, 0
    while made < chain:
        k = min(batch, chain - made)
        ops = [["alloc", "Node", 16]] * k
        for j in range(k):
            if j or prev is not None:
                ops.append(["set", f"${j}", "next", f"${j - 1}" if j else prev])
            ops.append(["set", f"${j}", "other", f"${rng.randrange(j + 1)}"])
        if prev is not None:
            ops.append(["unref", prev])
        ops += [["unref", f"${j}"] for j in range(k - 1)]
        prev = c.call("apply", ops=ops)["results"][k - 1]
        made += k
    pairs = (n - chain) // 2
    for start in range(0, pairs, batch // 2):
        k = min(batch // 2, pairs - start)
        ops = [["alloc", "Garbage", 8]] * (2 * k)
        for j in range(k):
            a, b = f"${2 * j}", f"${2 * j + 1}"
            ops += [["set", a, "peer", b], ["set", b, "peer", a]]
        ops += [["unref", f"${j}"] for j in range(2 * k)]
        c.call("apply", ops=ops)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the .heapsnapshot (its path is printed)")
    args = ap.parse_args()
    out_dir = tempfile.mkdtemp(prefix="heapd-export-bench-")
    d = Daemon("--memory")
    try:
        c = d.client()
        c.call("gc.set", enabled=False)
        t = time.perf_counter()
        build(c, args.objects, random.Random(args.seed))
        objects = c.call("stats")["objects"]
        pid = d.proc.pid
        print(f"built {objects} objects in {time.perf_counter() - t:.1f} s; daemon RSS "
              f"{status_mib(pid, 'VmRSS'):.0f} MiB, peak (VmHWM) {status_mib(pid, 'VmHWM'):.0f} MiB")
        pinger = Pinger(d.client())
        pinger.start()
        time.sleep(0.05)
        path = os.path.join(out_dir, "heap.heapsnapshot")
        serial = c.call("stats").get("serial", {})
        t = time.perf_counter()
        r = c.call("export", format="heapsnapshot", path=path)
        dt = time.perf_counter() - t
        serial_after = c.call("stats").get("serial", {})
        pinger.stop = True
        pinger.join()
        assert r["bytes"] == os.path.getsize(path)
        print(f"export: {dt:.2f} s, {r['bytes']:,} bytes ({r['bytes'] / 2**20:.0f} MiB, "
              f"{r['bytes'] / max(objects, 1):.1f} per object), {r['nodes']:,} nodes, {r['edges']:,} edges")
        held = (serial_after.get("ns", 0) - serial.get("ns", 0)) / 1e6
        print(f"heap lock held: {held:.1f} ms (stats.serial over the export, the stats calls and "
              f"{serial_after.get('requests', 0) - serial.get('requests', 0) - 2} pings)")
        print(f"longest ping from another client during the export: {pinger.worst * 1000:.1f} ms")
        print(f"daemon RSS after {status_mib(pid, 'VmRSS'):.0f} MiB, peak (VmHWM) {status_mib(pid, 'VmHWM'):.0f} MiB")
        if args.keep:
            print(f"kept {path}")
    finally:
        d.stop()
        if not args.keep:
            shutil.rmtree(out_dir)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Snapshots, diffs and the heap-snapshot export on a big heap, end to end (SPEC §5; issue 13).

Builds N objects in a private `heapd --data DIR --fsync no` with the heap of
`inspection_bench.py` (a chain with random back edges, 10% live garbage in two-object cycles),
then times, as a client sees them: `snapshot.save`, a change of 20% of the heap (the garbage
collected, as many new objects allocated), a second save, `snapshot.diff` between the two and
against the heap now, `snapshot.leaks`, and `export` to a file when the daemon has it. For each:
seconds, the longest `ping` another client saw meanwhile (the time the heap's lock was held, as
others feel it), the daemon's resident memory after and its peak (VmHWM), and bytes written.

Usage: Benchmarks/snapshot_bench.py [--objects 1000000] [--seed 1]   (build first: make build)
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "integration"))
sys.path.insert(0, HERE)
from heapd_harness import Daemon  # noqa: E402
from inspection_bench import build  # noqa: E402

PINGER = """
import select, sys, time
sys.path.insert(0, sys.argv[1])
from heapd_harness import Client
c = Client(sys.argv[2])
out = []
while not select.select([sys.stdin], [], [], 0)[0]:   # until the benchmark writes "stop"
    t = time.time()
    c.call("ping")
    out.append((t, time.time() - t))
    time.sleep(0.001)
print("\\n".join(f"{a} {b}" for a, b in out))
"""


class ProcessPinger:
    """Pings from another process (so the benchmark's own Python cannot delay it): the longest
    round trip that overlapped a window is the pause other clients saw."""

    def __init__(self, socket):
        harness = os.path.join(HERE, "..", "Tests", "integration")
        self.proc = subprocess.Popen([sys.executable, "-c", PINGER, harness, socket],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def finish(self):
        out, _ = self.proc.communicate("stop\n", timeout=60)
        self.pings = [tuple(map(float, line.split())) for line in out.splitlines() if line.strip()]

    def worst(self, start, end):
        return max((d for t, d in self.pings if t < end and t + d > start), default=0.0)


def memory_mib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024
    return out["VmRSS"], out["VmHWM"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="heapd-snapbench-")
    d = Daemon("--data", os.path.join(tmp, "data"), "--fsync", "no", directory=tmp)
    snapshots = os.path.join(tmp, "data", "snapshots")
    try:
        c = d.client()
        c.call("gc.set", enabled=False)
        t = time.perf_counter()
        build(c, args.objects, rng)
        objects = c.call("stats")["objects"]
        rss, hwm = memory_mib(d.proc.pid)
        print(f"built {objects} objects in {time.perf_counter() - t:.1f} s; daemon RSS {rss:.0f} MiB, peak {hwm:.0f} MiB")
        methods = {m["name"] for m in c.call("rpc.discover")["methods"]}
        pinger = ProcessPinger(d.socket)
        time.sleep(0.3)
        rows = []

        def step(label, method, written=None, **params):
            start = time.time()
            result = c.call(method, **params)
            end = time.time()
            rss, hwm = memory_mib(d.proc.pid)
            size = written(result) if written else None
            rows.append((label, start, end, rss, hwm, f"{size:,} B" if size is not None else ""))
            time.sleep(0.05)
            return result

        def file_size(name):
            return lambda _: os.path.getsize(os.path.join(snapshots, name + ".census"))

        step("snapshot.save s1", "snapshot.save", file_size("s1"), name="s1")
        # Change a fifth of the heap: the garbage cycles go, as many new objects come.
        t = time.perf_counter()
        freed = c.call("collect")["collected"]
        made = 0
        while made < freed:
            k = min(3000, freed - made)
            ids = c.call("apply", ops=[["alloc", "Fresh", 24] for _ in range(k)])["results"]
            made += len(ids)
        print(f"(changed: {freed} freed, {made} allocated in {time.perf_counter() - t:.1f} s)")
        step("snapshot.save s2", "snapshot.save", file_size("s2"), name="s2")
        r = step("snapshot.diff s1 s2", "snapshot.diff", **{"from": "s1", "to": "s2"})
        assert (r["new"]["count"], r["freed"]["count"]) == (made, freed), r["new"]["count"]
        step("snapshot.diff s1 (now)", "snapshot.diff", **{"from": "s1"})
        step("snapshot.leaks s1 s2 (now)", "snapshot.leaks", first="s1", second="s2")
        if "export" in methods:
            path = os.path.join(tmp, "heap.heapsnapshot")
            step("export (file)", "export", lambda r: r["bytes"], format="heapsnapshot", path=path)
        pinger.finish()
        print(f"{'step':<28}{'seconds':>9}{'max ping ms':>13}{'RSS MiB':>9}{'peak MiB':>10}{'written':>16}")
        for label, start, end, rss, hwm, shown in rows:
            worst = pinger.worst(start, end) * 1000
            print(f"{label:<28}{end - start:>9.3f}{worst:>13.1f}{rss:>9.0f}{hwm:>10.0f}{shown:>16}")
    finally:
        d.stop()
        for root, dirs, files in os.walk(tmp, topdown=False):
            for f in files:
                os.unlink(os.path.join(root, f))
            for x in dirs:
                os.rmdir(os.path.join(root, x))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()

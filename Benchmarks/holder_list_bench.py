#!/usr/bin/env python3
"""`referrers` and `inspect` on an object with N holders (a hub), through the protocol.

Builds, in a private `heapd --memory`, one `Hub` object and N `H` objects (held by the session)
whose field `x` holds it; then calls `referrers` and `inspect` on the hub twice each and prints
the time each took end to end and the time the daemon spent inside the heap's lock meanwhile
(`stats.serial`; it includes the slices of a referrer index captured in the background, which
the first holder list on a big heap starts), and how many holder lists the index answered.

Usage: Benchmarks/holder_list_bench.py [--holders 1000000]   (build first: make build)
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "integration"))
from heapd_harness import Daemon  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holders", type=int, default=1_000_000)
    args = ap.parse_args()
    d = Daemon("--memory")
    try:
        c = d.client()
        c.call("gc.set", enabled=False)
        hub = c.call("allocate", type="Hub")["id"]
        for _ in range(0, args.holders, 5000):
            ids = c.call("apply", ops=[["alloc", "H"] for _ in range(5000)])["results"]
            c.call("apply", ops=[["set", i, "x", hub] for i in ids])
        print(f"{'method':<12}{'seconds':>10}{'in lock ms':>12}  answered by the index so far")
        for method in ("referrers", "inspect", "referrers", "inspect"):
            before = c.call("stats")["serial"]["ns"]
            t = time.perf_counter()
            c.call(method, id=hub)
            dt = time.perf_counter() - t
            held = (c.call("stats")["serial"]["ns"] - before) / 1e6
            indexed = c.call("stats")["graph"]["referrer_index"]["indexed"]
            print(f"{method:<12}{dt:>10.3f}{held:>12.1f}  {indexed}")
    finally:
        d.stop()


if __name__ == "__main__":
    main()

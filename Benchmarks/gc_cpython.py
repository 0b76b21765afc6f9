"""CPython side of the collector benchmark: the same graphs as heapd-gcbench builds in heapd's
core, from __slots__ objects, timed around one gc.collect().

Usage: python3 gc_cpython.py live|cycles|held N SEED  -> prints one JSON line
(held: the cycles and one live object, so that not every object collected is garbage)
"""
import gc
import json
import random
import sys
import time


class Node:
    __slots__ = ("next", "other")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def build_live(n, rng):
    """A chain head -> ... -> tail where each node also points at a random older node."""
    nodes = []
    nxt = None
    for i in range(n):
        node = Node()
        node.next = nxt
        node.other = nodes[rng.randrange(len(nodes))] if nodes else None
        nodes.append(node)
        nxt = node
    head = nxt
    del nodes
    return head


def build_cycles(n):
    """n/2 unreferenced 2-cycles."""
    for _ in range(n // 2):
        a = Node()
        b = Node()
        a.next = b
        b.next = a
        a.other = None
        b.other = None


def main():
    kind, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    gc.disable()
    gc.collect()
    gc.freeze()  # the interpreter's own objects are not part of the measured heap
    rng = random.Random(seed)
    before = rss_bytes()
    keep = build_live(n, rng) if kind == "live" else build_cycles(n)
    if kind == "held":
        keep = Node()
    after = rss_bytes()
    t0 = time.perf_counter_ns()
    found = gc.collect()
    elapsed = time.perf_counter_ns() - t0
    print(json.dumps({"objects": n, "collect_ns": elapsed, "unreachable": found,
                      "rss_bytes": after - before}))
    del keep


if __name__ == "__main__":
    main()

"""Seeded random operation sequences, run differentially; on the first divergence the sequence is
shrunk (delta debugging over the op list) and printed as a runnable reproducer.

Environment: HEAPD_DIFF_SEED (default 20251126), HEAPD_DIFF_OPS (total over all runs, default
20000), HEAPD_DIFF_RUNS (default 8), HEAPD_DIFF_SHRINK_S (time budget for shrinking, default 300),
HEAPD_DIFF_STRICT=1 (no tolerance for known divergences, see KNOWN_TOLERANCES).

Replay a reproducer:  python3 Tests/differential/random_ops.py --replay '[["alloc", ...], ...]'
(or --replay FILE); prints every step of both sides and the first divergence.

At most CAP objects are alive at any time, so no reference chain is deeper than CAP: 3.11's
trashcan changes sibling order only below depth ~48 (CPYTHON-GC.md §4.4), which heapd does
not emulate (scenario s32).
"""
import collections
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffcore  # noqa: E402
from diffcore import Runner, format_ops  # noqa: E402

CAP = 40
TYPES = {"P": False, "Q": False, "F": True, "G": True}
FIELDS = ("a", "b", "c", "d")
WFIELDS = diffcore.WREF_FIELDS

# Known heapd divergences (each has a strict xfail scenario) that random runs tolerate unless
# HEAPD_DIFF_STRICT=1, so that they do not hide new ones: op kind -> how its events compare.
KNOWN_TOLERANCES = {
    # (none at present; s28c's gc.garbage.clear order was fixed to CPython's last-to-first)
}


def strict_mode():
    return os.environ.get("HEAPD_DIFF_STRICT") == "1"


def settings():
    return (int(os.environ.get("HEAPD_DIFF_SEED", "20251126")),
            int(os.environ.get("HEAPD_DIFF_OPS", "20000")),
            max(1, int(os.environ.get("HEAPD_DIFF_RUNS", "8"))),
            float(os.environ.get("HEAPD_DIFF_SHRINK_S", "300")))


class Generator:
    """Chooses the next operation from the mirrored state (only meaningful operations)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.n = 0
        self.saveall = False
        self.plan = []

    def fresh(self, prefix):
        self.n += 1
        return "%s%d" % (prefix, self.n)

    def pick(self, seq):
        seq = sorted(seq) if isinstance(seq, (set, frozenset)) else list(seq)
        if not seq:
            return None
        # Prefer recent objects a little: more structure among live objects.
        i = min(len(seq) - 1, int(len(seq) * (1 - self.rng.random() ** 1.5)))
        return seq[i] if self.rng.random() < 0.5 else self.rng.choice(seq)

    @staticmethod
    def predecessors(m, x):
        back = collections.defaultdict(set)
        for a, fs in m.fields.items():
            for b in fs.values():
                back[b].add(a)
        seen, stack = set(), [x]
        while stack:
            for p in back[stack.pop()]:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen & m.alive

    def burst(self, m, alive):
        """A small structure with a cycle, built and then orphaned over the next steps (with
        random operations interleaved), so cyclic garbage appears in every generation."""
        rng = self.rng
        k = rng.randint(1, 4)
        names = [self.fresh("o") for _ in range(k)]
        plan = []
        for n in names:
            t = rng.choice(sorted(TYPES))
            plan.append(["alloc", n, t, TYPES[t]])
        for i, n in enumerate(names):
            plan.append(["set", n, rng.choice(FIELDS), names[(i + 1) % k]])
        if alive and rng.random() < 0.4:
            plan.append(["set", rng.choice(names), rng.choice(FIELDS), self.pick(alive)])
        if rng.random() < 0.5:
            w = self.fresh("w")
            plan.append(["weakref", w, rng.choice(names), rng.random() < 0.8])
            if rng.random() < 0.4:
                plan.append(["set", rng.choice(names), rng.choice(FIELDS), w])
            plan.append(["unref", w] if rng.random() < 0.5 else ["collect", rng.randint(0, 2)])
        reach = sorted(m.reachable() & m.alive, key=lambda n: int(n[1:]))
        hook = None
        if reach and rng.random() < 0.3:
            hook = [self.pick(reach), rng.choice(FIELDS)]
            plan.append(["set", hook[0], hook[1], names[0]])
        rng.shuffle(names)
        plan.extend(["unref", n] for n in names)
        if hook and rng.random() < 0.7:
            plan.append(["set", hook[0], hook[1], None])
        self.plan = plan

    def garbage_burst(self, m):
        """Edit objects saved in gc.garbage (weakrefs to them, cut their fields), then clear it:
        what dies then dies in gc.garbage's release order."""
        rng = self.rng
        saved = [n for n in m.garbage if n in m.alive]
        plan = []
        for n in rng.sample(saved, min(len(saved), rng.randint(1, 3))):
            if rng.random() < 0.8:
                w = self.fresh("w")
                plan += [["weakref", w, n, True], ["set", n, rng.choice(FIELDS if m.kind[n][0] == "obj" else WFIELDS), w]
                         if rng.random() < 0.2 else ["collect", 0]]
            plan += [["set", n, f, None] for f in sorted(m.fields.get(n, {}))]
        plan.append(["garbage_clear"])
        self.plan = plan

    def next_op(self, m):
        rng = self.rng
        while self.plan and rng.random() < 0.8:
            op = self.plan.pop(0)
            if op[0] in ("alloc", "weakref") and len(m.alive) >= CAP:
                continue     # keep under CAP; the plan's later steps on it become no-ops
            if m.valid(op):
                return op
        alive = sorted(m.alive, key=lambda n: int(n[1:]))
        full = len(alive) >= CAP
        held = [n for n, c in m.held.items() if c > 0]
        weights = {
            "alloc": 0 if full else 14, "set": 30, "unlink": 14 if full else 9,
            # The session drops references about as fast as it takes them, so most objects
            # soon live only through fields: garbage cycles form and die as in real programs.
            "unref": 4 + 3 * len(held) + (20 if full else 0),
            "ref": 0 if full else 3, "weakref": 0 if full else 7, "collect": 14 if full else 8,
            "root": 4, "saveall": 1.5, "garbage_clear": 6 if m.garbage else 0,
            "freeze": 0.6, "unfreeze": 6 if full else 1.0,
            "burst": 0 if full or len(alive) > CAP - 6 or self.plan else 6,
            "garbage_burst": 3 if m.garbage and not self.plan and not full else 0,
        }
        while True:
            kind = rng.choices(list(weights), list(weights.values()))[0]
            op = self._make(kind, m, alive, held)
            if op is not None and m.valid(op):
                return op

    def _make(self, kind, m, alive, held):
        rng = self.rng
        if kind in ("burst", "garbage_burst"):
            self.burst(m, alive) if kind == "burst" else self.garbage_burst(m)
            return self.plan.pop(0)
        if kind == "alloc":
            t = rng.choice(sorted(TYPES))
            op = ["alloc", self.fresh("o"), t, TYPES[t]]
            if alive and rng.random() < 0.3:
                fs = rng.sample(FIELDS, rng.randint(1, 2))
                op.append([[f, self.pick(alive)] for f in fs])
            return op
        if kind in ("set", "unlink"):
            pool = m.reachable() & m.alive if rng.random() < 0.8 else m.alive
            x = self.pick(sorted(pool, key=lambda n: int(n[1:])))
            if x is None:
                return None
            isw = m.kind[x][0] == "weakref"
            if kind == "unlink" or rng.random() < 0.2:
                have = sorted(m.fields.get(x, {}))
                f = rng.choice(have) if have else rng.choice(WFIELDS if isw else FIELDS)
                return ["set", x, f, None]
            value = self.pick(alive)
            if rng.random() < 0.5:
                # Close a cycle: point x back at something that (transitively) refers to x.
                preds = self.predecessors(m, x)
                if preds:
                    value = self.pick(sorted(preds, key=lambda n: int(n[1:])))
            return ["set", x, rng.choice(WFIELDS if isw else FIELDS), value]
        if kind == "unref":
            x = self.pick(sorted(held, key=lambda n: int(n[1:])))
            return None if x is None else ["unref", x]
        if kind == "ref":
            x = self.pick(alive)
            return None if x is None else ["ref", x]
        if kind == "weakref":
            x = self.pick(alive)
            if x is None:
                return None
            op = ["weakref", self.fresh("w"), x, rng.random() < 0.7]
            if rng.random() < 0.25:
                fs = rng.sample(WFIELDS, rng.randint(1, 2))
                op.append([[f, self.pick(alive)] for f in fs])
            return op
        if kind == "collect":
            return ["collect", rng.choices([0, 1, 2], [5, 3, 2])[0]]
        if kind == "root":
            r = "r%d" % rng.randint(1, 3)
            if r in m.roots and rng.random() < 0.6:
                return ["root", r, None]
            x = self.pick(alive)
            return None if x is None else ["root", r, x]
        if kind == "saveall":
            self.saveall = not self.saveall
            return ["saveall", self.saveall]
        if kind == "garbage_clear":
            return ["garbage_clear"]
        if kind in ("freeze", "unfreeze"):
            return [kind]
        raise ValueError(kind)


def tolerant_compare(strict):
    """diffcore.compare, with KNOWN_TOLERANCES applied unless strict."""
    base = diffcore.compare

    def compare(op, cp, hd):
        diffs = base(op, cp, hd)
        if strict or KNOWN_TOLERANCES.get(op[0]) != "multiset":
            return diffs
        out = []
        for d in diffs:
            if d.startswith("events (sequence)") and collections.Counter(cp["ev"]) == collections.Counter(hd["ev"]):
                compare.tolerated += 1
                continue
            out.append(d)
        return out
    compare.tolerated = 0
    return compare


class RandomRun:
    def __init__(self, seed, count, strict=False):
        self.seed, self.count, self.strict = seed, count, strict
        self.ops = []
        self.stats = {}

    def run(self):
        """Generates and runs `count` ops in lockstep; returns None or (ops-up-to-divergence, diffs)."""
        gen = Generator(self.seed)
        cmp = tolerant_compare(self.strict)
        r = Runner(cmp)
        try:
            for _ in range(self.count):
                op = gen.next_op(r.mirror)
                self.ops.append(op)
                try:
                    diffs = r.step(op)
                except Exception as e:
                    diffs = ["exception: %r" % (e,)]
                if diffs:
                    problems = r.finish()
                    return self.ops, diffs + problems
        finally:
            self.stats = {"steps": r.steps, "collects": r.collects,
                          "collect_order_equal": r.collect_order_equal, "tolerated": cmp.tolerated}
            self.stats.update(r.coverage)
        problems = r.finish()
        return (self.ops, problems) if problems else None


def replay(ops, strict=False, verbose=False):
    """Runs ops on fresh processes: (divergence or None, problems)."""
    r = Runner(tolerant_compare(strict))
    try:
        for i, op in enumerate(ops):
            diffs = r.step(op)
            if verbose and r.last and r.last[0] is op:
                print("%4d %-45s cpython %s\n%4s %-45s heapd   %s" % (i, json.dumps(op), r.last[1], "", "", r.last[2]))
            elif verbose and diffs is None:
                print("%4d %-45s (skipped: not meaningful here)" % (i, json.dumps(op)))
            if diffs:
                return (i, op, diffs), r.finish()
    except Exception as e:  # an RPC error or a dead process is a divergence too
        return (i, op, ["exception: %r" % (e,)]), r.finish()
    return None, r.finish()


def fails(ops, strict=False):
    div, problems = replay(ops, strict)
    return bool(div or problems)


def names_of(op):
    """The logical objects an op mentions (empty for gc-wide ops)."""
    k = op[0]
    if k == "alloc":
        return {op[1]} | {v for _, v in (op[4] if len(op) > 4 else [])}
    if k in ("ref", "unref"):
        return {op[1]}
    if k == "set":
        return {op[1]} | ({op[3]} if op[3] is not None else set())
    if k == "weakref":
        return {op[1], op[2]} | {v for _, v in (op[4] if len(op) > 4 else [])}
    if k == "root":
        return {op[2]} if op[2] is not None else set()
    return set()


def _ddmin(items, test, deadline):
    """Classic ddmin over complements: the smallest list found for which test() holds."""
    n = 2
    while len(items) >= 2 and time.time() < deadline:
        chunk = -(-len(items) // n)
        for start in range(0, len(items), chunk):
            if time.time() > deadline:
                return items
            cand = items[:start] + items[start + chunk:]
            if cand and test(cand):
                items = cand
                n = max(n - 1, 2)
                break
        else:
            if n >= len(items):
                break
            n = min(len(items), 2 * n)
    return items


def shrink(ops, strict=False, budget_s=300.0, test=None):
    """Delta debugging: first over object names (dropping every op that mentions a name), then
    over single ops, then one op at a time."""
    test = test or (lambda cand: fails(cand, strict))
    deadline = time.time() + budget_s
    names = sorted(set().union(*map(names_of, ops)))

    def keep_names(kept):
        kept = set(kept)
        return [op for op in ops if names_of(op) <= kept]

    kept = _ddmin(names, lambda cand: test(keep_names(cand)), deadline)
    ops = keep_names(kept)
    ops = _ddmin(ops, test, deadline)
    i = 0
    while i < len(ops) and time.time() < deadline:
        cand = ops[:i] + ops[i + 1:]
        if cand and test(cand):
            ops = cand
        else:
            i += 1
    return ops


def reproducer(ops, strict=False):
    div, problems = replay(ops, strict)
    lines = ["minimal reproducer (%d ops):" % len(ops), format_ops(ops)]
    if div:
        lines.append("diverges at op %d %s: %s" % (div[0], json.dumps(div[1]), "; ".join(div[2])))
    if problems:
        lines.append("problems: %s" % problems)
    lines.append("replay: python3 Tests/differential/random_ops.py --replay '%s'" % json.dumps(ops))
    return "\n".join(lines)


def main(argv):
    if len(argv) >= 2 and argv[0] == "--replay":
        text = argv[1]
        if os.path.exists(text):
            with open(text) as f:
                text = f.read()
        ops = json.loads(text)
        div, problems = replay(ops, strict_mode(), verbose=True)
        print("divergence:", div)
        print("problems:", problems)
        return 1 if div or problems else 0
    seed, total, runs, budget = settings()
    per = -(-total // runs)
    for i in range(runs):
        rr = RandomRun(seed * 1000 + i, per, strict=strict_mode())
        res = rr.run()
        print("run %d seed %d: %s %s" % (i, seed * 1000 + i, "DIVERGED" if res else "ok", rr.stats))
        if res:
            small = shrink(res[0], strict=strict_mode(), budget_s=budget)
            print(reproducer(small, strict_mode()))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

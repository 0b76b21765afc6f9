"""Seeded random operation sequences, run differentially; on the first divergence the sequence is
shrunk (delta debugging over the op list) and printed as a runnable reproducer.

Environment: HEAPD_DIFF_SEED (default 20251126), HEAPD_DIFF_OPS (total over all runs, default
20000), HEAPD_DIFF_RUNS (default 8), HEAPD_DIFF_SHRINK_S (time budget for shrinking, default 300),
HEAPD_DIFF_STRICT=1 (no tolerance for known divergences, see KNOWN_TOLERANCES),
HEAPD_DIFF_PENDING: the gates, a comma list of the operation families below that random runs
generate. Unset: DEFAULT_PENDING (trashcan,faileddel,applyauto: what heapd implements);
set, exactly the flags it names ("none" or empty: none of them), e.g.
HEAPD_DIFF_PENDING=trashcan,faileddel,applyauto,sharedkeys to add the shared-keys limit.
  trashcan    (on) reference chains deeper than 44 (deep-chain bursts up to 120 objects, no
              depth bound on other edges): 3.11's trashcan (deferral past nesting 50, LIFO
              drain) reorders deallocations there; heapd emulates it exactly
  faileddel   (on) `del x.f` of an absent field, also as a failing `set` to None inside `apply`:
              3.11 raises AttributeError after interning the name; heapd refuses it with -32015
              (no-such-field) and interns the name the same way
  applyauto   (on) plain `apply` batches during which an automatic collection can fall due:
              heapd collects where the single ops would (inside the allocation crossing
              threshold 0), as CPython does. Atomic batches stay excluded from it even with
              the gate on: heapd holds the collection to the end of an atomic batch (its
              documented deviation, Protocol/README.md "Bulk: apply"), so an atomic batch is
              generated only if no automatic collection can fall due in it (collector off,
              threshold 0 zero, or count0 + the batch's allocations <= threshold 0)
  sharedkeys  (off) more than 29 distinct field names per class, and new names after the
              class's shared keys are exhausted by instances: 3.11 then materialises an own
              __dict__. Not exact in heapd, by its documented deviations (docs/shared-keys.md):
              the dict has no place of its own in the generation lists (survivor and
              finalizer order in later collections differ; a dict younger than its object is
              cleared at its own place in collect 2), gc.garbage under SAVEALL would hold the
              dict in 3.11, and count0: 3.11 counts a new dict only when the dict free list is
              empty (and a freed one when it is full), heapd never. With the gate off the
              Mirror refuses every op that would make an own dict.

Each run follows a profile (PROFILES, by run index): CAP (most live objects at once, 40 to
600), automatic collection on or off with small or negative thresholds, deep-chain bursts.

Replay a reproducer:  python3 Tests/differential/random_ops.py --replay '[["alloc", ...], ...]'
(or --replay FILE); prints every step of both sides and the first divergence.

With `trashcan` off, no edge is added that could make a deallocation cascade deeper than
MAX_DEPTH (a bound: the longest path over strongly connected components weighted by their
size): 3.11's trashcan changes sibling order only below depth ~48 (CPYTHON-GC.md §4.4).

Compared after every step (diffcore.compare): events as exact sequences, the objects freed,
gc.get_count() and gc.get_stats() exactly (also with automatic collection on), collect()'s
return, gc.garbage in list order, referrers (gc.get_referrers' holders; heapd's order: by
generation, then id), refused deletes, an apply's failed ops and live object count.
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
PLAIN_TYPES = ("P", "Q")          # apply's alloc has no finalizer
FIELDS = tuple("f%02d" % i for i in range(40))    # names per type: up to 29, or 40 with sharedkeys
WFIELDS = diffcore.WREF_FIELDS
MAX_DEPTH = 44
# At most this many live weakrefs to one object: a refcount death with k weakrefs (the model's
# probe included) builds a 2k-tuple in PyObject_ClearWeakRefs, from the tuple free list only
# below 20 items; a GC-allocated one would count in count0 (and could trigger a collection).
MAX_WEAKREFS = 8

PENDING_FLAGS = ("trashcan", "sharedkeys", "faileddel", "applyauto")
# The gates on when HEAPD_DIFF_PENDING is unset: the heapd changes main implements (the keys and
# trash branches). sharedkeys stays off: see the module docstring.
DEFAULT_PENDING = ("trashcan", "faileddel", "applyauto")

# Per run (index modulo len): most live objects, automatic collection, thresholds to draw from.
PROFILES = [
    {"cap": 40, "auto": False},
    {"cap": 40, "auto": True, "t0": (1, 25), "t1": (1, 4), "t2": (0, 3), "neg": 0.1},
    {"cap": 500, "auto": True, "t0": (5, 60), "t1": (1, 8), "t2": (1, 5), "neg": 0.05, "chains": True},
    {"cap": 400, "auto": False, "chains": True},
    {"cap": 60, "auto": True, "t0": (1, 10), "t1": (0, 3), "t2": (0, 2), "neg": 0.35},
    {"cap": 600, "auto": True, "t0": (3, 40), "t1": (1, 10), "t2": (1, 10), "neg": 0.05, "chains": True},
    {"cap": 120, "auto": True, "t0": (8, 150), "t1": (2, 10), "t2": (2, 10), "neg": 0.0},
    {"cap": 300, "auto": True, "t0": (3, 60), "t1": (1, 5), "t2": (1, 4), "neg": 0.1, "chains": True},
]


def pending():
    """The gates that are on: HEAPD_DIFF_PENDING if set ("none": no gate), else DEFAULT_PENDING."""
    raw = os.environ.get("HEAPD_DIFF_PENDING")
    if raw is None:
        return set(DEFAULT_PENDING)
    flags = {f.strip() for f in raw.split(",") if f.strip() and f.strip() != "none"}
    unknown = flags - set(PENDING_FLAGS)
    if unknown:
        raise ValueError("HEAPD_DIFF_PENDING: unknown %s (known: %s)" % (sorted(unknown), ", ".join(PENDING_FLAGS)))
    return flags


def depth_bound(fields, extra=()):
    """An upper bound on the deepest deallocation cascade: the longest path in the graph of
    strongly connected components, each weighing its size (iterative Tarjan)."""
    adj = collections.defaultdict(list)
    for a, fs in fields.items():
        for b in fs.values():
            adj[a].append(b)
    for a, b in extra:
        adj[a].append(b)
    index, low, comp = {}, {}, {}
    stack, on = [], set()
    sizes = []
    counter = 0
    for root in list(adj):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
            succ = adj.get(v, ())
            recurse = False
            while i < len(succ):
                w = succ[i]
                i += 1
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                c = len(sizes)
                n = 0
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp[w] = c
                    n += 1
                    if w == v:
                        break
                sizes.append(n)
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    # Tarjan numbers components in reverse topological order: successors first.
    best = [0] * len(sizes)
    cadj = collections.defaultdict(set)
    for a in adj:
        for b in adj[a]:
            if comp[a] != comp[b]:
                cadj[comp[a]].add(comp[b])
    for c in range(len(sizes)):
        best[c] = sizes[c] + max((best[d] for d in cadj.get(c, ())), default=0)
    return max(best, default=0)

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

    def __init__(self, seed, profile=None, flags=frozenset()):
        self.rng = random.Random(seed)
        self.n = 0
        self.saveall = False
        self.plan = []
        self.profile = dict(profile or PROFILES[0])
        self.cap = self.profile["cap"]
        self.flags = frozenset(flags)
        self.auto_started = False
        self.contiguous = False
        # Each type introduces its names in its own order: first-use orders differ per type.
        self.name_order = {t: self.rng.sample(FIELDS, len(FIELDS)) for t in TYPES}
        # Where each type's next new name comes from: it keeps turning across the type's
        # incarnations (a type with no live object starts a new key table), so a run uses all
        # 40 names per type while no one class holds more than 29.
        self.name_next = {t: 0 for t in TYPES}
        self.names_used = collections.defaultdict(set)     # type -> every name used in the run

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

    # -- field names (shared keys) ---------------------------------------------------------
    def field_for(self, m, x, new_ok=True):
        """A field name for object x: mostly one its type already uses, in varied order across
        instances; a new one while the class's shared keys have room (any with sharedkeys)."""
        rng = self.rng
        if m.kind[x][0] == "weakref":
            return rng.choice(WFIELDS)
        t = m.kind[x][1]
        kt = m.key_table(m.kind[x][1:])
        names = kt["names"]
        order = self.name_order[t]
        start = self.name_next[t]
        fresh = [order[(start + i) % len(order)] for i in range(len(order))]
        fresh = [f for f in fresh if f not in names]
        can_new = new_ok and fresh and ("sharedkeys" in self.flags or m.name_fits(m.kind[x][1:], fresh[0]))
        # New names come fast while the class's keys have room (few instances yet): that is
        # when 3.11 still takes them into the shared keys.
        p_new = 0.85 if kt["usable"] > 3 else (0.6 if len(names) < 4 else 0.25)
        if can_new and (not names or rng.random() < p_new):
            self.name_next[t] = (order.index(fresh[0]) + 1) % len(order)
            self.names_used[t].add(fresh[0])
            return fresh[0]
        if names:
            return rng.choice(names)
        return None

    @staticmethod
    def weakrefs_to(m, x):
        return sum(1 for n in m.alive if m.kind[n][0] == "weakref" and m.kind[n][1] == x)

    def name_ok(self, m, name, field):
        if "sharedkeys" in self.flags or m.kind[name][0] != "obj":
            return True
        return m.name_fits(m.kind[name][1:], field)

    def depth_ok(self, m, edges):
        if "trashcan" in self.flags or not edges:
            return True
        return depth_bound(m.fields, edges) <= MAX_DEPTH

    def acceptable(self, m, op):
        """The gates: names within the shared keys and cascades within the trashcan's depth."""
        k = op[0]
        if k == "set" and op[3] is not None:
            return self.name_ok(m, op[1], op[2]) and self.depth_ok(m, [(op[1], op[3])])
        if k == "alloc" and len(op) > 4:
            kt = m.key_table((op[2], op[3]))
            return all(f in kt["names"] or "sharedkeys" in self.flags for f, _ in op[4]) and \
                self.depth_ok(m, [(op[1], v) for _, v in op[4]])
        if k == "weakref":
            if self.weakrefs_to(m, op[2]) >= MAX_WEAKREFS:
                return False
            return len(op) <= 4 or self.depth_ok(m, [(op[1], v) for _, v in op[4]])
        if k == "apply":
            targets = collections.Counter(sub[2] for sub in op[1] if sub[0] == "weakref")
            return all(self.weakrefs_to(m, t) + n <= MAX_WEAKREFS for t, n in targets.items())
        if k == "del":
            return "faileddel" in self.flags and self.name_ok(m, op[1], op[2])
        return True

    # -- plans -----------------------------------------------------------------------------
    def burst(self, m, alive):
        """A small structure with a cycle, built and then orphaned over the next steps (with
        random operations interleaved), so cyclic garbage appears in every generation."""
        rng = self.rng
        k = rng.randint(1, 4)
        names = [self.fresh("o") for _ in range(k)]
        plan = []
        types = {}
        for n in names:
            t = rng.choice(sorted(TYPES))
            types[n] = t
            plan.append(["alloc", n, t, TYPES[t]])
        # Field names are chosen when the step runs (FieldLater): the class's keys change meanwhile.
        for i, n in enumerate(names):
            plan.append(["set", n, None, names[(i + 1) % k]])
        if alive and rng.random() < 0.4:
            plan.append(["set", rng.choice(names), None, self.pick(alive)])
        if rng.random() < 0.5:
            w = self.fresh("w")
            plan.append(["weakref", w, rng.choice(names), rng.random() < 0.8])
            if rng.random() < 0.4:
                plan.append(["set", rng.choice(names), None, w])
            plan.append(["unref", w] if rng.random() < 0.5 else ["collect", rng.randint(0, 2)])
        reach = sorted(m.reachable() & m.alive, key=lambda n: int(n[1:]))
        hook = None
        if reach and rng.random() < 0.3:
            hook = self.pick(reach)
            plan.append(["set", hook, None, names[0], "hook"])
        rng.shuffle(names)
        plan.extend(["unref", n] for n in names)
        if hook and rng.random() < 0.7:
            plan.append(["unhook", hook, names[0]])
        self.plan = plan

    def chain_burst(self, m):
        """A chain built link by link (deep cascades: up to MAX_DEPTH, or 120 with trashcan),
        then dropped from its head or hung on a live object."""
        rng = self.rng
        deep = "trashcan" in self.flags
        k = rng.randint(10, 120 if deep else MAX_DEPTH - 4)
        k = min(k, max(2, self.cap - len(m.alive) - 2))
        t = rng.choice(sorted(TYPES))
        names = [self.fresh("o") for _ in range(k)]
        plan = [["alloc", names[0], t, TYPES[t]]]
        for i in range(1, k):
            plan.append(["alloc", names[i], t, TYPES[t]])
            plan.append(["set", names[i], None, names[i - 1]])
            plan.append(["unref", names[i - 1]])
        if rng.random() < 0.3:
            plan.append(["set", names[0], None, names[-1]])      # a long cycle
        if rng.random() < 0.3:
            plan.append(["weakref", self.fresh("w"), names[rng.randrange(k)], True])
        if rng.random() < 0.5:
            # Siblings below the chain (s32): R.x -> chain head, R.y -> B, then R dropped. With
            # trashcan, 3.11 defers the chain below depth ~48 and B dies in between.
            r, b = self.fresh("o"), self.fresh("o")
            plan += [["alloc", r, "F", True], ["set", r, None, names[-1], "other"], ["alloc", b, "G", True],
                     ["set", r, None, b, "other"], ["unref", b], ["unref", names[-1]], ["unref", r]]
        else:
            plan.append(["unref", names[-1]])
        self.plan = plan
        self.contiguous = True       # no random op in between (it could cut the chain)

    def garbage_burst(self, m):
        """Edit objects saved in gc.garbage (weakrefs to them, cut their fields), then clear it:
        what dies then dies in gc.garbage's release order."""
        rng = self.rng
        saved = [n for n in m.garbage if n in m.alive]
        plan = []
        for n in rng.sample(saved, min(len(saved), rng.randint(1, 3))):
            if rng.random() < 0.8:
                w = self.fresh("w")
                plan += [["weakref", w, n, True], ["set", n, None, w] if rng.random() < 0.2 else ["collect", 0]]
            plan += [["set", n, f, None] for f in sorted(m.fields.get(n, {}))]
        plan.append(["garbage_clear"])
        self.plan = plan

    def resolve(self, m, op):
        """A planned op made concrete now (its field name), or None to drop it."""
        if op[0] == "unhook":
            hook, target = op[1], op[2]
            fs = [f for f, v in sorted(m.fields.get(hook, {}).items()) if v == target]
            return ["set", hook, fs[0], None] if fs else None
        if op[0] == "set" and op[2] is None:
            if op[1] not in m.alive:
                return None
            f = self.field_for(m, op[1])
            if op[4:] == ["other"] and f in m.fields.get(op[1], {}):
                f = self.field_for(m, op[1])      # one more try for a field not yet set
            return None if f is None else ["set", op[1], f, op[3]]
        return op

    def next_op(self, m):
        rng = self.rng
        if not self.plan:
            self.contiguous = False
        while self.plan and (self.contiguous or rng.random() < 0.8):
            op = self.resolve(m, self.plan.pop(0))
            if op is None:
                continue
            if op[0] in ("alloc", "weakref") and len(m.alive) >= self.cap:
                continue     # keep under CAP; the plan's later steps on it become no-ops
            if m.valid(op) and self.acceptable(m, op):
                return op
        alive = sorted(m.alive, key=lambda n: int(n[1:]))
        full = len(alive) >= self.cap
        low = len(alive) < self.cap // 2
        held = [n for n, c in m.held.items() if c > 0]
        auto = self.profile["auto"]
        big = self.cap > 100
        weights = {
            "alloc": 0 if full else (45 if low and big else 14), "set": 15 if big and low else 30,
            "unlink": 14 if full else (4 if big and low else 9),
            # The session drops references about as fast as it takes them, so most objects
            # soon live only through fields: garbage cycles form and die as in real programs.
            "unref": 4 + 3 * len(held) + (20 if full else 0) if not big else
                     (2 + min(len(held), 8) if low else 4 + min(len(held), 30) + (20 if full else 0)),
            "ref": 0 if full else 3, "weakref": 0 if full else 7, "collect": 14 if full else (8 if not big else (1.5 if low else 3)),
            "root": 4, "saveall": 1.5, "garbage_clear": 6 if m.garbage else 0,
            "freeze": 0.6, "unfreeze": 6 if full else 1.0,
            "burst": 0 if full or len(alive) > self.cap - 6 or self.plan else 6,
            "chain": 0 if not self.profile.get("chains") or full or len(alive) > self.cap - 12 or self.plan else 1.5,
            "garbage_burst": 3 if m.garbage and not self.plan and not full else 0,
            "referrers": 3, "apply": 4 if not full else 1,
            "threshold": 1.5 if auto else 0.3, "enable": 0.6 if auto else 0.2,
            "del": 2 if "faileddel" in self.flags else 0,
        }
        if auto and not self.auto_started:
            self.auto_started = True
            self.plan = [["enable", True]] + self.plan
            return self.threshold_op()
        for _ in range(1000):
            kind = rng.choices(list(weights), list(weights.values()))[0]
            op = self._make(kind, m, alive, held)
            if op is not None and m.valid(op) and self.acceptable(m, op):
                return op
        return ["collect", 2]

    def threshold_op(self):
        rng = self.rng
        pr = self.profile
        if not pr["auto"]:
            return ["threshold", [rng.choice([0, 700, 100, -1]), rng.randint(-1, 10), rng.randint(-1, 10)]]
        t = [rng.randint(*pr["t0"]), rng.randint(*pr["t1"]), rng.randint(*pr["t2"])]
        for i in range(3):
            if rng.random() < pr.get("neg", 0):
                t[i] = rng.choice([-1, -2, -1000])
        if rng.random() < 0.05:
            t[0] = 0
        return ["threshold", t[:rng.choice([1, 2, 3, 3, 3])]]

    def batch(self, m, alive, held):
        """An `apply` batch: allocs, weakrefs, sets, refs, then unrefs last (so that no op names
        what an earlier one freed); sometimes one op that heapd must refuse; sometimes atomic."""
        rng = self.rng
        subs = []
        made = []
        plan_held = collections.Counter({n: c for n, c in m.held.items() if c > 0})
        n = rng.randint(1, 10)
        room = self.cap - len(alive)
        # Only objects that cannot die during the batch: held by the session, or made by it.
        steady = [x for x in alive if m.held[x] > 0]
        for _ in range(n):
            k = rng.choices(["alloc", "weakref", "set", "ref"], [4 if room > 0 else 0, 1.5 if room > 0 else 0, 5, 1.5])[0]
            pool = steady + made
            if k == "alloc":
                name = self.fresh("o")
                subs.append(["alloc", name, rng.choice(PLAIN_TYPES)])
                made.append(name)
                plan_held[name] += 1
                room -= 1
            elif k == "weakref" and pool:
                name = self.fresh("w")
                subs.append(["weakref", name, self.pick(pool), rng.random() < 0.7])
                made.append(name)
                plan_held[name] += 1
                room -= 1
            elif k == "set" and pool:
                x = self.pick(pool)
                if x in made:
                    # a new object of the batch: only names its type already has (or none)
                    t = next(s[2] for s in subs if s[1] == x and s[0] == "alloc") if any(s[1] == x and s[0] == "alloc" for s in subs) else None
                    names = m.keys.get((t, False), {}).get("names", []) if t else []
                    if not names:
                        continue
                    f = rng.choice(names)
                else:
                    if m.kind[x][0] == "weakref":
                        f = rng.choice(WFIELDS)
                    else:
                        names = m.key_table(m.kind[x][1:])["names"]
                        if not names:
                            continue
                        f = rng.choice(names)
                if rng.random() < 0.2 and x not in made:
                    have = sorted(m.fields.get(x, {}))
                    if "faileddel" in self.flags and m.kind[x][0] == "obj" and rng.random() < 0.3:
                        # a delete of a field x lacks: fails alone (-32015), the name interned
                        absent = [g for g in m.key_table(m.kind[x][1:])["names"] if g not in have]
                        if absent:
                            subs.append(["set", x, rng.choice(absent), None])
                        continue
                    if not have:
                        continue
                    subs.append(["set", x, rng.choice(have), None])
                else:
                    subs.append(["set", x, f, self.pick(pool)])
            elif k == "ref" and pool:
                x = self.pick(pool)
                subs.append(["ref", x])
                plan_held[x] += 1
        # unrefs last
        for x in list(plan_held):
            while plan_held[x] > 0 and rng.random() < (0.7 if x in made else 0.15):
                subs.append(["unref", x])
                plan_held[x] -= 1
        if not subs:
            return None
        if rng.random() < 0.3:
            dead = sorted(m.used - m.alive, key=lambda s: int(s[1:]))
            unheld = [x for x in alive if plan_held[x] <= 0]
            choices = []
            if unheld:
                choices.append(["unref", self.pick(unheld)])
            if dead:
                d = rng.choice(dead)
                choices.append(["ref", d])
                if pool:
                    choices.append(["set", d, "c0" if m.kind[d][0] == "weakref" else "f00", self.pick(pool)])
            if choices:
                subs.insert(rng.randint(0, len(subs)), rng.choice(choices))
        atomic = rng.random() < 0.3
        # Automatic collection inside a batch: a plain batch collects where the single ops would
        # (both sides), with applyauto. An atomic batch holds it to its end in heapd (a
        # documented deviation): never generated where a collection could fall due (frees only
        # lower count0, so count0 + allocations bounds it).
        allocs = sum(s[0] in ("alloc", "weakref") for s in subs)
        t0 = m.thresholds[0]
        if allocs and m.enabled and t0 != 0 and m.count[0] + allocs > t0 \
                and (atomic or "applyauto" not in self.flags):
            return None
        edges = [(s[1], s[3]) for s in subs if s[0] == "set" and s[3] is not None]
        if not self.depth_ok(m, edges):
            return None
        return ["apply", subs, atomic]

    def _make(self, kind, m, alive, held):
        rng = self.rng
        if kind in ("burst", "garbage_burst", "chain"):
            {"burst": lambda: self.burst(m, alive), "garbage_burst": lambda: self.garbage_burst(m),
             "chain": lambda: self.chain_burst(m)}[kind]()
            while self.plan:
                op = self.resolve(m, self.plan.pop(0))
                if op is not None:
                    return op
            return None
        if kind == "alloc":
            t = rng.choice(sorted(TYPES))
            op = ["alloc", self.fresh("o"), t, TYPES[t]]
            if self.cap > 100 and len(alive) < self.cap * 0.8 and not self.plan and rng.random() < 0.6:
                # Grow: hang the new object on a reachable one, so hundreds stay alive.
                reach = sorted(m.reachable() & m.alive, key=lambda n: int(n[1:]))
                if reach:
                    self.plan = [["set", self.pick(reach), None, op[1]], ["unref", op[1]]]
            names = m.keys.get((t, TYPES[t]), {}).get("names", [])
            if alive and names and rng.random() < 0.3:
                fs = rng.sample(names, min(len(names), rng.randint(1, 3)))
                op.append([[f, self.pick(alive)] for f in fs])
            return op
        if kind in ("set", "unlink", "del"):
            pool = m.reachable() & m.alive if rng.random() < 0.8 else m.alive
            x = self.pick(sorted(pool, key=lambda n: int(n[1:])))
            if x is None:
                return None
            isw = m.kind[x][0] == "weakref"
            if kind == "del":
                if isw:
                    return None
                have = m.fields.get(x, {})
                absent = [f for f in m.key_table(m.kind[x][1:])["names"] + list(self.name_order[m.kind[x][1]][:35])
                          if f not in have]
                return ["del", x, rng.choice(absent)] if absent else None
            if kind == "unlink" or rng.random() < 0.2:
                have = sorted(m.fields.get(x, {}))
                return ["set", x, rng.choice(have), None] if have else None
            value = self.pick(alive)
            if rng.random() < 0.5:
                # Close a cycle: point x back at something that (transitively) refers to x.
                preds = self.predecessors(m, x)
                if preds:
                    value = self.pick(sorted(preds, key=lambda n: int(n[1:])))
            f = self.field_for(m, x)
            return None if f is None else ["set", x, f, value]
        if kind == "unref":
            x = self.pick(sorted(held, key=lambda n: int(n[1:])))
            return None if x is None else ["unref", x]
        if kind == "ref":
            x = self.pick(alive)
            return None if x is None else ["ref", x]
        if kind == "weakref":
            x = self.pick(alive)
            if x is None or self.weakrefs_to(m, x) >= MAX_WEAKREFS:
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
        if kind == "referrers":
            x = self.pick(alive)
            return None if x is None else ["referrers", x]
        if kind == "apply":
            return self.batch(m, alive, held)
        if kind == "threshold":
            return self.threshold_op()
        if kind == "enable":
            return ["enable", rng.random() < (0.85 if self.profile["auto"] else 0.3)]
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
    def __init__(self, seed, count, strict=False, profile=None, flags=None):
        self.seed, self.count, self.strict = seed, count, strict
        self.profile = profile or PROFILES[0]
        self.flags = pending() if flags is None else frozenset(flags)
        self.ops = []
        self.stats = {}

    def run(self):
        """Generates and runs `count` ops in lockstep; returns None or (ops-up-to-divergence, diffs)."""
        gen = Generator(self.seed, self.profile, self.flags)
        cmp = tolerant_compare(self.strict)
        r = Runner(cmp, own_dicts="sharedkeys" in self.flags)
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
            self.stats = {"steps": r.steps, "collects": r.collects, "max_alive": r.max_alive,
                          "collect_order_equal": r.collect_order_equal, "tolerated": cmp.tolerated}
            self.stats.update(r.coverage)
        problems = r.finish()
        return (self.ops, problems) if problems else None


def replay(ops, strict=False, verbose=False):
    """Runs ops on fresh processes: (divergence or None, problems)."""
    r = Runner(tolerant_compare(strict), own_dicts="sharedkeys" in pending())
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
    if k in ("referrers", "del"):
        return {op[1]}
    if k == "apply":
        out = set()
        for sub in op[1]:
            if sub[0] == "alloc":
                out.add(sub[1])
            elif sub[0] == "weakref":
                out |= {sub[1], sub[2]}
            elif sub[0] == "set":
                out |= {sub[1]} | ({sub[3]} if sub[3] is not None else set())
            else:
                out.add(sub[1])
        return out
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
        rr = RandomRun(seed * 1000 + i, per, strict=strict_mode(), profile=PROFILES[i % len(PROFILES)])
        res = rr.run()
        print("run %d seed %d: %s %s" % (i, seed * 1000 + i, "DIVERGED" if res else "ok", rr.stats))
        if res:
            small = shrink(res[0], strict=strict_mode(), budget_s=budget)
            print(reproducer(small, strict_mode()))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Written scenarios: the checks of CPYTHON-GC.md (sNN / EN labels), as operation sequences run
through CPython 3.11 and heapd and compared after every step (diffcore.py documents the ops).

`["expect", {...}]` states what CPYTHON-GC.md says about the step before it and is checked on
both sides: `ev_seq` (events in this order), `ev` (as a multiset), `dead`, `ret`, `count`,
`garbage_seq`. Everything else is compared differentially without being spelled out here.
"""


class Scenario:
    def __init__(self, name, doc, ops, xfail=None, skip=None, pending=None, ignore=()):
        self.name, self.doc, self.ops, self.xfail, self.skip = name, doc, ops, xfail, skip
        # Result keys not compared, each for a documented deviation the scenario reaches on purpose.
        self.ignore = ignore
        # A scenario of a gated random-run change (random_ops.PENDING_FLAGS) runs only when the
        # gate is on (HEAPD_DIFF_PENDING; random_ops.DEFAULT_PENDING when unset).
        if pending:
            import random_ops
            if pending not in random_ops.pending():
                self.skip = "gate %r is off (HEAPD_DIFF_PENDING)" % pending


def new(name, fin=False, t=None, fields=None):
    op = ["alloc", name, t or ("F" if fin else "N"), fin]
    if fields:
        op.append([list(f) for f in fields])
    return op


def link(a, f, b):
    return ["set", a, f, b]


def unlink(a, f):
    return ["set", a, f, None]


def unref(*names):
    return [["unref", n] for n in names]


def wref(name, target, cb=True, fields=None):
    op = ["weakref", name, target, cb]
    if fields:
        op.append([list(f) for f in fields])
    return op


def collect(g=2, **expect):
    out = [["collect", g]]
    if expect:
        out.append(["expect", expect])
    return out


def expect(**kw):
    return ["expect", kw]


def flat(*parts):
    out = []
    for p in parts:
        if p and isinstance(p[0], list):
            out.extend(p)
        else:
            out.append(p)
    return out


def cycle2(a, b, fin=False):
    return [new(a, fin), new(b, fin), link(a, "p", b), link(b, "p", a)]


def chain_names(prefix, n):
    return [prefix + str(i) for i in range(n)]


RESURRECTION = ("resurrection: heapd finalizers run in the clients and cannot resurrect "
                "(SPEC §1, the one documented deviation from CPython)")
SHARED_KEYS_DICT = ("3.11 materialises a __dict__ for an instance given a new attribute name once ~29 instances of "
                    "its class exist (CPYTHON-GC.md §4.1); dict_dealloc is one more trashcan level. heapd does not "
                    "model the shared-keys limits yet (issue #14, the keys branch)")


def comb(prefix, side, n, t="C", fin=True):
    """prefix0 -> ... -> prefix(n-1) by `next`, each prefixI also holding sideI by `s`, released
    after `next`: depth-first order is all of the spine, then the sides from the deepest up; the
    trashcan's split shows where the sides resume. A holder H of the type, allocated first with
    both fields, fixes the key order (next, s) and keeps the class (and its shared keys) alive."""
    ops = [new("H" + prefix, t=t, fin=fin), new(side + "_", fin=False)]
    ops += [link("H" + prefix, "next", side + "_"), link("H" + prefix, "s", side + "_")]
    for i in reversed(range(n)):
        ops.append(new(side + str(i), fin=fin, t="S"))
        fields = [("next", prefix + str(i + 1))] if i + 1 < n else [("next", side + "_")]
        ops.append(new(prefix + str(i), fin=fin, t=t, fields=fields + [("s", side + str(i))]))
        ops += unref(side + str(i))
        if i + 1 < n:
            ops += unref(prefix + str(i + 1))
    return ops


def trashcan_order(children, root):
    """3.11's order of deaths when `root`'s last reference goes outside any deallocation
    (trash_delete_nesting 0), over a tree (`children`: name -> names released in order, each the child's last
    reference), written as Objects/object.c runs it: `_PyTrash_begin` defers at nesting >= 50,
    else nests one deeper; `_PyTrash_end` back at 0 drains `trash_delete_later` LIFO at
    nesting 1. Recursive: only for the scenarios' small trees."""
    order, later, level = [], [], [0]

    def dealloc(o):
        if level[0] >= 50:
            later.append(o)
            return
        level[0] += 1
        order.append(o)
        for c in children.get(o, ()):
            dealloc(c)
        level[0] -= 1
        if later and level[0] <= 0:
            level[0] += 1
            while later:
                dealloc(later.pop())
            level[0] -= 1

    dealloc(root)
    return order


def comb_children(prefix, side, n):
    return {prefix + str(i): ([prefix + str(i + 1)] if i + 1 < n else []) + [side + str(i)] for i in range(n)}


def dels(names):
    return ["del:" + n for n in names]


SCENARIOS = [
    Scenario("s01_self_cycle", "a self-cycle is garbage only for the collector", flat(
        new("A"), link("A", "me", "A"), unref("A"), expect(dead=[]),
        collect(2, ret=1, dead=["A"], ev=[]))),
    Scenario("s02_refcount_cascade_finalizers", "A->B->C: parent's __del__ before its children (§4.1)", flat(
        new("A", True), new("B", True), new("C", True), link("A", "x", "B"), link("B", "x", "C"),
        unref("C", "B"), unref("A"),
        expect(ev_seq=["del:A", "del:B", "del:C"], dead=["A", "B", "C"]))),
    Scenario("s03_two_cycle", "a 2-cycle without finalizers is collected, collect() returns 2", flat(
        cycle2("A", "B"), unref("A", "B"), collect(2, ret=2, dead=["A", "B"]))),
    Scenario("s04_cycle_reachable_from_live", "a cycle held by a live object survives until released", flat(
        cycle2("A", "B"), new("H"), link("H", "c", "A"), unref("A", "B"),
        collect(2, ret=0, dead=[]), unlink("H", "c"), expect(dead=[]),
        collect(2, ret=2, dead=["A", "B"]))),
    Scenario("s05_cycle_with_finalizers", "PEP 442: cyclic garbage with __del__ is collected", flat(
        new("A", True), new("B", True), new("C", True), link("A", "n", "B"), link("B", "n", "C"),
        link("C", "n", "A"), unref("A", "B", "C"),
        collect(2, ret=3, ev=["del:A", "del:B", "del:C"], dead=["A", "B", "C"]))),
    Scenario("s06_finalizer_order_creation", "finalizers in unreachable-list order = creation order (s06/s07)", flat(
        cycle2("A", "B", True), unref("A", "B"), collect(2, ev_seq=["del:A", "del:B"]))),
    Scenario("s07_finalizer_order_reversed", "B created first: B's __del__ first (E2)", flat(
        new("B", True), new("A", True), link("A", "p", "B"), link("B", "p", "A"), unref("A", "B"),
        collect(2, ev_seq=["del:B", "del:A"]))),
    Scenario("s07b_chain_reordering", "move_unreachable re-appends: chain C->B->A created A,B,C (E2 case 2)", flat(
        new("A", True), new("B", True), new("C", True), link("C", "n", "B"), link("B", "n", "A"),
        link("A", "n", "C"), unref("A", "B"), collect(0, ret=0), unref("C"),
        collect(1, ret=3))),
    Scenario("s08_gc_resurrection", "GC resurrection: __del__ once, object survives", [], skip=RESURRECTION),
    Scenario("s09_refcount_resurrection", "refcount resurrection keeps weakrefs", [], skip=RESURRECTION),
    Scenario("s10_resurrected_weakrefs_cleared", "weakrefs already cleared when a finalizer resurrects", [],
             skip=RESURRECTION),
    Scenario("s11_weakref_callback_to_cycle", "a live weakref to a cycle member calls back", flat(
        cycle2("A", "B"), wref("W", "A"), unref("A", "B"),
        collect(2, ret=2, ev_seq=["cb:W"], dead=["A", "B"]))),
    Scenario("s11b_weakref_no_callback_to_cycle", "a live callback-less weakref to garbage: cleared, silent", flat(
        cycle2("A", "B", True), wref("W", "A", cb=False), unref("A", "B"),
        collect(2, ret=2, ev=["del:A", "del:B"]), unref("W"), expect(dead=["W"]))),
    Scenario("s12_callbacks_before_finalizers", "in a collection, callbacks of live weakrefs run before any __del__", flat(
        cycle2("A", "B", True), wref("W", "B"), unref("A", "B"),
        collect(2, ret=2, ev_seq=["cb:W", "del:A", "del:B"]))),
    Scenario("s13_garbage_weakref_no_callback", "a weakref that is itself garbage never calls back", flat(
        cycle2("A", "B", True), wref("W", "B"), link("A", "w", "W"), unref("W", "A", "B"),
        collect(2, ret=3, ev=["del:A", "del:B"], dead=["A", "B", "W"]))),
    Scenario("s13a_weakref_in_dying_objects_field", "a callback weakref in the dying object's own field fires", flat(
        new("A", True), wref("W", "A"), link("A", "w", "W"), unref("W"), unref("A"),
        expect(ev_seq=["del:A", "cb:W"], dead=["A", "W"]))),
    Scenario("s13b_dying_weakref_kills_own_referent", "a weakref whose own field frees its referent does not call back", flat(
        new("T", True), wref("W", "T", fields=[("c0", "T")]), unref("T"), unref("W"),
        expect(ev_seq=["del:T"], dead=["T", "W"]))),
    Scenario("s14_weakref_dropped_first", "a weakref dropped before its referent never calls back", flat(
        new("A", True), wref("W", "A"), unref("W"), expect(dead=["W"]), unref("A"),
        expect(ev_seq=["del:A"]))),
    Scenario("s15a_callbacks_lifo_refcount", "refcount path: newest callback weakref first", flat(
        new("A", True), wref("W1", "A"), wref("W2", "A"), wref("W3", "A", cb=False), wref("W4", "A"),
        unref("A"), expect(ev_seq=["del:A", "cb:W4", "cb:W2", "cb:W1"]))),
    Scenario("s15b_callbacks_lifo_gc", "GC path: newest callback weakref first", flat(
        cycle2("A", "B"), wref("W1", "A"), wref("W2", "A"), wref("W3", "A"), unref("A", "B"),
        collect(2, ev_seq=["cb:W3", "cb:W2", "cb:W1"]))),
    Scenario("s16_callback_capture_keeps_cycle", "a live weakref capturing a cycle member keeps the cycle", flat(
        new("X"), cycle2("A", "B", True), wref("W", "X", fields=[("c0", "A")]), unref("A", "B"),
        collect(2, ret=0, dead=[]), unref("X"), expect(ev_seq=["cb:W"]), unref("W"),
        expect(dead=["W"]), collect(2, ret=2, ev=["del:A", "del:B"]))),
    Scenario("s17_old_garbage_weakref_calls_back", "a garbage weakref held from an older generation still calls back "
             "(membership, not liveness)", flat(
        new("O"), link("O", "me", "O"), collect(2, ret=0), new("T"), link("T", "me", "T"), wref("W", "T"),
        link("O", "w", "W"), unref("W", "T", "O"),
        collect(0, ret=1, ev_seq=["cb:W"], dead=["T"], count=[0, 1, 0]),
        collect(2, ret=2, ev=[], dead=["O", "W"]))),
    Scenario("s18_young_garbage_kept_by_old_garbage", "young garbage referenced by old garbage waits for a full collection", flat(
        new("O", True), link("O", "me", "O"), collect(2), new("Y", True), link("Y", "me", "Y"),
        link("O", "y", "Y"), unref("Y", "O"),
        collect(0, ret=0, dead=[]), collect(1, ret=0, dead=[]),
        collect(2, ret=2, ev=["del:O", "del:Y"], dead=["O", "Y"]))),
    Scenario("s19_gen1_holder", "garbage in gen1 is a root for collect(0), not for collect(1)", flat(
        new("O", True), link("O", "me", "O"), collect(0, count=[0, 1, 0]), new("Y", True), link("Y", "me", "Y"),
        link("O", "y", "Y"), unref("Y", "O"),
        collect(0, ret=0, count=[0, 2, 0]), collect(1, ret=2, count=[0, 0, 1], ev=["del:O", "del:Y"]))),
    Scenario("s19b_old_object_freed_by_young_garbage", "an old object only held by young garbage is freed by the cascade, "
             "not counted", flat(
        new("O", True), wref("WO", "O"), collect(2), new("Y", True), link("Y", "me", "Y"), link("Y", "o", "O"),
        unref("O", "Y"),
        collect(0, ret=1, ev=["del:Y", "del:O", "cb:WO"], dead=["O", "Y"]))),
    Scenario("s20_generations_and_counts", "collect(g) zeroes counts 0..g and bumps g+1; survivors promote (E8)", flat(
        new("A"), collect(0, count=[0, 1, 0]), collect(0, count=[0, 2, 0]), collect(1, count=[0, 0, 1]),
        collect(0, count=[0, 1, 1]), collect(2, count=[0, 0, 0]),
        new("B"), link("B", "me", "B"), unref("B"), collect(1, ret=1, count=[0, 0, 1]),
        new("C"), link("C", "me", "C"), collect(1, ret=0), unref("C"), collect(1, ret=0, dead=[]),
        collect(0, ret=0), collect(2, ret=1, dead=["C"]))),
    Scenario("s20b_gen0_skips_gen1_garbage", "collect(0) does not see gen1 garbage; collect(1) does", flat(
        cycle2("A", "B", True), collect(0), unref("A", "B"), collect(0, ret=0), collect(1, ret=2))),
    Scenario("s21_auto_gen0", "automatic collection runs (inequality only, §8.5)", [["auto", [10, 10, 10], 200]]),
    Scenario("s22_auto_threshold0", "threshold0 == 0 disables automatic collection", [["auto", [0, 10, 10], 200]]),
    Scenario("s22b_negative_threshold0", "t0 < 0: every allocation collects (exact)",
             [["auto", [-1, 10, 10], 30]]),
    Scenario("s22c_negative_thresholds", "negative t1, t2 are accepted and collect older generations",
             [["auto", [5, -1, -1], 30]]),
    Scenario("s50_scope_exit_order", "scope exit releases in the order references were taken", flat(
        new("A", True), new("B", True), new("C", True), [["root", "ra", "A"], ["root", "rb", "B"],
        ["root", "rc", "C"]], unref("A", "B", "C"), [["scope_enter"], ["ref", "C"], ["ref", "A"], ["ref", "B"],
        ["ref", "C"], ["unref", "C"], ["root", "ra", None], ["root", "rb", None], ["root", "rc", None],
        ["scope_exit"]], expect(ev_seq=["del:C", "del:A", "del:B"]))),
    Scenario("s23_auto_low_thresholds", "automatic collections with t=(5,2,1)", flat(
        [["auto", [5, 2, 1], 300]], cycle2("A", "B", True), unref("A", "B"), collect(2, ret=2))),
    Scenario("s26_frozen_references_are_external", "a frozen garbage holder keeps young garbage alive", flat(
        new("F", True), link("F", "me", "F"), ["freeze"], expect(count=[0, 0, 0]),
        new("Y", True), link("Y", "me", "Y"), link("F", "y", "Y"), unref("Y", "F"),
        collect(2, ret=0, dead=[]), ["unfreeze"], collect(2, ret=2, ev=["del:F", "del:Y"]))),
    Scenario("s27_frozen_die_by_refcount", "frozen objects still die by refcount", flat(
        new("A", True), wref("W", "A"), ["freeze"], unref("A"), expect(ev_seq=["del:A", "cb:W"], dead=["A"]))),
    Scenario("s27b_frozen_cycle_not_collected", "a frozen cycle is never examined until unfreeze", flat(
        cycle2("A", "B", True), unref("A", "B"), ["freeze"], collect(2, ret=0), collect(0, ret=0),
        ["unfreeze"], collect(0, ret=0), collect(2, ret=2))),
    Scenario("s27c_frozen_referent_freed_by_young_garbage", "a frozen object only held by young garbage dies in the "
             "collection's cascade; its frozen weakref calls back", flat(
        new("T", True), wref("W", "T"), ["freeze"], new("Y"), link("Y", "me", "Y"), link("Y", "t", "T"), unref("T"),
        unref("Y"), collect(0, ret=1, ev_seq=["del:T", "cb:W"], dead=["T", "Y"]), link("W", "c0", "W"), unref("W"),
        collect(2, ret=0), ["unfreeze"], collect(2, ret=1, dead=["W"]))),
    Scenario("s28_saveall", "DEBUG_SAVEALL: callbacks and finalizers ran, objects kept in gc.garbage", flat(
        cycle2("A", "B", True), wref("W", "A"), unref("A", "B"), ["saveall", True],
        collect(2, ret=2, ev_seq=["cb:W", "del:A", "del:B"], dead=[], garbage_seq=["A", "B"]),
        collect(2, ret=0), ["saveall", False], ["garbage_clear"], expect(dead=[]),
        collect(2, ret=2, ev=[], dead=["A", "B"]))),
    Scenario("s28b_saveall_young", "SAVEALL with collect(0) and a garbage weakref", flat(
        cycle2("A", "B"), wref("W", "A", cb=False), link("B", "w", "W"), unref("W", "A", "B"),
        ["saveall", True], collect(0, ret=3, dead=[]), ["saveall", False], collect(1, ret=0),
        ["garbage_clear"], collect(0, ret=0), collect(1, ret=0), collect(2, ret=3, dead=["A", "B", "W"]))),
    Scenario("s28c_garbage_clear_order", "gc.garbage.clear() releases the list last to first", flat(
        cycle2("A", "B"), unref("A", "B"), ["saveall", True], collect(2, garbage_seq=["A", "B"]),
        ["saveall", False], ["ref", "A"], ["ref", "B"], unlink("A", "p"), unlink("B", "p"),
        wref("WA", "A"), wref("WB", "B"), unref("A", "B"), ["garbage_clear"],
        expect(ev_seq=["cb:WB", "cb:WA"], dead=["A", "B"]))),
    Scenario("s29_long_chain_finalizers", "10,000-node chain dropped at once: strictly head to tail", flat(
        ["chain", "n", 10000, "F", True, "next"], unref("n0"),
        expect(ev_seq=["del:n%d" % i for i in range(10000)]))),
    Scenario("s30_long_cycle", "a 10,000-node cycle collected in one go", flat(
        ["chain", "n", 10000, "N", False, "next", True], unref("n0"), collect(0, ret=10000))),
    Scenario("s31_long_chain_weakrefs", "chain with callback weakrefs at both ends", flat(
        ["chain", "n", 5000, "N", False, "next"], wref("WH", "n0"), wref("WT", "n4999"),
        ["ref", "n4999"], unref("n0"), expect(ev_seq=["cb:WH"]), unref("n4999"), expect(ev_seq=["cb:WT"]))),
    Scenario("s32_trashcan_sibling_order", "R.a -> 100-chain, R.b -> B (R of another class): 3.11 gives R, a0..a48, "
             "B, a49.. (the trashcan defers a49 at nesting 50: s32, E5)", flat(
        ["chain", "a", 100, "F", True, "next"], new("R", True, t="G"), new("B", True), link("R", "a", "a0"),
        link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:R"] + ["del:a%d" % i for i in range(49)] + ["del:B"]
               + ["del:a%d" % i for i in range(49, 100)]))),
    Scenario("s32_same_class_dict", "the same with R of the chain's class: 3.11 splits after a47, R's materialised "
             "__dict__ being one more trashcan level", flat(
        ["chain", "a", 100, "F", True, "next"], new("R", True), new("B", True), link("R", "a", "a0"),
        link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:R"] + ["del:a%d" % i for i in range(48)] + ["del:B"]
               + ["del:a%d" % i for i in range(48, 100)]))),
    # count0 is not compared: 3.11 counts a new dict only when its free list is empty, heapd never
    # (docs/shared-keys.md); everything else is, events in sequence.
    Scenario("s32_dict_chain", "a 40-chain of instances that all have their own __dict__ (their class's shared "
             "keys full): each node is two trashcan levels, and at level 50 it is a node's dict that waits "
             "(3.11.7 frees B after a24)", flat(
        [new("F%d" % i, True, t="F") for i in range(40)], link("F0", "k", "F1"),
        ["chain", "a", 40, "F", True, "next"], new("R", True, t="G"), new("B", True, t="G"),
        link("R", "a", "a0"), link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:R"] + ["del:a%d" % i for i in range(25)] + ["del:B"]
               + ["del:a%d" % i for i in range(25, 40)])), ignore=("count",)),
    Scenario("s32_keys_first_same_class", "R of the chain's class, its field names used before the chain (no "
             "__dict__): a0..a48 before B, as with another class", flat(
        new("K", True), new("X"), link("K", "a", "X"), link("K", "b", "X"),
        ["chain", "a", 100, "F", True, "next"], new("R", True), new("B", True), link("R", "a", "a0"),
        link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:R"] + ["del:a%d" % i for i in range(49)] + ["del:B"]
               + ["del:a%d" % i for i in range(49, 100)]))),
    Scenario("s32_weakref_callback_deferred", "a deferred object keeps its fields alive until the drain: W "
             "(in a59.w) outlives B, so B's death calls W back (3.11.7: del:B, cb:W)", flat(
        ["chain", "a", 60, "N", False, "next"], new("B", True), wref("W", "B"), link("a59", "w", "W"), unref("W"),
        new("R", t="G"), link("R", "a", "a0"), link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:B", "cb:W"]))),
    Scenario("s32_weakref_callback_shallow", "the same with a 40-node chain: W dies with the chain, before B, and "
             "never calls back", flat(
        ["chain", "a", 40, "N", False, "next"], new("B", True), wref("W", "B"), link("a39", "w", "W"), unref("W"),
        new("R", t="G"), link("R", "a", "a0"), link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:B"]))),
    Scenario("s32_comb_head", "a 120-comb dropped at its head: 50 spine nodes, their sides, then 49 per drained "
             "piece", flat(
        comb("a", "s", 120), unref("a0"), expect(ev_seq=dels(trashcan_order(comb_children("a", "s", 120), "a0"))))),
    Scenario("s32_comb_under_root", "the comb under a root object: the root takes a level (49 spine nodes)", flat(
        comb("a", "s", 120), new("R", True, t="G"), link("R", "a", "a0"), unref("a0"), unref("R"),
        expect(ev_seq=dels(trashcan_order(dict(comb_children("a", "s", 120), R=["a0"]), "R"))))),
    Scenario("s32_comb_field_replace", "replacing the field holding a comb: the release starts at nesting 0", flat(
        comb("a", "s", 120), new("P", t="G"), link("P", "a", "a0"), unref("a0"), link("P", "a", "P"),
        expect(ev_seq=dels(trashcan_order(comb_children("a", "s", 120), "a0"))))),
    Scenario("s32_comb_scope_exit", "a comb held by a scope's local: scope exit releases each local at nesting 0 (the comb's "
             "holder first: it was taken first)", flat(
        ["scope_enter"], comb("a", "s", 120), ["scope_exit"],
        expect(ev_seq=["del:Ha"] + dels(trashcan_order(comb_children("a", "s", 120), "a0"))))),
    Scenario("s32_comb_root", "a comb held by a global: deleting it releases at nesting 0", flat(
        comb("a", "s", 120), ["root", "g", "a0"], unref("a0"), ["root", "g", None],
        expect(ev_seq=dels(trashcan_order(comb_children("a", "s", 120), "a0"))))),
    Scenario("s32_comb_garbage_clear", "gc.garbage.clear() (list_clear, no trashcan of its own) frees an entry "
             "at nesting 0, its comb one level below", flat(
        new("X", t="G"), link("X", "me", "X"), unref("X"), ["saveall", True], collect(2, garbage_seq=["X"]),
        ["saveall", False], comb("a", "s", 120), link("X", "a", "a0"), unref("a0"), link("X", "me", None),
        ["garbage_clear"], expect(ev_seq=dels(trashcan_order(dict(comb_children("a", "s", 120), X=["a0"]), "X")[1:])))),
    Scenario("s32_comb_delete_garbage", "delete_garbage: tp_clear of a young cycle frees an old comb at nesting 0",
             flat(
        comb("a", "s", 120), collect(2), cycle2("C1", "C2"), link("C1", "a", "a0"), unref("a0", "C1", "C2"),
        collect(0, ret=2, ev_seq=dels(trashcan_order(comb_children("a", "s", 120), "a0"))))),
    Scenario("s32_delete_garbage_sibling_order", "delete_garbage: tp_clear frees an old R at nesting 0, R.a -> "
             "100-chain, R.b -> B: R, a0..a48, B, a49..", flat(
        ["chain", "a", 100, "F", True, "next"], new("R", True, t="G"), new("B", True), link("R", "a", "a0"),
        link("R", "b", "B"), unref("a0", "B"), collect(2), cycle2("C1", "C2"), link("C1", "r", "R"),
        unref("R", "C1", "C2"),
        collect(0, ret=2, ev_seq=["del:R"] + ["del:a%d" % i for i in range(49)] + ["del:B"]
                + ["del:a%d" % i for i in range(49, 100)]))),
    Scenario("s32_cycle_holding_chain", "a garbage cycle holding a 100-chain, all young: one collection, "
             "finalizers in list order", flat(
        ["chain", "a", 100, "F", True, "next"], new("C1", True, t="G"), new("C2", True, t="G"),
        link("C1", "p", "C2"), link("C2", "p", "C1"), link("C1", "a", "a0"),
        wref("W", "a70"), unref("a0", "C1", "C2"), collect(2, ret=102))),
    Scenario("s32_long_chain_callbacks", "a 120-chain with finalizers and callback weakrefs across the split: "
             "each node's finalizer, then its callbacks, head to tail", flat(
        ["chain", "a", 120, "F", True, "next"], [wref("W%d" % i, "a%d" % i) for i in (0, 48, 49, 50, 98, 99, 119)],
        new("R", True, t="G"), link("R", "a", "a0"), unref("a0"), unref("R"))),
    Scenario("s32_deferred_weakref_no_callback", "W deferred at nesting 50 (refcount 0) when B dies: cleared "
             "without its callback (Py_REFCNT(current) > 0 in PyObject_ClearWeakRefs)", flat(
        new("X"), new("K", fields=[("next", "X"), ("w", "X")]),   # N's keys: next, w (no __dict__ later)
        ["chain", "a", 49, "N", False, "next"], new("B", True), wref("W", "B"), link("a48", "w", "W"), unref("W"),
        new("R", t="G"), link("R", "a", "a0"), link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:B"]))),
    Scenario("s32_weakrefs_at_level_50", "X at nesting 50 with two weakrefs (PyObject_ClearWeakRefs' tuple path): "
             "its weakref W1 (in X.w, c0 = Z) and Y are deferred in field order y, w; drained W1 first", flat(
        new("Q"), new("K", True, fields=[("next", "Q"), ("y", "Q"), ("w", "Q")]),
        ["chain", "a", 49, "F", True, "next"], new("X", True), new("Y", True), new("Z", True),
        wref("W1", "X", fields=[("c0", "Z")]), wref("W2", "X", cb=False), link("X", "y", "Y"), link("X", "w", "W1"),
        link("a48", "next", "X"), unref("W1", "X", "Y", "Z"), unref("a0"),
        expect(ev_seq=["del:a%d" % i for i in range(49)] + ["del:X", "cb:W1", "del:Z", "del:Y"]))),
    Scenario("s32_resurrect_deferred", "a deferred object's finalizer resurrects it", [], skip=RESURRECTION),
    Scenario("s32b_siblings_shallow", "siblings below a 39-deep chain keep depth-first order", flat(
        ["chain", "a", 39, "F", True, "next"], new("R", True), new("B", True), link("R", "a", "a0"),
        link("R", "b", "B"), unref("a0", "B"), unref("R"),
        expect(ev_seq=["del:R"] + ["del:a%d" % i for i in range(39)] + ["del:B"]))),
    Scenario("s33_field_release_class_key_order", "fields released in the class's first-use key order", flat(
        new("E1", t="E"), new("q1", True), new("b1", True), link("E1", "q", "q1"), link("E1", "b", "b1"),
        unref("q1", "b1"), new("E2", t="E"), new("q2", True), new("b2", True), new("n2", True),
        link("E2", "b", "b2"), link("E2", "q", "q2"), link("E2", "new", "n2"), unref("q2", "b2", "n2"),
        unref("E2"), expect(ev_seq=["del:q2", "del:b2", "del:n2"]))),
    Scenario("s33b_alloc_fields_order", "fields given at allocation are first used in the order given", flat(
        new("x", True), new("y", True), new("z", True),
        new("H", t="H", fields=[("zz", "z"), ("aa", "x"), ("mm", "y")]),
        unref("x", "y", "z"), unref("H"), expect(ev_seq=["del:z", "del:x", "del:y"]))),
    Scenario("s33c_weakref_fields_slot_order", "a weakref's captured fields released in c0, c1, c2 order", flat(
        new("T"), new("x", True), new("y", True), new("z", True),
        wref("W", "T", fields=[("c2", "z"), ("c0", "x")]), link("W", "c1", "y"), unref("x", "y", "z"),
        unref("W"), expect(ev_seq=["del:x", "del:y", "del:z"]))),
    Scenario("s33d_deleted_field_keeps_key", "a deleted then re-set field keeps its key position", flat(
        new("P", t="K"), new("u", True), new("v", True), link("P", "u", "u"), link("P", "v", "v"),
        unlink("P", "u"), link("P", "u", "u"), unref("u", "v"), unref("P"),
        expect(ev_seq=["del:u", "del:v"]))),
    Scenario("s34_weakref_sharing", "plain weakref.ref sharing: heapd weakrefs are never shared (weakref.ref subclass "
             "semantics); nothing to compare", [], skip="not modelled: heapd weakrefs behave as weakref.ref subclasses"),
    Scenario("s35_weakref_counts_in_collect", "a garbage weakref object counts in collect()", flat(
        new("A"), link("A", "me", "A"), wref("W", "A", cb=False), link("A", "w", "W"), unref("W", "A"),
        collect(2, ret=2, dead=["A", "W"]))),
    Scenario("s36_weakref_not_a_cycle", "A.w = ref(A) is not a cycle: refcount frees both", flat(
        new("A", True), wref("W", "A", cb=False), link("A", "w", "W"), unref("W"), unref("A"),
        expect(ev_seq=["del:A"], dead=["A", "W"]), collect(2, ret=0))),
    Scenario("s37_weakref_to_weakref", "a weakref to a weakref calls back when the inner one dies", flat(
        new("T"), wref("W1", "T"), wref("W2", "W1"), unref("W1"), expect(ev_seq=["cb:W2"], dead=["W1"]),
        unref("T"), expect(ev_seq=[]))),
    Scenario("s37b_weakref_to_weakref_gc", "weakref to a garbage weakref, in a collection", flat(
        cycle2("A", "B"), wref("W1", "A"), link("B", "w", "W1"), unref("W1"), wref("W2", "W1"),
        unref("A", "B"), collect(2, ret=3, ev=["cb:W2"]))),
    Scenario("s38_cascade_with_callbacks", "cascade: del:A, cb(WA), del:B, cb(WB) (§4.1)", flat(
        new("A", True), new("B", True), link("A", "x", "B"), wref("WA", "A"), wref("WB", "B"), unref("B"),
        unref("A"), expect(ev_seq=["del:A", "cb:WA", "del:B", "cb:WB"]))),
    Scenario("s39_roots", "a root is a global variable: cycle through a root, replace, delete", flat(
        cycle2("A", "B", True), ["root", "g", "A"], unref("A", "B"), collect(2, ret=0), new("C", True),
        ["root", "g", "C"], unref("C"), collect(2, ret=2), ["root", "g", None], expect(ev_seq=["del:C"]))),
    Scenario("s39b_root_replace_cascade", "replacing a root releases the old value after binding the new", flat(
        new("A", True), new("B", True), link("A", "b", "B"), ["root", "r", "A"], unref("B", "A"),
        ["root", "r", "B"], expect(ev_seq=["del:A"], dead=["A"]), ["root", "r", None],
        expect(ev_seq=["del:B"]))),
    Scenario("s40_resurrect_reachable", "objects reachable from a resurrected one survive", [], skip=RESURRECTION),
    Scenario("s41_resurrected_not_counted", "resurrected objects are not counted by collect()", [], skip=RESURRECTION),
    Scenario("s42_multiple_session_refs", "several session references: the object dies with the last", flat(
        new("A", True), ["ref", "A"], ["ref", "A"], unref("A", "A"), expect(dead=[]), unref("A"),
        expect(ev_seq=["del:A"]))),
    Scenario("s43_field_replace_cascade", "replacing a field releases the old target at once", flat(
        new("H"), new("A", True), new("B", True), link("H", "f", "A"), link("A", "g", "B"), unref("A", "B"),
        link("H", "f", "H"), expect(ev_seq=["del:A", "del:B"]), unref("H"), collect(2, ret=1))),
    Scenario("s44_garbage_hanger_on", "objects hanging off a garbage cycle are collected with it", flat(
        cycle2("A", "B", True), new("C", True), new("D", True), link("B", "c", "C"), link("C", "d", "D"),
        wref("WD", "D"), unref("C", "D", "A", "B"),
        collect(2, ret=4, ev=["cb:WD", "del:A", "del:B", "del:C", "del:D"]))),
    Scenario("s45_cycle_referencing_live", "a garbage cycle pointing at a live object releases it", flat(
        cycle2("A", "B"), new("L", True), link("A", "l", "L"), unref("A", "B"), collect(2, ret=2, dead=["A", "B"]),
        unref("L"), expect(ev_seq=["del:L"]))),
    Scenario("s46_reclaim_garbage_by_ref", "taking a reference to unreachable garbage saves it", flat(
        cycle2("A", "B", True), unref("A", "B"), ["ref", "B"], collect(2, ret=0), unref("B"),
        collect(2, ret=2))),
    Scenario("s47_mixed_generations_collect1", "collect(1) merges gen0 into gen1; gen2 holders are roots", flat(
        new("O"), link("O", "me", "O"), collect(1), cycle2("A", "B", True), link("O", "a", "A"), collect(0),
        new("C", True), link("C", "me", "C"), link("A", "c", "C"), unref("A", "B", "C", "O"),
        collect(1, ret=0), collect(2, ret=4))),
    Scenario("s48_set_on_garbage_cuts_cycle", "setting a field of unreachable garbage: the object is held for the "
             "step, dies when it ends", flat(
        cycle2("A", "B", True), wref("WA", "A"), unref("A", "B"), unlink("A", "p"),
        expect(ev_seq=["del:B", "del:A", "cb:WA"], dead=["A", "B"]), collect(2, ret=0))),
    Scenario("s49_gc_garbage_entry_edited", "editing an object saved in gc.garbage, then clearing the list", flat(
        cycle2("A", "B", True), new("C", True), link("B", "c", "C"), unref("C", "A", "B"), ["saveall", True],
        collect(2, ret=3, garbage_seq=["A", "B", "C"]), ["saveall", False], unlink("B", "c"), expect(dead=[]),
        ["garbage_clear"], expect(dead=["C"], ev_seq=[]), collect(2, ret=2, dead=["A", "B"]))),
    Scenario("s50_young_garbage_weakref_to_old_garbage", "a garbage weakref in gen0 to old garbage is cleared by "
             "collect(0) and never calls back", flat(
        new("T", True), link("T", "me", "T"), wref("WL", "T"), collect(2), wref("W", "T"),
        link("W", "c0", "W"), unref("W", "T"), collect(0, ret=1, ev=[], dead=["W"]),
        collect(2, ret=1, ev_seq=["cb:WL", "del:T"], dead=["T"]))),
    # Issue 14 item 1: 3.11's shared keys are bounded (CPYTHON-GC.md §4.1 step 5).
    Scenario("s51_shared_keys_full_new_name", "after 29 instances a new name no longer fits: the object gets its "
             "own dict and releases in its own insertion order", flat(
        new("E0", t="E"), new("v0", True, t="V"), link("E0", "b", "v0"), unref("v0"),
        [new("E%d" % i, t="E") for i in range(1, 40)], new("e", t="E"),
        new("q1", True, t="V"), new("b1", True, t="V"), new("c1", True, t="V"),
        link("e", "q", "q1"), link("e", "b", "b1"), link("e", "c", "c1"), unref("q1", "b1", "c1"),
        unref("e"), expect(ev_seq=["del:q1", "del:b1", "del:c1"]))),
    Scenario("s51b_thirty_names_then_own_order", "a0..a29 on one object (a29 makes its dict); a second sets a5, a29, "
             "a3: released a5, a29, a3 (the issue's repro)", flat(
        new("K1", t="K"), [new("x%d" % i, True, t="V") for i in range(30)],
        [link("K1", "a%d" % i, "x%d" % i) for i in range(30)], unref(*["x%d" % i for i in range(30)]),
        new("K2", t="K"), new("y5", True, t="V"), new("y29", True, t="V"), new("y3", True, t="V"),
        link("K2", "a5", "y5"), link("K2", "a29", "y29"), link("K2", "a3", "y3"), unref("y5", "y29", "y3"),
        unref("K2"), expect(ev_seq=["del:y5", "del:y29", "del:y3"]),
        unref("K1"), expect(ev_seq=["del:x%d" % i for i in range(30)]))),
    Scenario("s51c_own_dict_counts_in_collect", "an own dict is one more GC object: a self-cycle counts 2; once "
             "emptied and past a full collection it is untracked and counts no more", flat(
        [new("S%d" % i, t="S") for i in range(29)], new("s", t="S"), new("z", t="S"), link("s", "k", "s"),
        link("s", "me", "s"), link("z", "y", "z"), unref("s"), collect(2, ret=2, dead=["s"]),
        # z's dict emptied after the full collection: still tracked, counted with z (4).
        unlink("z", "y"), new("A"), new("B"), link("A", "p", "B"), link("B", "p", "A"), link("A", "z", "z"),
        collect(0, ret=0), unref("A", "B"), new("z2", t="S"), link("z2", "w", "z2"), unlink("z2", "w"),
        unref("z"), collect(2, ret=4, dead=["A", "B", "z"]),
        # z2's dict was empty in that full collection: untracked (untrack_dicts), not counted (3).
        new("C"), new("D"), link("C", "p", "D"), link("D", "p", "C"), link("C", "z", "z2"), unref("C", "D", "z2"),
        collect(2, ret=3, dead=["C", "D", "z2"]))),
    # Issue 14 item 5: a failed delete still interns the name.
    Scenario("s52_failed_delete_interns", "del d.b raises AttributeError but makes b key 0: b released before q", flat(
        new("d", t="D"), ["del", "d", "b"], expect(refused="no-such-field"),
        new("q1", True, t="V"), new("b1", True, t="V"), link("d", "q", "q1"), link("d", "b", "b1"),
        unref("q1", "b1"), unref("d"), expect(ev_seq=["del:b1", "del:q1"]))),
    Scenario("s52b_failed_delete_makes_own_dict", "with no room left in the shared keys a failed delete makes the "
             "object's own dict (its fields then leave in its insertion order)", flat(
        new("G0", t="G"), [new("G%d" % i, t="G") for i in range(1, 28)], new("g", t="G"),
        new("u", True, t="V"), new("w", True, t="V"), new("n", True, t="V"),
        link("G0", "w", "w"), link("g", "u", "u"), link("g", "w", "w"), ["del", "g", "zz"],
        expect(refused="no-such-field"), link("g", "n", "n"), unlink("G0", "w"), unref("u", "w", "n"),
        unref("g"), expect(ev_seq=["del:u", "del:w", "del:n"]))),
    # Issue 14 item 8: __del__ belongs to the class: (type, finalizer) is one class with its own keys;
    # a class starts afresh once its objects died.
    Scenario("s53a_finalizer_is_another_class", "Person with and without __del__ are two classes, two key orders", flat(
        new("P1", True, t="Person"), new("x", True, t="V"), link("P1", "b", "x"), link("P1", "a", "x"),
        new("P2", t="Person"), new("a2", True, t="V"), new("b2", True, t="V"), link("P2", "a", "a2"),
        link("P2", "b", "b2"), unref("x", "a2", "b2"), unref("P2"), expect(ev_seq=["del:a2", "del:b2"]),
        unref("P1"), expect(ev_seq=["del:P1", "del:x"]))),
    Scenario("s53_type_restarts_with_other_finalizer", "a type whose objects all died starts a new class (new key "
             "order), also with the other finalizer flag", flat(
        new("T1", True, t="T"), new("a1", True, t="V"), link("T1", "a", "a1"), link("T1", "b", "a1"), unref("a1"),
        unref("T1"), expect(ev_seq=["del:T1", "del:a1"]),
        new("T2", t="T"), new("a2", True, t="V"), new("b2", True, t="V"), link("T2", "b", "b2"), link("T2", "a", "a2"),
        unref("a2", "b2"), unref("T2"), expect(ev_seq=["del:b2", "del:a2"]))),
    Scenario("s61_apply_trashcan", "apply (plain) releasing R -> 100-chain, B: the trashcan's order inside a batch",
             flat(
        ["chain", "a", 100, "F", True, "next"], new("B", True),
        ["apply", [["alloc", "R", "G", False], ["set", "R", "a", "a0"], ["set", "R", "b", "B"], ["unref", "a0"],
                   ["unref", "B"], ["unref", "R"]], False],
        expect(ev_seq=["del:a%d" % i for i in range(49)] + ["del:B"] + ["del:a%d" % i for i in range(49, 100)]))),
    Scenario("s61b_apply_trashcan_atomic", "the same batch atomic: the dry run follows the same cascade", flat(
        ["chain", "a", 100, "F", True, "next"], new("B", True),
        ["apply", [["alloc", "R", "G", False], ["set", "R", "a", "a0"], ["set", "R", "b", "B"], ["unref", "a0"],
                   ["unref", "B"], ["unref", "R"]], True],
        expect(ev_seq=["del:a%d" % i for i in range(49)] + ["del:B"] + ["del:a%d" % i for i in range(49, 100)]))),
    Scenario("s62_apply_weakrefs_and_garbage", "apply: callbacks and a garbage cycle made in one batch, collected "
             "after", flat(
        new("T", True),
        ["apply", [["alloc", "X", "N", False], ["weakref", "WX", "X", True], ["weakref", "WT", "T", True],
                   ["alloc", "Y", "N", False], ["set", "X", "p", "Y"], ["set", "Y", "p", "X"], ["unref", "X"],
                   ["unref", "Y"], ["unref", "T"], ["alloc", "Z", "N", False], ["weakref", "WZ", "Z", True],
                   ["unref", "Z"]], False],
        expect(ev_seq=["del:T", "cb:WT", "cb:WZ"]), collect(2, ret=2, ev_seq=["cb:WX"]))),
    # -- issue #14: exact counts with automatic collection, referrers, apply, failed deletes ----
    Scenario("s71_referrers_frozen_holder", "gc.get_referrers does not see a holder in the permanent generation",
             flat(new("H"), new("T"), link("H", "t", "T"), ["referrers", "T"], expect(referrers=["H"]), ["freeze"],
                  ["referrers", "T"], expect(referrers=[]))),
    Scenario("s72_referrers", "referrers: objects holding it by a field (a weakref's own field too), garbage "
             "included; not the weakref's referent edge, not sessions or roots", flat(
        new("T"), new("A"), new("B"), link("A", "x", "T"), link("A", "y", "T"), link("B", "x", "T"),
        wref("W", "T", cb=False, fields=[("c0", "T")]), ["root", "r", "T"], link("B", "me", "B"),
        unref("B"), ["referrers", "T"], collect(0), ["referrers", "T"], ["referrers", "A"])),
    Scenario("s73_auto_exact_counts", "automatic collection with t=(3,1,1): counts and stats exact after every step",
             flat(["threshold", [3, 1, 1]], ["enable", True],
                  *[cycle2("A%d" % i, "B%d" % i, i % 2 == 0) + unref("A%d" % i, "B%d" % i) for i in range(12)],
                  new("Z"), ["enable", False], collect(2))),
    Scenario("s74_negative_threshold0", "gc.set_threshold(-1, ...): every allocation collects, exactly once", flat(
        ["threshold", [-1, 10, 10]], ["enable", True], cycle2("A", "B"), unref("A", "B"), new("C"),
        new("D"), wref("W", "D"), ["threshold", [-1, -1, -1]], new("E"), new("F"), ["threshold", [0]],
        new("G"), ["enable", False], collect(2))),
    Scenario("s75_apply_single_ops", "apply: the same as the single ops; a refused op changes nothing", flat(
        new("H"), new("G"), link("H", "g", "G"), unref("G"),
        ["apply", [["alloc", "X", "P", False], ["alloc", "Y", "P", False], ["set", "X", "n", "Y"], ["set", "Y", "n", "X"],
                   ["weakref", "W", "X", True], ["unref", "G"], ["set", "H", "x", "X"], ["unref", "X"],
                   ["unref", "Y"], ["unref", "W"]], False],
        ["set", "H", "x", None], collect(2))),
    Scenario("s76_apply_atomic_refused", "an atomic batch with a failing op: nothing happens, counts unchanged", flat(
        new("H"), ["unref", "H"], new("K"),
        ["apply", [["alloc", "X", "P", False], ["set", "K", "x", "X"], ["unref", "X"], ["unref", "H"]], True],
        expect(ev_seq=[], dead=[], count=[1, 0, 0]),
        ["apply", [["alloc", "X2", "P", False], ["set", "K", "x", "X2"], ["unref", "X2"]], True], ["unref", "K"])),
    Scenario("s77_failed_del_interns_name", "del of an absent field fails (AttributeError) and still interns the "
             "name: it then comes first in release order", flat(
        new("A", t="E"), ["del", "A", "zz"], expect(refused="no-such-field"), new("q", True), new("b", True),
        link("A", "b", "b"), link("A", "zz", "q"), unref("q", "b"), unref("A"), expect(ev_seq=["del:q", "del:b"]))),
]

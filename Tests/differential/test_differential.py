"""Differential parity tests: CPython 3.11 and heapd, the same operations, compared after
every step (see diffcore.py). One test per written scenario, plus seeded random runs that
shrink a divergence to a minimal reproducer.

    python3 -m pytest -q Tests/differential
"""
import json

import pytest

import diffcore
import random_ops
from scenarios import SCENARIOS


def _params():
    out = []
    for sc in SCENARIOS:
        marks = []
        if sc.skip:
            marks.append(pytest.mark.skip(reason=sc.skip))
        if sc.xfail:
            # Only a parity divergence is the expected failure; anything else (a failed heap
            # check, a crash) still fails the test.
            marks.append(pytest.mark.xfail(strict=True, raises=diffcore.Divergence, reason=sc.xfail))
        out.append(pytest.param(sc, id=sc.name, marks=marks))
    return out


@pytest.mark.parametrize("scenario", _params())
def test_scenario(scenario):
    div, runner, problems = diffcore.run_ops(scenario.ops, ignore=scenario.ignore)
    assert not problems, "\n".join(problems)
    if div is not None:
        i, op, diffs = div
        if scenario.xfail:
            diffcore.TOTALS["scenarios_xfailed"] += 1
        raise diffcore.Divergence("%s: %s\nstep %d %s:\n  %s\nops:\n%s" % (
            scenario.name, scenario.doc, i, json.dumps(op), "\n  ".join(diffs),
            diffcore.format_ops(scenario.ops[:i + 1])))
    diffcore.TOTALS["scenarios"] += 1


SEED, TOTAL_OPS, RUNS, SHRINK_S = random_ops.settings()


@pytest.mark.parametrize("run", range(RUNS), ids=lambda i: "run%d" % i)
def test_random(run):
    per = -(-TOTAL_OPS // RUNS)
    count = min(per, TOTAL_OPS - run * per)
    if count <= 0:
        pytest.skip("no operations left for this run")
    seed = SEED * 1000 + run
    strict = random_ops.strict_mode()
    profile = random_ops.PROFILES[run % len(random_ops.PROFILES)]
    rr = random_ops.RandomRun(seed, count, strict=strict, profile=profile)
    res = rr.run()
    diffcore.TOTALS["random_ops"] += rr.stats.get("steps", 0)
    diffcore.TOTALS["tolerated"] += rr.stats.get("tolerated", 0)
    if res is not None:
        ops, diffs = res
        small = random_ops.shrink(ops, strict=strict, budget_s=SHRINK_S)
        pytest.fail("random run %d (seed %d, profile %s, pending %s) diverged after %d ops: %s\n%s"
                    % (run, seed, profile, sorted(rr.flags) or "none", len(ops), "; ".join(diffs),
                       random_ops.reproducer(small, strict)),
                    pytrace=False)


PLAIN = r'''
import gc, json, weakref
gc.disable(); gc.collect(); gc.freeze()
LOG = []
class N: pass
class F:
    def __del__(self): LOG.append("del:" + self.__class__.__name__)
class A(F): pass
class B(F): pass
class W(weakref.ref):
    __slots__ = ("c0", "c1", "c2", "__weakref__")
out = []
x = N(); x.me = x; del x
out.append(gc.collect())                       # s01: 1
a = A(); b = B(); a.p = b; b.p = a
w = W(a); b.w = w; del a, b, w
out.append(gc.collect())                       # s13/s35: cycle + garbage weakref = 3
out.append(LOG[:]); LOG.clear()
a = N(); b = N(); a.p = b; b.p = a; del a, b
out.append(gc.collect(0)); out.append(list(gc.get_count()))
print(json.dumps(out))
'''


def test_model_agrees_with_plain_cpython():
    """The harness's own objects (probes, C-level references, bookkeeping dicts) change nothing
    that is compared: the same program in a bare interpreter gives the same numbers."""
    import subprocess
    plain = json.loads(subprocess.run([diffcore.python311(), "-I", "-S", "-c", PLAIN],
                                      capture_output=True, text=True, check=True).stdout)
    cp = diffcore.CPythonSide()
    try:
        got = []
        for op in (["alloc", "X", "N", False], ["set", "X", "me", "X"], ["unref", "X"]):
            cp.run(op)
        got.append(cp.run(["collect", 2])["ret"])
        for op in (["alloc", "A", "A", True], ["alloc", "B", "B", True], ["set", "A", "p", "B"],
                   ["set", "B", "p", "A"], ["weakref", "W", "A", False], ["set", "B", "w", "W"],
                   ["unref", "A"], ["unref", "B"], ["unref", "W"]):
            cp.run(op)
        r = cp.run(["collect", 2])
        got += [r["ret"], r["ev"]]
        for op in (["alloc", "C", "N", False], ["alloc", "D", "N", False], ["set", "C", "p", "D"],
                   ["set", "D", "p", "C"], ["unref", "C"], ["unref", "D"]):
            cp.run(op)
        r = cp.run(["collect", 0])
        got += [r["ret"], r["count"]]
    finally:
        cp.close()
    assert got == plain, (got, plain)

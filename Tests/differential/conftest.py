"""pytest setup for the differential suite: import paths, a heapd binary, CPython 3.11, and the
totals line at the end of the run."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import diffcore  # noqa: E402
import heapd_harness  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def differential_prerequisites():
    if diffcore.python311() is None:
        pytest.skip("CPython 3.11 is the reference and was not found (set HEAPD_DIFF_PYTHON)")
    try:
        heapd_harness.binary("heapd")
    except RuntimeError:
        subprocess.run(["swift", "build", "--product", "heapd"], cwd=heapd_harness.ROOT, check=True)
        heapd_harness.binary("heapd")


def pytest_terminal_summary(terminalreporter):
    t = diffcore.TOTALS
    if not (t["scenarios"] or t["random_ops"] or t["scenarios_xfailed"]):
        return
    terminalreporter.write_line(
        "differential: %d scenarios passed, %d random operations compared" % (t["scenarios"], t["random_ops"]))
    terminalreporter.write_line(
        "differential: %d steps in all, %d collections (event order identical in %d), "
        "%d known divergences (xfail), %d random steps with a tolerated known divergence; heapd %s; %s"
        % (t["steps"], t["collects"], t["collect_order_equal"], t["scenarios_xfailed"], t["tolerated"],
           heapd_harness.binary("heapd"), t["cpython"] or "CPython not run"))
    if t["referrers compared"]:
        terminalreporter.write_line(
            "differential: referrers compared %d times (holders, and heapd's order by generation, then id)" % t["referrers compared"])
    import random_ops
    flags = sorted(random_ops.pending())
    terminalreporter.write_line("differential: random-run gates on (HEAPD_DIFF_PENDING): %s"
                                % (", ".join(flags) if flags else "none"))

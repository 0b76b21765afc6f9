"""The suite's own fixtures: a leak fails the test that made it, once, and the rest run on.

Each case runs a small inner pytest session (a subprocess, with this directory's fixtures and
its own daemon), so the outcome counts are the fixture's real behaviour."""

import os
import subprocess
import sys
import textwrap
import time

from .conftest import HEAPD_BIN

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_inner(tmp_path, body: str):
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from tests.conftest import *  # noqa: F401,F403  (the fixtures under test)
        """ % PACKAGE_ROOT))
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(body))
    # The inner run starts in tmp_path: a relative HEAPD_BIN must not change meaning.
    env = dict(os.environ, HEAPD_BIN=os.path.abspath(HEAPD_BIN))
    # Under CI=true pytest prints the summary lines whole, repeating each message: the counts
    # below assume the interactive layout.
    env.pop("CI", None)
    env.pop("BUILD_NUMBER", None)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", str(tmp_path)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=120)
    return proc, proc.stdout + proc.stderr, time.monotonic() - start


def test_one_leak_is_one_error_naming_its_test_and_holder(tmp_path):
    proc, out, took = run_inner(tmp_path, """
        import heapd

        def test_a_leaks(daemon):
            h = daemon.heap(session="py-leaky")
            kept = h.allocate("LeakedThing")    # an open handle: its reference stays
            h.roots["py_leak_root"] = h.allocate("RootedThing")
            h.close()                           # the named session and the root keep them

        def test_b_clean(heap):
            heap.allocate("Fine").close()

        def test_c_leaks_too(daemon):
            h = daemon.heap(session="py-leaky-2")
            kept = h.allocate("SecondLeak")
            h.close()

        def test_d_real_failure(heap):
            assert heap.ping() is False, "the real failure"

        def test_e_clean(heap):
            with heap.scope():
                heap.allocate("Fine")
        """)
    assert proc.returncode == 1, out
    # a and c: each passes its call and errors once at teardown; b and e pass in both
    # framings; d fails in both.
    assert "2 failed, 6 passed, 2 errors" in out, out
    assert out.count("left 1 objects") == 1 and out.count("left 2 objects") == 1, out
    assert "test_inner.py::test_a_leaks left 2 objects" in out, out
    assert "LeakedThing held by session py-leaky x1" in out, out
    assert "RootedThing held by root 'py_leak_root'" in out, out
    assert "test_inner.py::test_c_leaks_too left 1 objects" in out, out
    assert "SecondLeak held by session py-leaky-2 x1" in out, out
    assert "the real failure" in out, out
    assert took < 60, "the inner run took %.1f s" % took


def test_a_daemon_that_died_stops_the_run(tmp_path):
    proc, out, took = run_inner(tmp_path, """
        def test_a_kills_it(daemon):
            daemon.proc.kill()
            daemon.proc.wait()

        def test_b(daemon):
            pass

        def test_c(daemon):
            pass
        """)
    assert proc.returncode != 0, out
    assert "heapd died during test_inner.py::test_a_kills_it; the run stops here" in out, out
    assert "test_b" not in out.replace("test_b(daemon)", ""), out
    assert took < 60, "the inner run took %.1f s" % took

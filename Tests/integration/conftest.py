import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from heapd_harness import Daemon  # noqa: E402


@pytest.fixture
def daemon():
    """A fresh heapd on a temp socket; after the test the heap must pass its invariant check
    and the daemon must still be alive and stop cleanly on SIGTERM."""
    d = Daemon()
    yield d
    assert d.alive(), "heapd died during the test:\n" + d.read_log()
    c = d.client()
    check = c.call("check")
    c.close()
    assert check["ok"], check["problems"]
    code = d.stop()
    assert code == 0, f"heapd exited with {code}:\n" + d.read_log()


@pytest.fixture
def client(daemon):
    c = daemon.client()
    yield c
    c.close()

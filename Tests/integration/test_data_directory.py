"""The data directory and its files are refused when another user owns them or others can write
them (SPEC §8, issue 15 item 9): whoever can write a journal can make the daemon replay anything."""
import os
import subprocess
import tempfile

import pytest

from heapd_harness import Daemon, binary


def start(data):
    sock = os.path.join(tempfile.mkdtemp(prefix="heapd-dd-"), "heapd.sock")
    return subprocess.run([binary("heapd"), "--socket", sock, "--data", data],
                          capture_output=True, text=True, timeout=60)


def test_a_data_directory_others_can_write_is_refused():
    data = os.path.join(tempfile.mkdtemp(prefix="heapd-dd-"), "data")
    os.mkdir(data)
    os.chmod(data, 0o777)
    out = start(data)
    assert out.returncode == 1
    message = out.stdout + out.stderr
    assert f"refusing to use the data directory {data}: others can write to it (mode 777" in message, message
    assert not os.path.exists(os.path.join(data, "journal.0")), "nothing was written"


def test_a_journal_others_can_write_is_refused():
    d = Daemon()
    c = d.client()
    c.call("allocate", type="T")
    c.close()
    assert d.stop() == 0
    journal = os.path.join(d.data, "journal.0")
    os.chmod(journal, 0o666)
    out = start(d.data)
    assert out.returncode == 1
    assert f"refusing to use the data file {journal}: others can write to it" in out.stdout + out.stderr


def test_a_data_directory_of_another_user_is_refused():
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    data = os.path.join(tempfile.mkdtemp(prefix="heapd-dd-"), "data")
    os.mkdir(data, 0o700)
    os.chown(data, 65534, 65534)
    out = start(data)
    assert out.returncode == 1
    message = out.stdout + out.stderr
    assert f"refusing to use the data directory {data}: it belongs to uid 65534" in message, message

"""A full disk (SPEC §8, issue 15 item 3) on a 2 MiB tmpfs data directory: reads keep working,
a change that cannot be made durable is refused (-32012) and not applied, writes resume by
themselves once space returns, nothing acknowledged is lost across kill -9, and `heapd repair`
works while the disk is full. Needs root (mount)."""
import contextlib
import os
import signal
import subprocess
import tempfile

import pytest

from heapd_harness import Daemon, RPCError, binary

DISK_FULL = -32012


@contextlib.contextmanager
def tmpfs_data(size):
    """A temp directory whose `data` subdirectory is a tmpfs of `size` (skips without root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    base = tempfile.mkdtemp(prefix="heapd-full-")
    data = os.path.join(base, "data")
    os.mkdir(data, 0o700)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", data],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield base, data
    finally:
        subprocess.run(["umount", "-l", data])


@pytest.fixture
def tmpfs_dir():
    with tmpfs_data("2m") as (base, _):
        yield base


def fill(path):
    """Writes a ballast file until the disk is full."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\xba" * 4096)
        except OSError as e:
            assert e.errno == 28, e   # ENOSPC


def allocate_until_refused(c, acknowledged):
    """Allocates objects with data until one is refused; returns that error."""
    for i in range(100000):
        reply = c.request("allocate", {"type": "Fill", "data": {"i": i, "pad": "p" * 1500}})
        if "error" in reply:
            return reply["error"]
        acknowledged[reply["result"]["id"]] = i
    raise AssertionError("the disk never filled")


def assert_all_there(c, acknowledged):
    for oid, i in acknowledged.items():
        assert c.call("get", id=oid)["data"]["i"] == i, oid


def use_the_last_bytes(c, acknowledged):
    """After a big change was refused, smaller ones may still fit: use them up, down to the
    smallest change there is (gc.unfreeze, a 9-byte record)."""
    for i in range(100000):
        reply = c.request("allocate", {"type": "S", "data": {"i": 2 * 10**6 + i}})
        if "error" in reply:
            assert reply["error"]["code"] == DISK_FULL, reply
            break
        acknowledged[reply["result"]["id"]] = 2 * 10**6 + i
    for _ in range(100000):
        reply = c.request("gc.unfreeze")
        if "error" in reply:
            assert reply["error"]["code"] == DISK_FULL, reply
            return


def assert_reads_work_and_changes_are_refused(d, c, acknowledged):
    use_the_last_bytes(c, acknowledged)
    objects = c.call("stats")["objects"]
    some = next(iter(acknowledged))
    # The refused change is not applied, whatever kind it is.
    for method, params in [("allocate", {"type": "Refused"}), ("set", {"id": some, "data": "changed"}),
                           ("root.set", {"name": "r", "id": some}), ("scope.enter", None)]:
        reply = c.request(method, params)
        assert reply.get("error", {}).get("code") == DISK_FULL, (method, reply)
        assert "disk is full" in reply["error"]["message"]
    assert c.call("stats")["objects"] == objects
    assert c.call("get", id=some)["data"] != "changed"
    assert "r" not in {r["name"] for r in c.call("root.list")["roots"]}
    # Reads: on this connection and on a new one (opening its session is never refused).
    assert c.call("ping") is not None
    assert c.call("check")["ok"]
    # A snapshot cannot be stored (and leaves no file), but diffs against the heap now work.
    reply = c.request("snapshot.save", {"name": "while-full"})
    assert reply.get("error", {}).get("code") == DISK_FULL, reply
    assert "snapshot was not saved" in reply["error"]["message"], reply
    assert [s["name"] for s in c.call("snapshot.list")["snapshots"]] == ["before-full"]
    assert os.listdir(os.path.join(d.data, "snapshots")) == ["before-full.census"]
    assert c.call("snapshot.diff", **{"from": "before-full"})["new"]["count"] == len(acknowledged) - 20
    c2 = d.client()
    assert c2.call("get", id=some)["data"]["i"] == acknowledged[some]
    p = c2.call("stats")["persistence"]
    assert p["refusing_changes"] is True and p["last_write_status"] == "err" and p["last_write_error"], p
    assert p["compacting"] is False
    c2.close()


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_full_disk_cycle(tmpfs_dir, fsync):
    ballast = os.path.join(tmpfs_dir, "data", "ballast")
    d = Daemon("--fsync", fsync, directory=tmpfs_dir)
    acknowledged = {}
    try:
        c = d.client()
        c.call("session.open", name="full")
        for i in range(20):
            acknowledged[c.call("allocate", type="Fill", data={"i": -i - 1})["id"]] = -i - 1
        c.call("snapshot.save", name="before-full")
        fill(ballast)
        error = allocate_until_refused(c, acknowledged)
        assert error["code"] == DISK_FULL, error
        assert_reads_work_and_changes_are_refused(d, c, acknowledged)

        # Space returns: changes are accepted again, without a restart.
        os.unlink(ballast)
        p = c.call("stats")["persistence"]
        assert p["refusing_changes"] is False and p["last_write_status"] == "ok", p
        for i in range(50):
            acknowledged[c.call("allocate", type="After", data={"i": 10**6 + i})["id"]] = 10**6 + i
        assert c.call("check")["ok"]

        # Full again, then kill -9: every acknowledged change survives.
        fill(ballast)
        allocate_until_refused(c, acknowledged)
        os.kill(d.proc.pid, signal.SIGKILL)
        d.stop()

        # heapd repair on the full disk: the journal is clean, and a damaged one is cut too.
        repaired = subprocess.run([binary("heapd"), "repair", "--data", d.data], capture_output=True, text=True)
        assert repaired.returncode == 0, repaired.stderr

        # A restart on the full disk: reads work, everything acknowledged is there.
        d = Daemon("--fsync", fsync, directory=tmpfs_dir)
        c = d.client()
        c.call("session.open", name="full")
        assert_all_there(c, acknowledged)
        assert c.call("check")["ok"]
        c.close()
    finally:
        d.stop()


def test_repair_cuts_a_damaged_journal_on_a_full_disk(tmpfs_dir):
    d = Daemon(directory=tmpfs_dir)
    c = d.client()
    c.call("session.open", name="full")
    ids = [c.call("allocate", type="T", data={"i": i, "pad": "q" * 500})["id"] for i in range(20)]
    c.close()
    assert d.stop() == 0
    journal = os.path.join(d.data, "journal.0")
    fill(os.path.join(d.data, "ballast"))
    size = os.path.getsize(journal)
    with open(journal, "r+b") as f:      # damage the last-but-one record: a good one follows
        f.seek(size - 700)
        byte = f.read(1)
        f.seek(size - 700)
        f.write(bytes([byte[0] ^ 0xFF]))
    out = subprocess.run([binary("heapd"), "--socket", d.socket, "--data", d.data],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and f"heapd repair --data {d.data}" in out.stdout + out.stderr
    repaired = subprocess.run([binary("heapd"), "repair", "--data", d.data], capture_output=True, text=True)
    assert repaired.returncode == 0, repaired.stderr
    assert "kept" in repaired.stdout, repaired.stdout
    assert "no room for" in repaired.stdout, "the cut bytes are printed when no side file fits"
    d2 = Daemon(directory=tmpfs_dir)
    try:
        c2 = d2.client()
        c2.call("session.open", name="full")   # attaching to a named session is never refused
        alive = [i for i in ids if "error" not in c2.request("get", {"id": i})]
        assert alive == ids[:len(alive)] and len(alive) >= len(ids) - 2
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0


def test_a_clean_stop_on_a_full_disk_exits_cleanly_and_loses_nothing():
    """The snapshot a clean stop writes past 16 MiB of journal fails on a full disk: the daemon
    still exits 0, leaves no temp file, and the journal brings everything back."""
    with tmpfs_data("28m") as (base, data):
        d = Daemon(directory=base)
        c = d.client()
        c.call("session.open", name="bulk")
        acknowledged = {}
        for i in range(4400):  # about 18 MiB of journal, under the 64 MiB compaction threshold
            oid = c.call("allocate", type="Bulk", data={"i": i, "pad": "x" * 4096})["id"]
            if i % 2:
                c.call("unref", id=oid)
            else:
                acknowledged[oid] = i
        c.close()
        fill(os.path.join(data, "ballast"))
        assert d.stop() == 0, d.read_log()
        log = d.read_log()
        assert "writing a snapshot before stopping" in log and "No space left on device" in log, log
        # Nothing retries the last snapshot: the log says what happens instead.
        assert "the journal is kept for the next start" in log and "tried again" not in log, log
        assert not {"snapshot", "snapshot.tmp"} & set(os.listdir(data)), os.listdir(data)
        os.unlink(os.path.join(data, "ballast"))
        d2 = Daemon(directory=base)
        try:
            c2 = d2.client()
            c2.call("session.open", name="bulk")
            assert_all_there(c2, acknowledged)
            assert c2.call("check")["ok"]
            c2.close()
        finally:
            assert d2.stop() == 0


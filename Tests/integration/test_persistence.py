"""The heap survives restarts and kill -9 (SPEC §4): restarts are invisible, acknowledged
changes are never lost under --fsync always, torn tails are dropped, damage elsewhere is refused
with a repair command that works."""
import glob
import os
import random
import signal
import subprocess

import pytest

from heapd_harness import Daemon, binary


def everything(c):
    """Every object's full `inspect`, the roots, the gc state and named sessions."""
    objects = []
    after = None
    while True:
        params = {"limit": 1000}
        if after is not None:
            params["after"] = after
        page = c.call("objects", **params)
        objects += [o["id"] for o in page["objects"]]
        if page["next"] is None:
            break
        after = page["next"]
    gc = c.call("gc.get")
    return {
        "inspect": {i: strip_sessions(c.call("inspect", id=i)) for i in objects},
        "roots": c.call("root.list"),
        "gc": {k: gc[k] for k in ("enabled", "threshold", "count", "stats", "debug", "freeze_count", "garbage")},
        "sessions": sorted((s["name"], s["references"], s["scope_depth"], s.get("lease_s"))
                           for s in c.call("session.list")["sessions"] if s["name"]),
    }


def strip_sessions(inspection):
    # Session numbers are internal; names and counts are what must survive.
    for h in inspection["holders"]["sessions"]:
        h.pop("session", None)
    return inspection


def restart(d):
    assert d.stop() == 0, d.read_log()
    return Daemon(directory=d.dir)


def build_varied_heap(c, daemon=None):
    """Every kind of journaled operation (each `HeapOperation` case), each leaving a trace in
    `everything` that differs if its record were lost: a test that restarts after this fails
    when any one kind is dropped from the journal (scripts/mutate-journal.sh shows it). With
    `daemon`, the kinds that need other connections too (session close, attach)."""
    c.call("session.open", name="keeper", lease_s=3600)             # openSession, setLease
    c.call("gc.set", threshold=[500, 7, 3], debug=["SAVEALL"])
    a = c.call("allocate", type="Person", data={"name": "Alice", "n": 7.6}, finalizer=True)["id"]
    b = c.call("allocate", type="Person", data={"name": "Bob"}, fields={"partner": a}, site="varied.py:9")["id"]
    c.call("set", id=a, fields={"partner": b})
    w = c.call("weakref", id=a, callback=True, fields={"captured": b})["id"]
    c.call("root.set", name="alice", id=a)
    c.call("collect", generation=0)
    g = c.call("allocate", type="Garbage")["id"]
    c.call("set", id=g, fields={"me": g})
    c.call("unref", id=g)
    c.call("collect")                     # g goes to gc.garbage (SAVEALL)
    c.call("gc.set", debug=[])
    big = c.call("allocate", type="Big", size=1 << 40)["id"]
    c.call("gc.freeze")
    c.call("scope.enter")
    c.call("allocate", type="Scoped")
    for _ in range(30):
        c.call("unref", id=c.call("allocate", type="Temp")["id"])
    c.call("ref", id=b)                                              # ref: keeper holds b twice
    c.call("set", id=big, size=12345)                                # set with a size
    c.call("scope.enter")
    inner = c.call("allocate", type="Inner")["id"]
    c.call("root.set", name="inner", id=inner)
    c.call("scope.exit")                                             # exitScope: depth back to 1
    c.call("root.set", name="inner", id=None)                        # setRoot(nil): Inner freed
    c.call("gc.garbage.clear")                                       # clearGarbage: g freed
    thawed = c.call("allocate", type="Thawed")["id"]
    c.call("gc.freeze")
    c.call("gc.unfreeze")                                            # unfreeze: freeze_count 0
    c.call("apply", ops=[["alloc", "Batched", None, "batch.py:1"], ["set", "$0", "self", "$0"], ["set", thawed, "batched", "$0"],
                         ["weakref", "$0", False]])                  # batch
    c.call("gc.set", enabled=False)                                  # configureGC(enabled:)
    if daemon is not None:
        other = daemon.client()
        other.call("session.open", name="closed-later")
        other.call("allocate", type="OfClosed")
        other.call("session.close")                                  # closeSession (named)
        anon = daemon.client()
        adopted = anon.call("allocate", type="Adopted")["id"]
        anon.call("session.open", name="adopter")                    # transferReferences
        c.call("set", id=thawed, fields={"adopted": adopted})
        other.close()
        anon.close()
    return a, b, w, big


def test_restart_is_invisible():
    daemon = Daemon()
    c = daemon.client()
    build_varied_heap(c, daemon)
    before = everything(c)
    c.close()
    d2 = restart(daemon)
    try:
        c2 = d2.client()
        c2.call("session.open", name="keeper")
        after = everything(c2)
        assert after == before
        # Ids are never reused after a restart either.
        new = c2.call("allocate", type="New")["id"]
        assert new > max(before["inspect"])
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0, d2.read_log()


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_kill_9_after_every_kind_of_operation_loses_nothing(policy):
    """The same workload as the restart test, ended by SIGKILL instead of a clean stop: every
    kind of journaled operation is replayed from the journal alone."""
    daemon = Daemon("--fsync", policy)
    c = daemon.client()
    build_varied_heap(c, daemon)
    before = everything(c)
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()
    c.close()
    d2 = Daemon("--fsync", policy, directory=daemon.dir)
    try:
        c2 = d2.client()
        c2.call("session.open", name="keeper")
        assert everything(c2) == before
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0, d2.read_log()


def test_anonymous_references_are_released_on_recovery_with_events():
    daemon = Daemon()
    c = daemon.client()
    keep = c.call("allocate", type="Kept")["id"]
    c.call("root.set", name="k", id=keep)
    lone = c.call("allocate", type="Lone")["id"]   # held only by this anonymous session
    d = daemon
    # kill -9: the connection never closes cleanly, so the session is still in the journal.
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d2 = Daemon(directory=d.dir)
    try:
        c2 = d2.client()
        assert c2.request("get", {"id": lone})["error"]["data"]["state"] == "freed"
        assert c2.call("get", id=keep)["refcount"] == 1     # the root's; the session's is gone
        assert "released" in d2.read_log()
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_kill_9_at_random_moments_loses_no_acknowledged_change(policy):
    """A writer drives random operations; heapd is killed with SIGKILL 20+ times at random
    moments; after each restart every acknowledged change is there and the heap is consistent.
    A process crash loses nothing under every policy: `always` replies after the fsync,
    `everysec` and `no` after the write (the kernel has it)."""
    rng = random.Random(1234)
    d = Daemon("--fsync", policy)
    model = {}          # root name -> (object id, data) acknowledged
    freed = set()       # ids whose unref (to zero) was acknowledged
    kills = 0
    try:
        while kills < 22:
            c = d.client()
            c.call("session.open", name="writer")
            deadline = rng.randint(5, 60)
            try:
                for step in range(deadline):
                    op = rng.random()
                    if op < 0.5 or not model:
                        name = "r%d" % rng.randint(0, 40)
                        data = {"v": rng.randint(0, 10**9), "step": step}
                        obj = c.call("allocate", type="Rec", data=data)["id"]
                        c.call("root.set", name=name, id=obj)
                        old = model.get(name)
                        model[name] = (obj, data)
                        c.call("unref", id=obj)
                        if old:
                            freed.add(old[0])
                    elif op < 0.8:
                        name = rng.choice(sorted(model))
                        obj, data = model[name]
                        data = dict(data, v=rng.randint(0, 10**9))
                        c.call("set", id=obj, data=data)
                        model[name] = (obj, data)
                    else:
                        name = rng.choice(sorted(model))
                        c.call("root.set", name=name, id=None)
                        freed.add(model.pop(name)[0])
                    if rng.random() < 0.15:
                        # Kill while requests may be in flight: send one more without waiting.
                        c.send({"jsonrpc": "2.0", "id": 99999, "method": "allocate", "params": {"type": "InFlight"}})
                        break
            finally:
                d.proc.send_signal(signal.SIGKILL)
                d.proc.wait()
                kills += 1
                c.close()
            d = Daemon("--fsync", policy, directory=d.dir)
            c = d.client()
            roots = {r["name"]: r["id"] for r in c.call("root.list")["roots"]}
            assert set(roots) == set(model), (kills, sorted(set(roots) ^ set(model)))
            for name, (obj, data) in model.items():
                assert roots[name] == obj
                assert c.call("get", id=obj)["data"] == data
            for obj in freed:
                assert c.request("get", {"id": obj})["error"]["data"]["state"] == "freed"
            check = c.call("check")
            assert check["ok"], check["problems"]
            c.close()
    finally:
        assert d.stop() == 0, d.read_log()
    assert kills >= 20


def journal_files(d):
    """The journals, without the side files of cut tails (journal.N.torn-OFFSET)."""
    return sorted(p for p in glob.glob(os.path.join(d.data, "journal.*")) if p.rsplit(".", 1)[1].isdigit())


def test_torn_tail_is_dropped_and_reported():
    daemon = Daemon()
    c = daemon.client()
    c.call("session.open", name="s")
    ids = [c.call("allocate", type="T", data=[i])["id"] for i in range(5)]
    c.close()
    assert daemon.stop() == 0
    path = journal_files(daemon)[-1]
    size = os.path.getsize(path)
    os.truncate(path, size - 5)          # the last record loses its end, as a crash mid-write
    d2 = Daemon(directory=daemon.dir)
    try:
        c2 = d2.client()
        c2.call("session.open", name="s")
        # The torn record was the last one applied before the clean stop... or later: whatever
        # it was, everything before it is there and the heap is consistent.
        for i in ids[:4]:
            c2.call("get", id=i)
        assert "torn" in d2.read_log()
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0


@pytest.mark.parametrize("tail", ["zeros", "junk"])
def test_zero_filled_or_junk_tail_after_a_crash_is_cut_and_kept(tail):
    """ext4 after a crash can leave the file's new size with zeros for data; other file systems
    junk. No good record follows either, so the daemon cuts it, keeps it aside and starts."""
    daemon = Daemon()
    c = daemon.client()
    c.call("session.open", name="s")
    ids = [c.call("allocate", type="T", data=[i])["id"] for i in range(5)]
    c.close()
    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.stop()
    path = journal_files(daemon)[-1]
    good = os.path.getsize(path)
    cut = bytes(4096) if tail == "zeros" else random.Random(7).randbytes(3000)
    with open(path, "ab") as f:
        f.write(cut)
    d2 = Daemon(directory=daemon.dir)
    try:
        c2 = d2.client()
        c2.call("session.open", name="s")
        for i in ids:
            c2.call("get", id=i)
        assert c2.call("stats")["persistence"]["recovered"]["dropped_torn_bytes"] == len(cut)
        assert c2.call("check")["ok"]
        c2.close()
        assert f"cut a torn tail of {len(cut)} bytes at offset {good}" in d2.read_log()
        with open(f"{path}.torn-{good}", "rb") as f:
            assert f.read() == cut
    finally:
        assert d2.stop() == 0


def test_damage_in_the_middle_is_refused_and_repair_recovers():
    daemon = Daemon()
    c = daemon.client()
    c.call("session.open", name="s")
    ids = [c.call("allocate", type="T", data={"i": i, "pad": "x" * 50})["id"] for i in range(20)]
    c.close()
    assert daemon.stop() == 0
    path = journal_files(daemon)[-1]
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        middle = len(data) // 2
        data[middle] ^= 0xFF
        f.seek(0)
        f.write(data)
    out = subprocess.run([binary("heapd"), "--socket", daemon.socket, "--data", daemon.data],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    message = out.stdout + out.stderr
    assert path in message and "offset" in message
    assert f"heapd repair --data {daemon.data}" in message
    repaired = subprocess.run([binary("heapd"), "repair", "--data", daemon.data],
                              capture_output=True, text=True, timeout=60)
    assert repaired.returncode == 0, repaired.stderr
    assert glob.glob(path + ".damaged-*")
    d2 = Daemon(directory=daemon.dir)
    try:
        c2 = d2.client()
        c2.call("session.open", name="s")
        alive = [i for i in ids if "error" not in c2.request("get", {"id": i})]
        assert 0 < len(alive) < len(ids)
        assert alive == ids[:len(alive)], "a prefix survives"
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0


def test_second_daemon_on_the_same_data_directory_is_refused(daemon):
    other = os.path.join(daemon.dir, "other.sock")
    out = subprocess.run([binary("heapd"), "--socket", other, "--data", daemon.data],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "another heapd is using the data directory" in out.stdout + out.stderr


def test_stats_show_persistence(daemon):
    c = daemon.client()
    p = c.call("stats")["persistence"]
    assert p["mode"] == "disk" and p["fsync"] == "always"
    assert p["data_dir"] == daemon.data
    assert p["journal_bytes"] >= 0
    c.close()


@pytest.mark.parametrize("policy", ["everysec", "no"])
def test_other_fsync_policies_persist_across_a_clean_restart(policy):
    d = Daemon("--fsync", policy)
    c = d.client()
    c.call("session.open", name="s")
    obj = c.call("allocate", type="P", data=policy)["id"]
    c.close()
    d2 = restart(d)
    try:
        c2 = d2.client()
        c2.call("session.open", name="s")
        assert c2.call("get", id=obj)["data"] == policy
        c2.close()
    finally:
        assert d2.stop() == 0


@pytest.mark.parametrize("moved", [False, True], ids=["shared", "moved"])
def test_compaction_keeps_everything_across_restart(monkeypatch, moved):
    """Many changes force snapshots (the journal outgrows them); the restart is still exact.
    `moved`: as a big heap is compacted (`HEAPD_GROW_AHEAD_BYTES=0` makes this small one count
    as big), the heap moves into storage made outside the lock and the snapshot is written from
    the storage it leaves."""
    if moved:
        monkeypatch.setenv("HEAPD_GROW_AHEAD_BYTES", "0")
    d = Daemon("--compact-after", "20000")
    c = d.client()
    c.call("session.open", name="bulk")
    keep = []
    for i in range(3000):
        obj = c.call("allocate", type="Bulk", data={"i": i, "pad": "y" * 200})["id"]
        if i % 3 == 0:
            keep.append(obj)
        else:
            c.call("unref", id=obj)
    before = everything(c)
    assert os.path.exists(os.path.join(d.data, "snapshot")), "the journal was compacted"
    # With storage made apart, the heap moved into it at each compaction; without, the arrays
    # are small and the snapshot shares them.
    assert (c.call("stats")["storage"]["moved_for_snapshots"] > 0) == moved
    assert c.call("check")["ok"]
    c.close()
    d2 = restart(d)
    try:
        c2 = d2.client()
        c2.call("session.open", name="bulk")
        assert everything(c2) == before
        assert len(journal_files(d2)) <= 2, "old journals are removed once a snapshot covers them"
        c2.close()
    finally:
        assert d2.stop() == 0


def test_bit_flips_in_a_snapshot_are_refused_with_a_message_never_a_trap():
    """A damaged snapshot (here: one flipped bit, at 8 places) stops the start with a message
    naming the file and what is damaged; the daemon exits 1, never dies of a signal."""
    d = Daemon("--compact-after", "4000")
    c = d.client()
    build_varied_heap(c)
    for i in range(200):
        c.call("allocate", type="Bulk", data={"i": i, "pad": "z" * 50})
    before = everything(c)
    c.close()
    assert d.stop() == 0
    snapshot = os.path.join(d.data, "snapshot")
    with open(snapshot, "rb") as f:
        good = f.read()
    rng = random.Random(15)
    for _ in range(8):
        bit = rng.randrange(len(good) * 8)
        damaged = bytearray(good)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with open(snapshot, "wb") as f:
            f.write(damaged)
        out = subprocess.run([binary("heapd"), "--socket", d.socket, "--data", d.data],
                             capture_output=True, text=True, timeout=60)
        message = out.stdout + out.stderr
        assert out.returncode == 1, (bit, out.returncode, message)
        assert f"snapshot {snapshot} is damaged" in message, (bit, message)
        assert f"heapd repair --data {d.data}" in message, message
    # The way forward: repair puts the previous snapshot in place, and the journals after it
    # bring everything back.
    repaired = subprocess.run([binary("heapd"), "repair", "--data", d.data], capture_output=True, text=True)
    assert repaired.returncode == 0, repaired.stderr
    assert os.path.exists(snapshot + ".damaged")
    d2 = Daemon(directory=d.dir)
    try:
        c2 = d2.client()
        c2.call("session.open", name="keeper")
        assert everything(c2) == before
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0


def test_failed_delete_interning_survives_a_restart():
    """A refused `set` that deleted an absent field still interned the name (as CPython 3.11's
    failed `del`); the journal keeps that, so the type's field order is the same after replay."""
    daemon = Daemon()
    c = daemon.client()
    d = c.call("allocate", type="D")["id"]
    c.call("root.set", name="d", id=d)
    try:
        c.call("set", id=d, fields={"b": None})
        raise AssertionError("deleting an absent field succeeded")
    except Exception as e:
        assert getattr(e, "code", None) == -32015, e
    c.close()
    d2 = restart(daemon)
    try:
        c2 = d2.client()
        c2.call("set", id=d, fields={"q": d, "b": d})
        assert list(c2.call("get", id=d)["fields"]) == ["b", "q"]
        assert c2.call("check")["ok"]
        c2.close()
    finally:
        assert d2.stop() == 0, d2.read_log()


def test_a_clean_stop_compacts_a_grown_journal_and_the_next_start_replays_nothing():
    """Past 16 MiB of journal since the last snapshot, a clean stop writes a snapshot first, so the
    next start loads it instead of replaying the journal (at ten million objects, seconds); a
    smaller journal is left as it is."""
    d = Daemon()
    c = d.client()
    c.call("session.open", name="bulk")
    pad = "x" * 4096
    for i in range(4400):  # about 18 MiB of journal
        obj = c.call("allocate", type="Bulk", data={"i": i, "pad": pad})["id"]
        if i % 2:
            c.call("unref", id=obj)
    assert c.call("stats")["persistence"]["journal_bytes"] > 16 << 20
    before = everything(c)
    c.close()
    d2 = restart(d)
    try:
        log = d2.read_log()
        assert "writing a snapshot before stopping" in log, log
        assert "(0 journal records)" in log.splitlines()[-2] + log.splitlines()[-1], log
        c2 = d2.client()
        c2.call("session.open", name="bulk")
        assert everything(c2) == before
        c2.close()
    finally:
        assert d2.stop() == 0
    assert d2.read_log().count("writing a snapshot before stopping") == 1, "a small journal is left as it is"

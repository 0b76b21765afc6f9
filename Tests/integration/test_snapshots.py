"""Snapshots and exact diffs (SPEC §5, issue 13) against the real daemon.

The oracle is the test's own model of the heap: reference counts (session references plus
fields) free an object the moment they reach zero, and `collect` frees what the session's
references cannot reach (automatic collection is off, there are no finalizers). Every diff of
every pair of snapshots, and every three-snapshot leak query, must equal what the model says,
id by id, with exact counts and bytes per type.
"""
import collections
import json
import os
import random
import subprocess

import pytest

from heapd_harness import Daemon, RPCError, binary

TYPES = ["Person", "Node", "Blob", "Cache", "Widget", "Temp"]


class Model:
    """What should be alive: id -> [type, size, {field: target}], and this session's references."""

    def __init__(self):
        self.objects = {}
        self.held = collections.Counter()

    def refcount(self, oid):
        return self.held[oid] + sum(list(o[2].values()).count(oid) for o in self.objects.values())

    def drop(self, oid):
        """A reference to `oid` went away: free it (and what only it held) at refcount 0."""
        work = [oid]
        while work:
            x = work.pop()
            if x in self.objects and self.refcount(x) == 0:
                fields = self.objects.pop(x)[2]
                work.extend(t for t in fields.values() if t is not None)

    def collect(self):
        seen, work = set(), [x for x, n in self.held.items() if n > 0 and x in self.objects]
        while work:
            x = work.pop()
            if x not in seen:
                seen.add(x)
                work.extend(t for t in self.objects[x][2].values() if t in self.objects)
        for x in list(self.objects):
            if x not in seen:
                del self.objects[x]

    def census(self):
        return {x: (o[0], o[1]) for x, o in self.objects.items()}


def expected_diff(before, after):
    new = sorted(set(after) - set(before))
    freed = sorted(set(before) - set(after))
    rows = collections.defaultdict(lambda: [0, 0, 0, 0])  # new, freed, new bytes, freed bytes
    for x in new:
        rows[after[x][0]][0] += 1
        rows[after[x][0]][2] += after[x][1]
    for x in freed:
        rows[before[x][0]][1] += 1
        rows[before[x][0]][3] += before[x][1]
    by_type = [{"type": t, "new": r[0], "freed": r[1], "count_delta": r[0] - r[1], "bytes_delta": r[2] - r[3]}
               for t, r in rows.items()]
    by_type.sort(key=lambda r: (-r["bytes_delta"], -r["count_delta"], r["type"]))
    return {"new": {"count": len(new), "bytes": sum(after[x][1] for x in new), "ids": new},
            "freed": {"count": len(freed), "bytes": sum(before[x][1] for x in freed), "ids": freed},
            "by_type": by_type}


def expected_leaks(a, b, c):
    leaked = sorted(x for x in b if x not in a and x in c)
    rows = collections.defaultdict(lambda: [0, 0])
    for x in leaked:
        rows[c[x][0]][0] += 1
        rows[c[x][0]][1] += c[x][1]
    by_type = sorted(({"type": t, "count": n, "bytes": s} for t, (n, s) in rows.items()),
                     key=lambda r: (-r["bytes"], -r["count"], r["type"]))
    return {"leaked": {"count": len(leaked), "bytes": sum(c[x][1] for x in leaked), "ids": leaked},
            "by_type": by_type}


def random_workload(client, model, rng, steps):
    """Allocations (single and by apply), links, cycles, unrefs and collections."""
    for _ in range(steps):
        held = [x for x, n in model.held.items() if n > 0 and x in model.objects]
        roll = rng.random()
        if roll < 0.35 or len(held) < 4:
            t, size = rng.choice(TYPES), rng.choice([0, 1, 17, 300, 4096, rng.randrange(100_000)])
            if rng.random() < 0.3:
                data = {"n": rng.randrange(1000)}
                oid = client.call("allocate", type=t, data=data)["id"]
                size = len(json.dumps(data, separators=(",", ":")))
            else:
                oid = client.call("allocate", type=t, size=size)["id"]
            model.objects[oid] = [t, size, {}]
            model.held[oid] += 1
        elif roll < 0.45:
            ops = [["alloc", rng.choice(TYPES), rng.randrange(5000)] for _ in range(rng.randrange(1, 8))]
            ids = client.call("apply", ops=ops)["results"]
            for op, oid in zip(ops, ids):
                model.objects[oid] = [op[1], op[2], {}]
                model.held[oid] += 1
        elif roll < 0.65:
            a, b = rng.choice(held), rng.choice(held + [None])
            field = rng.choice(["next", "prev", "child", "owner"])
            if b is None and field not in model.objects[a][2]:
                b = rng.choice(held)  # deleting a field the object lacks is refused (-32015)
            client.call("set", id=a, fields={field: b})
            old = model.objects[a][2].get(field)
            if b is None:
                model.objects[a][2].pop(field, None)
            else:
                model.objects[a][2][field] = b
            if old is not None:
                model.drop(old)
        elif roll < 0.72:
            a = client.call("allocate", type="Ring", size=64)["id"]
            b = client.call("allocate", type="Ring", size=64)["id"]
            client.call("set", id=a, fields={"next": b})
            client.call("set", id=b, fields={"next": a})
            model.objects[a] = ["Ring", 64, {"next": b}]
            model.objects[b] = ["Ring", 64, {"next": a}]
            client.call("unref", id=a)
            client.call("unref", id=b)  # a garbage cycle: alive until collect
        elif roll < 0.95:
            x = rng.choice(held)
            client.call("unref", id=x)
            model.held[x] -= 1
            model.drop(x)
        else:
            client.call("collect")
            model.collect()


def test_diffs_and_leaks_are_exact_on_a_random_workload():
    d = Daemon("--memory")
    try:
        c = d.client()
        c.call("gc.set", enabled=False)
        rng = random.Random(1311)
        model = Model()
        saved = {}
        for i in range(6):
            random_workload(c, model, rng, 150)
            name = f"s{i}"
            r = c.call("snapshot.save", name=name)
            saved[name] = model.census()
            assert (r["objects"], r["bytes"]) == (len(saved[name]), sum(s for _, s in saved[name].values())), r
        random_workload(c, model, rng, 100)
        now = model.census()
        assert len(now) > 150, len(now)                  # hundreds of live objects, as promised
        names = list(saved)
        for i, a in enumerate(names):
            for b in names[i + 1:] + [None]:
                params = {"from": a, "limit": 100000}
                if b:
                    params["to"] = b
                got = c.call("snapshot.diff", **params)
                want = expected_diff(saved[a], saved[b] if b else now)
                assert got == {"from": a, "to": b, **want}, (a, b)
        for a, b, third in [("s0", "s2", "s4"), ("s1", "s3", None), ("s2", "s3", "s5")]:
            params = {"first": a, "second": b, "limit": 100000}
            if third:
                params["third"] = third
            got = c.call("snapshot.leaks", **params)
            assert got == expected_leaks(saved[a], saved[b], saved[third] if third else now), (a, b, third)
        # The model and the daemon agree on the live set itself, not only on differences.
        c.call("snapshot.save", name="empty-check")
        assert c.call("snapshot.diff", **{"from": "empty-check"})["new"]["count"] == 0
        c.close()
    finally:
        assert d.stop() == 0


def test_ids_are_cut_at_the_limit_with_exact_totals(client):
    client.call("snapshot.save", name="before")
    ids = [client.call("allocate", type="T", size=10)["id"] for _ in range(7)]
    r = client.call("snapshot.diff", **{"from": "before", "limit": 3})
    assert r["new"] == {"count": 7, "bytes": 70, "ids": sorted(ids)[:3], "truncated": True}, r
    assert r["freed"] == {"count": 0, "bytes": 0, "ids": []}, r
    r = client.call("snapshot.diff", **{"from": "before"})   # default 1000: nothing cut
    assert r["new"]["ids"] == sorted(ids) and "truncated" not in r["new"], r


def test_snapshots_survive_a_restart_and_a_kill():
    d = Daemon()
    try:
        c = d.client()
        a = c.call("allocate", type="Person", size=20)["id"]
        c.call("snapshot.save", name="one")
        b = c.call("allocate", type="Person", size=30)["id"]
        c.call("unref", id=a)
        c.call("snapshot.save", name="two")       # acknowledged: fsynced before the reply
        c.close()
        d.proc.kill()                              # kill -9: nothing acknowledged is lost
        d.proc.wait()
        d.log.close()
        d = Daemon(directory=d.dir)
        c = d.client()
        assert [s["name"] for s in c.call("snapshot.list")["snapshots"]] == ["one", "two"]
        diff = c.call("snapshot.diff", **{"from": "one", "to": "two"})
        assert diff["new"]["ids"] == [b] and diff["freed"]["ids"] == [a], diff
        assert diff["freed"]["bytes"] == 20 and diff["new"]["bytes"] == 30, diff
        c.close()
        assert d.stop() == 0
        d = Daemon(directory=d.dir)              # and after a clean stop
        c = d.client()
        assert c.call("snapshot.diff", **{"from": "one", "to": "two"}) == diff
        c.call("snapshot.delete", name="one")
        c.close()
        assert d.stop() == 0
        assert sorted(os.listdir(os.path.join(d.data, "snapshots"))) == ["two.census"]
    finally:
        d.stop()


def test_a_damaged_snapshot_file_is_skipped_and_named():
    d = Daemon()
    c = d.client()
    c.call("allocate", type="T", size=5)
    c.call("snapshot.save", name="good")
    c.call("snapshot.save", name="flipped")
    c.close()
    assert d.stop() == 0
    path = os.path.join(d.data, "snapshots", "flipped.census")
    with open(path, "r+b") as f:
        raw = bytearray(f.read())
        raw[len(raw) // 2] ^= 0x10
        f.seek(0)
        f.write(raw)
    d = Daemon(directory=d.dir)
    try:
        c = d.client()
        assert [s["name"] for s in c.call("snapshot.list")["snapshots"]] == ["good"]
        assert "flipped.census: checksum mismatch" in d.read_log()
        with pytest.raises(RPCError) as e:
            c.call("snapshot.diff", **{"from": "flipped"})
        assert e.value.code == -32013
        c.call("snapshot.save", name="flipped")   # a new save replaces the damaged file
        c.close()
    finally:
        assert d.stop() == 0


def test_bad_names_and_the_limit_change_nothing(daemon, client):
    for bad in ["", "../escape", ".hidden", "a/b", "x" * 65, "sp ace", "é"]:
        with pytest.raises(RPCError) as e:
            client.call("snapshot.save", name=bad)
        assert e.value.code == -32602 and "params.name" in e.value.message, (bad, e.value.message)
    with pytest.raises(RPCError) as e:
        client.call("snapshot.save", name=5)
    assert e.value.code == -32602
    assert client.call("snapshot.list") == {"snapshots": []}
    assert os.listdir(os.path.join(daemon.data, "snapshots")) == []
    for i in range(64):
        client.call("snapshot.save", name=f"n{i}")
    with pytest.raises(RPCError) as e:
        client.call("snapshot.save", name="one-too-many")
    assert e.value.code == -32003 and "64 snapshots" in e.value.message
    assert client.call("snapshot.save", name="n7")["replaced"] is True   # replacing is fine at the limit
    assert len(client.call("snapshot.list")["snapshots"]) == 64
    for method, params, code in [("snapshot.delete", {"name": "nope"}, -32013),
                                 ("snapshot.diff", {"from": "n1", "to": "nope"}, -32013),
                                 ("snapshot.leaks", {"first": "n1", "second": "nope"}, -32013),
                                 ("snapshot.diff", {"from": "n1", "limit": 0}, -32602),
                                 ("snapshot.leaks", {"first": "n1"}, -32602)]:
        with pytest.raises(RPCError) as e:
            client.call(method, **params)
        assert e.value.code == code, (method, params, e.value.message)
    assert len(os.listdir(os.path.join(daemon.data, "snapshots"))) == 64


def test_memory_mode_keeps_snapshots_in_memory():
    d = Daemon("--memory")
    try:
        c = d.client()
        c.call("snapshot.save", name="m")
        x = c.call("allocate", type="T", size=3)["id"]
        assert c.call("snapshot.diff", **{"from": "m"})["new"]["ids"] == [x]
        assert not os.path.exists(d.data)
        c.close()
    finally:
        assert d.stop() == 0


def test_heapctl_snapshot_commands(daemon):
    def heapctl(*args):
        out = subprocess.run([binary("heapctl"), "--socket", daemon.socket, *args],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out
        return out.stdout
    assert heapctl("snapshot", "save", "before").startswith("saved before: 0 objects, 0 B")
    for _ in range(2):
        heapctl("allocate", "Person", "--data", '{"name":"Ann"}')
    heapctl("allocate", "Temp")
    out = heapctl("snapshot", "diff", "before")
    lines = out.splitlines()
    assert lines[0] == "before → now: 3 new (28 B), 0 freed (0 B)", out
    assert lines[1].split() == ["TYPE", "NEW", "FREED", "Δ", "COUNT", "Δ", "SIZE"], out
    assert lines[2].split() == ["Person", "2", "0", "+2", "+28", "B"], out
    assert lines[3].split() == ["Temp", "1", "0", "+1", "0", "B"], out
    assert lines[4] == "new ids: 1, 2, 3" and lines[5] == "freed ids: (none)", out
    assert "before" in heapctl("snapshot", "list")
    out = subprocess.run([binary("heapctl"), "--socket", daemon.socket, "snapshot", "diff", "nope"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "no snapshot named nope" in out.stderr, out


def test_pipelined_requests_behind_a_deferred_one_keep_their_order(client):
    """snapshot.* finish off the event loop; what was pipelined after them waits, in order."""
    lines = []
    for i in range(30):
        method, params = [("snapshot.save", {"name": f"p{i % 3}"}), ("allocate", {"type": "T", "size": i}),
                          ("snapshot.diff", {"from": "p0"}), ("ping", {})][i % 4]
        lines.append(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}))
    client.send_raw(("\n".join(lines) + "\n").encode())
    replies = [client.read_message() for _ in lines]
    assert [r["id"] for r in replies] == list(range(30)), replies
    assert all("result" in r for r in replies), [r for r in replies if "error" in r]
    # Each diff saw exactly the allocations before it since the latest save of p0.
    assert replies[2]["result"]["new"]["ids"] == [replies[1]["result"]["id"]], replies[2]

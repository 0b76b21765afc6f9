"""`export` (SPEC §5): the heap as a V8 `.heapsnapshot`.

A strict reader, written here from the format's description, checks every file: the meta
(fields and type names), the flat `nodes`/`edges` arrays (lengths, `to_node` alignment and range,
string indexes, per-node `edge_count` summing to the edges, valid types). The reader is first
proven on a real snapshot that Node writes (and shown to reject broken ones). Then heapd's exports
of a random workload are compared with what the test itself built: types, ids, sizes, property
edges by field name, weak edges, and the synthetic root holder nodes.
"""
import copy
import json
import os
import random
import re
import shutil
import subprocess
import tempfile

import pytest

from heapd_harness import RPCError, binary, daemon_with

NODE_FIELDS = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]
EDGE_FIELDS = ["type", "name_or_index", "to_node"]
HOSTILE = 'We"ird\\name\n\t\x01\x1f ü € 😀 </script>'


class SnapshotError(AssertionError):
    pass


def need(cond, what):
    if not cond:
        raise SnapshotError(what)


def read_snapshot(doc):
    """Checks a parsed .heapsnapshot strictly; returns (nodes, edges) as dicts, edges with `from`
    (node ordinal) and `to` (node ordinal); names resolved to strings (element/hidden: ints)."""
    need(isinstance(doc, dict), "top level is an object")
    for key in ("snapshot", "nodes", "edges", "strings"):
        need(key in doc, f"missing {key}")
    snap = doc["snapshot"]
    meta = snap["meta"]
    need(meta["node_fields"] == NODE_FIELDS, f"node_fields {meta['node_fields']}")
    need(meta["edge_fields"] == EDGE_FIELDS, f"edge_fields {meta['edge_fields']}")
    node_types, edge_types = meta["node_types"], meta["edge_types"]
    need(len(node_types) == len(NODE_FIELDS) and isinstance(node_types[0], list), "node_types shape")
    need(node_types[1:] == ["string", "number", "number", "number", "number", "number"], "node field kinds")
    need(len(edge_types) == len(EDGE_FIELDS) and isinstance(edge_types[0], list), "edge_types shape")
    need(edge_types[1:] == ["string_or_number", "node"], "edge field kinds")
    for t in ("object", "synthetic", "hidden", "native"):
        need(t in node_types[0], f"node type {t}")
    for t in ("element", "property", "weak", "hidden", "internal"):
        need(t in edge_types[0], f"edge type {t}")
    nodes, edges, strings = doc["nodes"], doc["edges"], doc["strings"]
    nf, ef = len(NODE_FIELDS), len(EDGE_FIELDS)
    need(all(isinstance(s, str) for s in strings), "strings are strings")
    need(all(type(v) is int and v >= 0 for v in nodes), "nodes are non-negative integers")
    need(all(type(v) is int and v >= 0 for v in edges), "edges are non-negative integers")
    need(len(nodes) % nf == 0, "nodes length is a multiple of the node fields")
    need(len(edges) % ef == 0, "edges length is a multiple of the edge fields")
    node_count, edge_count = len(nodes) // nf, len(edges) // ef
    need(snap["node_count"] == node_count, f"node_count {snap['node_count']} != {node_count}")
    need(snap["edge_count"] == edge_count, f"edge_count {snap['edge_count']} != {edge_count}")
    need(node_count >= 1, "a root node")
    out_nodes, out_edges = [], []
    e = 0
    for i in range(node_count):
        t, name, nid, size, count, trace, detached = nodes[i * nf:(i + 1) * nf]
        need(t < len(node_types[0]), f"node {i}: type {t}")
        need(name < len(strings), f"node {i}: name index {name}")
        need(detached in (0, 1, 2), f"node {i}: detachedness {detached}")
        out_nodes.append({"type": node_types[0][t], "name": strings[name], "id": nid, "self_size": size,
                          "edge_count": count, "edges": []})
        for _ in range(count):
            need(e < edge_count, f"node {i}: edge_count runs past the edges")
            et, name_or_index, to = edges[e * ef:(e + 1) * ef]
            need(et < len(edge_types[0]), f"edge {e}: type {et}")
            kind = edge_types[0][et]
            need(to % nf == 0, f"edge {e}: to_node {to} is not a multiple of {nf}")
            need(to // nf < node_count, f"edge {e}: to_node {to} out of range")
            if kind in ("element", "hidden"):
                label = name_or_index  # a number
            else:
                need(name_or_index < len(strings), f"edge {e}: name index {name_or_index}")
                label = strings[name_or_index]
            edge = {"type": kind, "name": label, "from": i, "to": to // nf}
            out_edges.append(edge)
            out_nodes[i]["edges"].append(edge)
            e += 1
    need(e == edge_count, f"the nodes' edge_count sum to {e}, not {edge_count}")
    return out_nodes, out_edges


@pytest.fixture(scope="module")
def node_snapshot():
    """A real snapshot written by Node's V8."""
    if shutil.which("node") is None:
        pytest.fail("node is required (CI installs it): the strict reader is proven on its snapshots")
    d = tempfile.mkdtemp(prefix="heapd-export-node-")
    path = os.path.join(d, "node.heapsnapshot")
    subprocess.run(["node", "-e", f"globalThis.keep = {{cycle: {{}}}}; keep.cycle.self = keep;"
                    f" require('v8').writeHeapSnapshot({json.dumps(path)})"], check=True, timeout=120)
    with open(path) as f:
        doc = json.load(f)
    shutil.rmtree(d)
    return doc


def test_reader_accepts_node_snapshot(node_snapshot):
    nodes, edges = read_snapshot(node_snapshot)
    assert len(nodes) > 1000 and len(edges) > len(nodes)
    assert nodes[0]["type"] == "synthetic"
    assert "(GC roots)" in {n["name"] for n in nodes if n["type"] == "synthetic"}
    kinds = {e["type"] for e in edges}
    assert {"element", "property", "weak", "hidden", "internal"} <= kinds
    assert any(e["type"] == "property" and e["name"] == "cycle" for e in edges)
    assert all(n["id"] % 2 == 1 for n in nodes if n["type"] == "object"), "V8 numbers JS objects odd"


@pytest.mark.parametrize("breakage", [
    "to_node_unaligned", "to_node_out_of_range", "edge_count_sum", "string_index", "node_type",
    "edge_type", "node_count", "ragged_nodes", "meta_fields"])
def test_reader_rejects_broken_snapshots(node_snapshot, breakage):
    doc = copy.deepcopy(node_snapshot)
    nf, ef = len(NODE_FIELDS), len(EDGE_FIELDS)
    if breakage == "to_node_unaligned":
        doc["edges"][2] += 1
    elif breakage == "to_node_out_of_range":
        doc["edges"][2] = len(doc["nodes"])
    elif breakage == "edge_count_sum":
        doc["nodes"][4] += 1
    elif breakage == "string_index":
        doc["nodes"][nf + 1] = len(doc["strings"])
    elif breakage == "node_type":
        doc["nodes"][nf] = len(doc["snapshot"]["meta"]["node_types"][0])
    elif breakage == "edge_type":
        doc["edges"][ef] = len(doc["snapshot"]["meta"]["edge_types"][0])
    elif breakage == "node_count":
        doc["snapshot"]["node_count"] += 1
    elif breakage == "ragged_nodes":
        doc["nodes"].append(0)
    elif breakage == "meta_fields":
        doc["snapshot"]["meta"]["node_fields"] = NODE_FIELDS[:-1]
    with pytest.raises(SnapshotError):
        read_snapshot(doc)


class Workload:
    """A random heap built through the protocol, with everything the export must show tracked
    here: objects (type, size, fields, weak referent) and what each holder holds."""

    def __init__(self, daemon, seed, n=300):
        self.rng = rng = random.Random(seed)
        self.main, self.other = daemon.client(), daemon.client()
        self.main.call("gc.set", enabled=False)
        self.other.call("session.open", name="alice")
        self.objects = {}  # id -> {"type", "size", "fields": {name: id}, "weak": id or None}
        self.held = {"main": set(), "alice": set(), "permanent": set(), "garbage": set()}
        self.roots = {}
        types = ["Node", "Person", "list", "dict", HOSTILE]
        fields = ["next", "prev", "a", "b", "value", HOSTILE, "ключ"]

        # Frozen: everything live at gc.freeze is held by the permanent generation.
        # (A ring: the frozen objects the session lets go of are still referenced, so not freed.)
        frozen = self.alloc(self.main, "main", 20, ["Frozen"])
        self.ring(self.main, frozen)
        self.link(self.main, frozen, fields, frozen)
        self.main.call("gc.freeze")
        self.held["permanent"] = set(self.objects)
        self.unref(self.main, "main", frozen[:10])
        # gc.garbage: a cycle nobody holds, collected under SAVEALL (only it is collectable).
        cycle = self.alloc(self.main, "main", 6, ["Saved"])
        self.ring(self.main, cycle)
        self.unref(self.main, "main", cycle)
        self.main.call("gc.set", debug=["SAVEALL"])
        assert self.main.call("collect")["unreachable"] == len(cycle)
        self.main.call("gc.set", debug=[])
        self.held["garbage"] = set(cycle)
        # The bulk, in two sessions, linked at random, with weakrefs (some with fields).
        for c, who in ((self.main, "main"), (self.other, "alice")):
            objs = self.alloc(c, who, n // 2, types)
            self.link(c, objs, fields, list(self.objects))
        for _ in range(n // 15):
            target = rng.choice(list(self.objects))
            closure = rng.choice(list(self.objects))
            w = self.main.call("weakref", id=target, fields={"closure": closure})["id"]
            self.objects[w] = {"type": "weakref", "size": 0, "fields": {"closure": closure}, "weak": target}
            self.held["main"].add(w)
            holder = rng.choice(list(self.objects))
            self.set(self.main, holder, "weak", w)
        for i, o in enumerate(rng.sample(sorted(self.objects), 5)):
            name = f"root{i}" if i else HOSTILE
            self.main.call("root.set", name=name, id=o)
            self.roots[name] = o
        # Live garbage: cycles that nothing holds, never collected (gc is disabled).
        for _ in range(4):
            ring = self.alloc(self.other, "alice", rng.randrange(2, 6), ["Orphan"])
            self.ring(self.other, ring)
            self.unref(self.other, "alice", ring)

    def alloc(self, c, who, count, types):
        sizes = [self.rng.randrange(0, 5000) for _ in range(count)]
        chosen = [self.rng.choice(types) for _ in range(count)]
        ids = c.call("apply", ops=[["alloc", t, s] for t, s in zip(chosen, sizes)])["results"]
        for i, t, s in zip(ids, chosen, sizes):
            self.objects[i] = {"type": t, "size": s, "fields": {}, "weak": None}
            self.held[who].add(i)
        return ids

    def set(self, c, source, field, target):
        c.call("set", id=source, fields={field: target})
        fs = self.objects[source]["fields"]
        fs.pop(field, None)  # a field keeps its place; a dict comparison ignores order anyway
        fs[field] = target

    def link(self, c, sources, fields, targets):
        ops = []
        for s in sources:
            for _ in range(self.rng.randrange(0, 4)):
                f, t = self.rng.choice(fields), self.rng.choice(targets)
                ops.append(["set", s, f, t])
                self.objects[s]["fields"][f] = t
        if ops:
            c.call("apply", ops=ops)

    def ring(self, c, ids):
        for a, b in zip(ids, ids[1:] + ids[:1]):
            self.set(c, a, "loop", b)

    def unref(self, c, who, ids):
        """Drops references that free nothing: frozen objects and cycle members only."""
        c.call("apply", ops=[["unref", i] for i in ids])
        self.held[who] -= set(ids)


def object_nodes(nodes):
    return {(n["id"] - 1) // 2: n for n in nodes if n["type"] == "object"}


def check_against(w, nodes, edges, session_id):
    """The export shows exactly the heap the workload built."""
    assert nodes[0]["type"] == "synthetic"
    objs = object_nodes(nodes)
    assert all(n["id"] % 2 == 1 for n in objs.values()), "object node ids are 2*id+1"
    assert all(n["id"] % 2 == 0 for n in nodes if n["type"] != "object"), "synthetic ids are even"
    assert len({n["id"] for n in nodes}) == len(nodes), "node ids are distinct"
    assert set(objs) == set(w.objects)
    assert len(nodes) == 1 + len(nodes[0]["edges"]) + len(w.objects)
    for oid, want in w.objects.items():
        n = objs[oid]
        assert (n["name"], n["self_size"]) == (want["type"], want["size"]), oid
        props = {e["name"]: (nodes[e["to"]]["id"] - 1) // 2 for e in n["edges"] if e["type"] == "property"}
        assert props == want["fields"], oid
        assert len([e for e in n["edges"] if e["type"] == "property"]) == len(want["fields"]), oid
        weak = [(e["name"], (nodes[e["to"]]["id"] - 1) // 2) for e in n["edges"] if e["type"] == "weak"]
        assert weak == ([("referent", want["weak"])] if want["weak"] else []), oid
        assert all(e["type"] in ("property", "weak") for e in n["edges"]), oid
    # Node 0: one element edge per holder; each holder: an edge per object it holds.
    holders = {}
    for i, e in enumerate(nodes[0]["edges"]):
        assert e["type"] == "element" and e["name"] == i + 1
        h = nodes[e["to"]]
        assert h["type"] == "synthetic" and h["self_size"] == 0
        targets = [(nodes[x["to"]]["id"] - 1) // 2 for x in h["edges"]]
        assert len(targets) == len(set(targets)), h["name"]
        assert targets == sorted(targets), "holders list what they hold by id"
        holders[h["name"]] = (h["edges"], set(targets))
    expected = {
        f"(session #{session_id})": w.held["main"], "(session alice)": w.held["alice"],
        "(permanent generation)": w.held["permanent"], "(gc.garbage)": w.held["garbage"],
    }
    expected.update({f"(root {name})": {o} for name, o in w.roots.items()})
    assert {k: v[1] for k, v in holders.items()} == expected
    order = [nodes[e["to"]]["name"] for e in nodes[0]["edges"]]
    assert order == [f"(session alice)", f"(session #{session_id})"] + \
        [f"(root {n})" for n in sorted(w.roots)] + ["(permanent generation)", "(gc.garbage)"]
    for name, (hedges, _) in holders.items():
        if name.startswith("(root "):
            assert [(e["type"], e["name"]) for e in hedges] == [("property", name[6:-1])]
        else:
            assert [(e["type"], e["name"]) for e in hedges] == [("element", i) for i in range(len(hedges))]


def export_file(c, path):
    r = c.call("export", format="heapsnapshot", path=path)
    with open(path) as f:
        text = f.read()
    assert r == {"path": path, "bytes": len(text.encode()), "nodes": r["nodes"], "edges": r["edges"]}
    doc = json.loads(text)
    assert (r["nodes"], r["edges"]) == (doc["snapshot"]["node_count"], doc["snapshot"]["edge_count"])
    return doc


@pytest.mark.parametrize("seed", [1, 2])
def test_export_matches_the_workload(daemon, tmp_path, seed):
    w = Workload(daemon, seed)
    before = w.main.call("stats")
    gc_before = w.main.call("gc.get")
    doc = export_file(w.main, str(tmp_path / "heap.heapsnapshot"))
    nodes, edges = read_snapshot(doc)
    anonymous = [n["name"] for n in nodes if re.fullmatch(r"\(session #\d+\)", n["name"])]
    assert len(anonymous) == 1, anonymous
    check_against(w, nodes, edges, anonymous[0][len("(session #"):-1])
    # Inline: the same JSON object.
    assert w.main.call("export", format="heapsnapshot") == {"snapshot": doc}
    # Nothing changed, nothing was collected: live garbage is still there.
    after = w.main.call("stats")
    assert after["objects"] == before["objects"] == len(w.objects)
    gc_after = w.main.call("gc.get")
    assert (gc_after["count"], gc_after["garbage"], gc_after["stats"]) == \
        (gc_before["count"], gc_before["garbage"], gc_before["stats"])
    assert sorted(os.listdir(tmp_path)) == ["heap.heapsnapshot"], "no temporary file is left"


def test_empty_heap_and_replaced_file(daemon, client, tmp_path):
    path = str(tmp_path / "x.heapsnapshot")
    with open(path, "w") as f:
        f.write("old")
    doc = export_file(client, path)
    nodes, edges = read_snapshot(doc)
    assert [(n["type"], n["edge_count"]) for n in nodes] == [("synthetic", 0)] and edges == []
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_bad_params_change_nothing(daemon, client, tmp_path):
    a = client.call("allocate", type="Node")["id"]
    before = client.call("stats")["objects"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    os.mkdir(tmp_path / "dir")
    cases = [
        ({}, "params.format"),
        ({"format": "dot"}, "params.format"),
        ({"format": 1}, "params.format"),
        ({"format": "heapsnapshot", "path": "relative.heapsnapshot"}, "params.path"),
        ({"format": "heapsnapshot", "path": 7}, "params.path"),
        ({"format": "heapsnapshot", "path": ""}, "params.path"),
    ]
    for params, named in cases:
        reply = client.request("export", params)
        assert reply["error"]["code"] == -32602, (params, reply)
        assert reply["error"]["message"].startswith(named), (params, reply)
    unwritable = [
        (str(tmp_path / "missing" / "x.heapsnapshot"), "ENOENT"),
        (str(blocker / "x.heapsnapshot"), "ENOTDIR"),
        (str(tmp_path / "dir"), "EISDIR"),
    ]
    for path, errno_name in unwritable:
        reply = client.request("export", {"format": "heapsnapshot", "path": path})
        err = reply["error"]
        assert err["code"] == -32602 and path in err["message"], reply
        assert err["data"] == {"path": path, "errno": errno_name}, reply
    assert sorted(os.listdir(tmp_path)) == ["dir", "file"], "no temporary file is left"
    assert os.listdir(tmp_path / "dir") == []
    assert client.call("stats")["objects"] == before
    assert client.call("get", id=a)["type"] == "Node"


def test_inline_export_is_bounded(tmp_path):
    with daemon_with("--memory") as d:
        c = d.client()
        for _ in range(25):
            c.call("apply", ops=[["alloc", "Big"]] * 10000)
        reply = c.request("export", {"format": "heapsnapshot"})
        err = reply["error"]
        assert err["code"] == -32602 and "path" in err["message"], reply
        assert err["data"] == {"limit": 4 << 20}
        path = str(tmp_path / "big.heapsnapshot")
        r = c.call("export", format="heapsnapshot", path=path)
        assert r["bytes"] > 4 << 20 and r["nodes"] == 250_000 + 2
        nodes, _ = read_snapshot(json.load(open(path)))
        assert len(object_nodes(nodes)) == 250_000
        c.close()


def test_heapctl_export(daemon, tmp_path):
    def heapctl(*args):
        return subprocess.run([binary("heapctl"), *args, "--socket", daemon.socket, "--session", "cli"],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)
    oid = heapctl("allocate", "Person").stdout.strip()
    out = heapctl("export", "rel.heapsnapshot")
    assert out.returncode == 0, out.stderr
    path = str(tmp_path / "rel.heapsnapshot")
    assert path in out.stdout and "nodes" in out.stdout and "edges" in out.stdout
    nodes, _ = read_snapshot(json.load(open(path)))
    assert object_nodes(nodes)[int(oid)]["name"] == "Person"
    got = json.loads(heapctl("export", "again.heapsnapshot", "--json").stdout)
    assert got["path"] == str(tmp_path / "again.heapsnapshot") and got["nodes"] == 3 and got["edges"] == 2
    assert got["bytes"] == os.path.getsize(got["path"])
    bad = heapctl("export", "no/such/dir/x.heapsnapshot")
    assert bad.returncode == 1 and str(tmp_path / "no/such/dir/x.heapsnapshot") in bad.stderr, bad


def test_full_disk_is_a_clear_error_and_leaves_nothing(daemon, client):
    """ENOSPC mid-write (a 256 KiB tmpfs; needs root): -32602 naming the path, no file left."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tempfile.mkdtemp(prefix="heapd-export-full-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", disk], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        for _ in range(5):
            client.call("apply", ops=[["alloc", "Big"]] * 10000)
        path = os.path.join(disk, "full.heapsnapshot")
        err = client.request("export", {"format": "heapsnapshot", "path": path})["error"]
        assert err["code"] == -32602 and path in err["message"] and "No space left" in err["message"], err
        assert err["data"] == {"path": path, "errno": "ENOSPC"}
        assert os.listdir(disk) == []
        assert client.call("stats")["objects"] == 50_000
    finally:
        subprocess.run(["umount", "-l", disk])

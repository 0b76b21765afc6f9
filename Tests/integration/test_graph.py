"""`graph` (SPEC §5): Graphviz pictures of the heap, on the real daemon.

The DOT text is parsed here (a small parser for the DOT grammar: statements, quoted strings,
attribute lists) and compared with the heap the test built, or with what other methods say
(`get`, `inspect`, networkx's strongly connected components over the fields `get` shows). Every
picture is also rendered by Graphviz's own `dot -Tsvg` and the SVG parsed with xml.etree, so a
quoting mistake shows up as dot's error or as the wrong rendered text.
"""
import os
import random
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from heapd_harness import Daemon, RPCError, binary

SVG = "{http://www.w3.org/2000/svg}"


# -- reading DOT ---------------------------------------------------------------------------------
TOKEN = re.compile(r'\s*(?:(//[^\n]*)|("(?:[^"\\]|\\.)*")|(->)|([A-Za-z0-9_.]+)|([\[\]{}=,;]))', re.S)


def tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        assert m, f"DOT: cannot read {text[pos:pos + 40]!r}"
        pos = m.end()
        if m.group(1):
            continue
        out.append(m.group(0).strip())
    return out


def label_text(quoted):
    """What Graphviz shows for a quoted label: DOT unquoting (\\") plus the label escapes heapd
    relies on (\\\\ a backslash, \\n a line break, &amp; an ampersand)."""
    assert quoted[0] == '"' and quoted[-1] == '"', quoted
    body, out, i = quoted[1:-1], "", 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            assert nxt in '"\\n', f"unexpected escape \\{nxt} in {quoted}"
            out += {"n": "\n"}.get(nxt, nxt)
            i += 2
            continue
        out += ch
        i += 1
    return out.replace("&amp;", "&")


class Dot:
    """Nodes {name: attrs} and edges [(from, to, attrs)] of a DOT digraph; attribute values
    unquoted (labels as Graphviz shows them)."""

    def __init__(self, text):
        t = tokens(text)
        assert t[0] == "digraph" and t[2] == "{" and t[-1] == "}", t[:3]
        self.nodes, self.edges, i = {}, [], 3
        while i < len(t) - 1:
            if t[i] == ";":
                i += 1
                continue
            first = t[i]
            i += 1
            target = None
            if t[i] == "->":
                target = t[i + 1]
                i += 2
            attrs = {}
            if t[i] == "[":
                i += 1
                while t[i] != "]":
                    key, eq, value = t[i], t[i + 1], t[i + 2]
                    assert eq == "=", t[i:i + 3]
                    attrs[key] = label_text(value) if value.startswith('"') else value
                    i += 3
                    if t[i] == ",":
                        i += 1
                i += 1
            if first in ("node", "edge", "graph"):
                continue
            if target is None:
                assert first not in self.nodes, f"node {first} twice"
                self.nodes[first] = attrs
            else:
                self.edges.append((first, target, attrs))
        for a, b, _ in self.edges:
            assert a in self.nodes and b in self.nodes, (a, b)

    def objects(self):
        """{id: attrs} of the object nodes (named o<id>)."""
        return {int(n[1:]): a for n, a in self.nodes.items() if re.fullmatch(r"o\d+", n)}

    def holders(self):
        return {n: a for n, a in self.nodes.items() if a.get("shape") == "octagon"}

    def more(self):
        return {n: a for n, a in self.nodes.items() if re.fullmatch(r"\d+ more (references?|referrers?)", a["label"])}

    def field_edges(self):
        """{(from id, to id, field)} between objects, strong ones."""
        return {(int(a[1:]), int(b[1:]), e["label"]) for a, b, e in self.edges
                if a.startswith("o") and b.startswith("o") and e.get("style") != "dashed"}


def render_svg(dot_text):
    """dot -Tsvg of the text (the real Graphviz), parsed."""
    out = subprocess.run(["dot", "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return ET.fromstring(out.stdout)


def svg_titles(svg):
    return {t.text for t in svg.iter(SVG + "title")}


def graph(c, **params):
    r = c.call("graph", **params)
    assert set(r) >= {"format", "text", "nodes", "edges", "truncated"}
    return r, (Dot(r["text"]) if r["format"] == "dot" else None)


def person_cycle(c):
    """alice ⇄ bob (partner; bob has __del__), alice.pet = rex, a weakref to rex, root 'couple'
    → alice. The test's session still holds alice, bob and the weakref; only alice holds rex."""
    alice = c.call("allocate", type="Person", data={"name": "Alice"})["id"]
    bob = c.call("allocate", type="Person", data={"name": "Bob"}, finalizer=True)["id"]
    rex = c.call("allocate", type="Dog", data={"name": "Rex"})["id"]
    c.call("set", id=alice, fields={"partner": bob, "pet": rex})
    c.call("set", id=bob, fields={"partner": alice})
    c.call("unref", id=rex)
    weak = c.call("weakref", id=rex)["id"]
    c.call("root.set", name="couple", id=alice)
    return alice, bob, rex, weak


def heap_state(c):
    """Everything a read-only method must leave as it was."""
    objects = c.call("objects", limit=100000)["objects"]
    return (objects, [c.call("inspect", id=o["id"])["refcount"] for o in objects],
            c.call("gc.get")["count"], c.call("stats")["objects"])


# -- the Person cycle ------------------------------------------------------------------------------
def test_person_cycle_around_alice(client):
    c = client
    alice, bob, rex, weak = person_cycle(c)
    r, dot = graph(c, id=alice)
    assert r["format"] == "dot" and r["truncated"] is False
    assert r["nodes"] == len(dot.nodes) and r["edges"] == len(dot.edges)

    # Nodes: alice; her referents bob, rex; her referrers bob, the session, the root. The
    # weakref refers to rex, which was reached as a referent: it is not alice's neighbour.
    objects = dot.objects()
    assert set(objects) == {alice, bob, rex}
    holders = dot.holders()
    assert sorted(a["label"] for a in holders.values()) == ["anonymous session #%d" % session_id(c), "root couple"]
    assert not dot.more()
    assert dot.field_edges() == {(alice, bob, "partner"), (bob, alice, "partner"), (alice, rex, "pet")}
    by_label = {a["label"]: n for n, a in holders.items()}
    held = {(a, b) for a, b, _ in dot.edges if a in holders}
    assert held == {(by_label["root couple"], f"o{alice}"),
                    (by_label["anonymous session #%d" % session_id(c)], f"o{alice}"),
                    (by_label["anonymous session #%d" % session_id(c)], f"o{bob}")}

    # Labels: type, id, refcount (as inspect says); the finalizer marked.
    for oid, attrs in objects.items():
        info = c.call("inspect", id=oid)
        lines = attrs["label"].split("\n")
        assert lines[0] == info["type"]
        assert lines[1] == f"id {oid}  refcount {info['refcount']}"
        assert ("has __del__" in lines) == (oid == bob)
        assert (attrs.get("peripheries") == "2") == (oid == bob)

    # The cycle: alice and bob filled alike, their partner edges coloured; rex and pet plain.
    assert objects[alice]["fillcolor"] == objects[bob]["fillcolor"] != "#ffffff"
    assert "fillcolor" not in objects[rex]
    colour = {(a, b): e.get("color") for a, b, e in dot.edges}
    assert colour[(f"o{alice}", f"o{bob}")] == colour[(f"o{bob}", f"o{alice}")] is not None
    assert colour[(f"o{alice}", f"o{rex}")] is None

    # Graphviz reads it: every node and edge is in its SVG.
    titles = svg_titles(render_svg(r["text"]))
    assert {f"o{i}" for i in (alice, bob, rex)} <= titles
    assert {f"o{alice}->o{bob}", f"o{bob}->o{alice}", f"o{alice}->o{rex}"} <= titles
    assert len([t for t in titles if "->" in t]) == r["edges"]


def session_id(c):
    """The test connection's anonymous session id (the one that holds something)."""
    sessions = c.call("session.list")["sessions"]
    anonymous = [s for s in sessions if s["name"] is None and s["objects"]]
    assert len(anonymous) == 1, sessions
    return anonymous[0]["id"]


def test_weak_edges_are_dashed_and_followed(client):
    c = client
    alice, bob, rex, weak = person_cycle(c)
    _, dot = graph(c, id=rex, depth=1)
    # rex's referrers: alice (pet) and the weakref (its referent); the weakref is held by the session.
    assert set(dot.objects()) == {rex, alice, weak}
    dashed = [(a, b, e) for a, b, e in dot.edges if e.get("style") == "dashed"]
    assert [(a, b) for a, b, _ in dashed] == [(f"o{weak}", f"o{rex}")]
    assert dot.field_edges() == {(alice, rex, "pet")}
    # From the weakref, forward: its referent is followed.
    _, dot = graph(c, id=weak, depth=1)
    assert rex in dot.objects()
    render_svg(dot_text := c.call("graph", id=weak)["text"])
    assert dot_text.startswith("digraph")


def test_svg_through_the_daemon(client):
    c = client
    alice, bob, rex, weak = person_cycle(c)
    dot_reply = c.call("graph", id=alice)
    r = c.call("graph", id=alice, format="svg")
    assert r["format"] == "svg"
    assert (r["nodes"], r["edges"], r["truncated"]) == (dot_reply["nodes"], dot_reply["edges"], False)
    svg = ET.fromstring(r["text"].encode())
    assert svg.tag == SVG + "svg"
    titles = svg_titles(svg)
    assert {f"o{alice}", f"o{bob}", f"o{rex}", f"o{alice}->o{bob}"} <= titles
    texts = [t.text for t in svg.iter(SVG + "text")]
    assert "partner" in texts and "pet" in texts and "has __del__" in texts


def test_whole_heap_draws_garbage_and_roots_without_collecting(client):
    c = client
    alice, bob, rex, weak = person_cycle(c)
    # An unreachable cycle (garbage the collector would free): drawn, and left alone.
    x = c.call("allocate", type="Node")["id"]
    y = c.call("allocate", type="Node")["id"]
    c.call("set", id=x, fields={"next": y})
    c.call("set", id=y, fields={"next": x, "self": y})
    c.call("unref", id=x)
    c.call("unref", id=y)
    before = heap_state(c)
    r, dot = graph(c)
    assert heap_state(c) == before, "graph changed the heap"
    assert r["truncated"] is False
    assert set(dot.objects()) == {o["id"] for o in before[0]}
    assert len(dot.holders()) == 2
    fills = {i: a.get("fillcolor") for i, a in dot.objects().items()}
    assert fills[x] == fills[y] and fills[x] is not None and fills[x] != fills[alice]
    assert (y, y, "self") in dot.field_edges()
    render_svg(r["text"])


# -- limits ---------------------------------------------------------------------------------------
def test_fan_out_past_max_nodes_gives_n_more_and_truncated(client):
    c = client
    hub = c.call("allocate", type="Hub")["id"]
    children = [c.call("allocate", type="Leaf")["id"] for _ in range(30)]
    c.call("set", id=hub, fields={f"f{i:02d}": child for i, child in enumerate(children)})
    for child in children:
        c.call("unref", id=child)
    r, dot = graph(c, id=hub, depth=1, max_nodes=10)
    assert r["truncated"] is True
    assert r["nodes"] == len(dot.nodes) and r["edges"] == len(dot.edges)
    drawn = set(dot.objects()) - {hub}
    assert len(dot.objects()) + len(dot.holders()) == 10
    more = dot.more()
    counts = {a["label"]: n for n, a in more.items()}
    missing = len(children) - len(drawn)
    name = f"{missing} more references"
    assert name in counts, counts
    assert (f"o{hub}", counts[name]) in {(a, b) for a, b, _ in dot.edges}
    # Referents are taken before referrers: the hub's one referrer (the session) did not fit.
    assert not dot.holders() and len(drawn) == 9
    assert (counts["1 more referrer"], f"o{hub}") in {(a, b) for a, b, _ in dot.edges}
    render_svg(r["text"])

    r, dot = graph(c, id=hub, depth=1, max_nodes=200)
    assert r["truncated"] is False and not dot.more()
    assert set(dot.objects()) == {hub, *children}
    assert len(dot.field_edges()) == 30


def test_whole_heap_cut_at_max_nodes(client):
    c = client
    for _ in range(20):
        c.call("allocate", type="Thing")
    r, dot = graph(c, max_nodes=5)
    assert r["truncated"] is True
    assert len(dot.objects()) + len(dot.holders()) == 5
    assert dot.more()


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("params,code,named", [
    ({"depth": -1}, -32602, "params.depth"),
    ({"depth": "2"}, -32602, "params.depth"),
    ({"depth": 1001}, -32602, "params.depth"),
    ({"max_nodes": 0}, -32602, "params.max_nodes"),
    ({"max_nodes": 10001}, -32602, "params.max_nodes"),
    ({"format": "png"}, -32602, "params.format"),
    ({"format": 1}, -32602, "params.format"),
    ({"id": 0}, -32602, "params.id"),
    ({"id": 999}, -32001, None),
])
def test_bad_params_are_refused_and_change_nothing(client, params, code, named):
    c = client
    person_cycle(c)
    before = heap_state(c)
    with pytest.raises(RPCError) as e:
        c.call("graph", **({"id": 1} | params))
    assert e.value.code == code, e.value
    if named:
        assert e.value.message.startswith(named), e.value.message
    assert heap_state(c) == before


def test_a_freed_object_says_freed(client):
    c = client
    gone = c.call("allocate", type="X")["id"]
    c.call("unref", id=gone)
    with pytest.raises(RPCError) as e:
        c.call("graph", id=gone)
    assert e.value.code == -32001 and e.value.data == {"id": gone, "state": "freed"}


def test_svg_without_graphviz_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    d = Daemon("--memory")
    try:
        c = d.client()
        c.call("allocate", type="X")
        with pytest.raises(RPCError) as e:
            c.call("graph", format="svg")
        assert e.value.code == -32014
        assert e.value.data == {"renderer": "dot", "reason": "missing"}
        assert "dot" in e.value.message and "not installed" in e.value.message
        assert c.call("graph")["text"].startswith("digraph")  # DOT needs no Graphviz
        c.close()
    finally:
        assert d.stop() == 0


def test_a_failing_dot_is_a_clear_error(monkeypatch, tmp_path):
    """A `dot` that fails (here a script standing in for a broken Graphviz) gives -32014 with
    its exit status and message, and the daemon carries on."""
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\ncat >/dev/null\necho 'Error: syntax error in line 1' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    d = Daemon("--memory")
    try:
        c = d.client()
        c.call("allocate", type="X")
        with pytest.raises(RPCError) as e:
            c.call("graph", format="svg")
        assert e.value.code == -32014 and e.value.data == {"renderer": "dot", "reason": "failed"}
        assert "exit status 3" in e.value.message and "syntax error in line 1" in e.value.message
        assert c.call("ping") == {"pong": True}
        c.close()
    finally:
        assert d.stop() == 0


# -- quoting --------------------------------------------------------------------------------------
HOSTILE_TYPE = 'Evil"Type\\N \\"x\\" <b>&lt;</b>\nsecond line {a|b} ünïcødé ✓'
HOSTILE_FIELD = 'f"ie\\ld\\n<&amp;>'


def test_hostile_names_survive_dot_and_graphviz(client):
    c = client
    evil = c.call("allocate", type=HOSTILE_TYPE)["id"]
    other = c.call("allocate", type="Plain")["id"]
    c.call("set", id=other, fields={HOSTILE_FIELD: evil})
    c.call("root.set", name='root "with" \\ quotes', id=other)
    r, dot = graph(c, id=evil)
    shown_type = HOSTILE_TYPE.replace("\n", "\u240a")
    assert dot.objects()[evil]["label"].split("\n")[0] == shown_type
    assert dot.field_edges() == {(other, evil, HOSTILE_FIELD)}
    assert 'root root "with" \\ quotes' in [a["label"] for a in dot.holders().values()]
    # Graphviz shows exactly those texts.
    texts = [t.text for t in render_svg(r["text"]).iter(SVG + "text")]
    assert shown_type in texts and HOSTILE_FIELD in texts and 'root root "with" \\ quotes' in texts
    svg = c.call("graph", id=evil, format="svg")["text"]
    assert shown_type in [t.text for t in ET.fromstring(svg.encode()).iter(SVG + "text")]


def test_long_names_are_cut(client):
    c = client
    long = "T" * 500
    oid = c.call("allocate", type=long)["id"]
    _, dot = graph(c, id=oid)
    first = dot.objects()[oid]["label"].split("\n")[0]
    assert first == "T" * 63 + "…"


# -- against an independent model -------------------------------------------------------------------
def test_random_heap_against_networkx(client):
    """Neighbourhoods of a random heap: the node set is the test's own BFS over the fields `get`
    shows, the edges are every field between drawn objects, and the filled nodes are exactly the
    members of networkx's cycles."""
    c = client
    rng = random.Random(7)
    ids = [c.call("allocate", type=rng.choice(["A", "B", "C"]))["id"] for _ in range(60)]
    for oid in ids:
        fields = {f"x{k}": rng.choice(ids) for k in range(rng.choice([0, 1, 1, 2, 3]))}
        if fields:
            c.call("set", id=oid, fields=fields)
    for oid in ids[10:]:
        c.call("unref", id=oid)
    fields = {o["id"]: c.call("get", id=o["id"])["fields"] for o in c.call("objects", limit=1000)["objects"]}
    g = nx.MultiDiGraph()
    g.add_nodes_from(fields)
    for a, fs in fields.items():
        for name, b in fs.items():
            g.add_edge(a, b, key=name)
    in_cycle = {n for comp in nx.strongly_connected_components(g)
                for n in comp if len(comp) > 1 or g.has_edge(n, n)}
    held = set(ids[:10])
    for focus in rng.sample(sorted(fields), 8):
        depth = rng.choice([1, 2, 3])
        expected, near = {focus}, set()
        for step in (g.successors, g.predecessors):
            seen = frontier = {focus}
            for _ in range(depth):
                if step == g.predecessors:
                    near |= frontier  # within depth - 1 steps back: their holders are drawn
                frontier = {m for n in frontier for m in step(n)} - seen
                seen = seen | frontier
            expected |= seen
        r, dot = graph(c, id=focus, depth=depth, max_nodes=10000)
        assert r["truncated"] is False
        assert set(dot.objects()) == expected, (focus, depth)
        assert dot.field_edges() == {(a, b, k) for a, b, k in g.edges(keys=True) if a in expected and b in expected}
        assert {i for i, a in dot.objects().items() if "fillcolor" in a} == expected & in_cycle
        # The session holds the first ten: it is drawn when one of them is a near enough referrer.
        assert len(dot.holders()) == (1 if near & held else 0), (focus, depth)
        render_svg(r["text"])


# -- heapctl --------------------------------------------------------------------------------------
def heapctl(daemon, *args):
    return subprocess.run([binary("heapctl"), *args, "--socket", daemon.socket, "--session", "test"],
                          capture_output=True, timeout=60)


def test_heapctl_graph_writes_svg_png_and_prints_dot(daemon, tmp_path):
    ok = lambda *a: heapctl(daemon, *a)
    alice = int(ok("allocate", "Person").stdout)
    bob = int(ok("allocate", "Person", "--finalizer").stdout)
    ok("set", str(alice), f"partner={bob}")
    ok("set", str(bob), f"partner={alice}")
    out = ok("graph", str(alice))
    assert out.returncode == 0, out.stderr
    dot = Dot(out.stdout.decode())
    assert set(dot.objects()) == {alice, bob}

    svg_file = tmp_path / "alice.svg"
    out = ok("graph", str(alice), "--svg", str(svg_file))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().startswith(f"wrote {svg_file}: ")
    svg = ET.parse(svg_file).getroot()
    assert {f"o{alice}", f"o{bob}"} <= svg_titles(svg)

    png_file = tmp_path / "heap.png"
    out = ok("graph", "--png", str(png_file), "--max-nodes", "2")
    assert out.returncode == 0, out.stderr
    assert png_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"truncated" in out.stdout

    assert ok("graph", "424242").returncode == 1
    assert ok("graph", "--svg", "a", "--png", "b").returncode == 64

"""Heap.path, cycles, dominators, histogram and graph: why is it alive, on the Person cycle."""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import heapd


def test_why_is_it_alive_on_the_person_cycle(daemon, framing):
    with heapd.Heap(daemon.socket, framing=framing, session="py-graph") as heap:
        alice = heap.allocate("PyGraphPerson", data={"name": "Alice"})
        bob = heap.allocate("PyGraphPerson", data={"name": "Bob"})
        alice.partner = bob
        bob.partner = alice
        alice_id, bob_id = alice.id, bob.id
        bob.close()

        why = heap.path(bob_id)
        assert why.reachable is True
        assert why.paths[0].root == {"kind": "session", "name": "py-graph", "session": why.paths[0].root.session}
        assert (why.paths[0].ids, why.paths[0].fields) == ([alice_id, bob_id], ["partner"])
        assert heap.cycles(alice_id) == [{"ids": sorted([alice_id, bob_id]), "bytes": 30}]
        assert heap.dominators(bob_id).idom == alice_id
        assert heap.dominators(alice_id).retained_count == 2
        assert any(e.id == alice_id and e.retained_bytes == 30 for e in heap.dominators(limit=100).top)
        assert heap.histogram(session="py-graph") == [{"type": "PyGraphPerson", "count": 1, "bytes": 16}]
        assert {"type": "PyGraphPerson", "count": 2, "bytes": 30} in heap.histogram()

        alice.close()
        # Only the cycle keeps them now: unreachable but live until a collection.
        assert heap.path(alice_id) == {"id": alice_id, "reachable": False, "paths": []}
        assert heap.dominators(alice_id) == {"id": alice_id, "reachable": False}
        assert heap.cycles(bob_id)[0].ids == sorted([alice_id, bob_id])
        assert heap.collect().collected == 2


def test_graph_draws_the_person_cycle(daemon, framing):
    with heapd.Heap(daemon.socket, framing=framing) as heap:
        alice = heap.allocate("PyDrawPerson")
        bob = heap.allocate("PyDrawPerson", finalizer=True)
        dog = heap.allocate("PyDrawDog")
        alice.partner = bob
        bob.partner = alice
        alice.pet = dog
        picture = heap.graph(alice)
        assert (picture.format, picture.truncated) == ("dot", False)
        text = picture.text
        assert text.startswith("digraph")
        edges = set(re.findall(r'^  o(\d+) -> o(\d+) \[label="(\w+)"', text, re.M))
        assert edges == {(str(alice.id), str(bob.id), "partner"), (str(bob.id), str(alice.id), "partner"),
                         (str(alice.id), str(dog.id), "pet")}
        assert picture.edges == text.count(" -> ")
        assert heap.graph(alice, depth=0).nodes == 1
        assert heap.graph(max_nodes=1).truncated is True
        if shutil.which("dot"):
            svg = ET.fromstring(heap.graph(alice, format="svg").text.encode())
            titles = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")}
            assert {f"o{alice.id}", f"o{bob.id}", f"o{dog.id}"} <= titles
        with pytest.raises(heapd.InvalidParams):
            heap.graph(alice, format="png")

"""Heap.export: the heap as a V8 .heapsnapshot, to a file and inline."""
import json
import os
import tempfile

import heapd


def test_export_to_a_file_and_inline(daemon, framing):
    with heapd.Heap(daemon.socket, framing=framing, session="py-export") as heap:
        alice = heap.allocate("PyExportPerson", size=10)
        bob = heap.allocate("PyExportPerson", size=20)
        alice.partner = bob
        path = os.path.join(tempfile.mkdtemp(prefix="heapd-py-export-"), "heap.heapsnapshot")
        written = heap.export(path)
        with open(path) as f:
            doc = json.load(f)
        assert written == {"path": path, "bytes": os.path.getsize(path), "nodes": doc["snapshot"]["node_count"],
                           "edges": doc["snapshot"]["edge_count"]}
        assert heap.export().snapshot == doc
        nodes, strings = doc["nodes"], doc["strings"]
        rows = [nodes[i:i + 7] for i in range(0, len(nodes), 7)]
        mine = {row[2]: (strings[row[1]], row[3]) for row in rows if strings[row[1]] == "PyExportPerson"}
        assert mine == {2 * alice.id + 1: ("PyExportPerson", 10), 2 * bob.id + 1: ("PyExportPerson", 20)}
        try:
            heap.export("relative.heapsnapshot")
            raise AssertionError("a relative path must be refused")
        except heapd.HeapdError as e:
            assert e.code == -32602 and "params.path" in str(e)
        alice.close()
        bob.close()

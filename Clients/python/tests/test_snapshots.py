"""Heap.snapshot_save / snapshot_diff / snapshot_leaks: a leak found with three snapshots."""

import heapd


def test_three_snapshots_find_what_a_repeated_operation_leaves_behind(daemon, framing):
    with heapd.Heap(daemon.socket, framing=framing, session="py-snap") as heap:
        cache = heap.allocate("PySnapCache")
        kept = []

        def handle_request(n):
            """The suspect: a temporary per request, and one entry that the cache keeps."""
            tmp = heap.allocate("PySnapTemp", data={"n": n})
            entry = heap.allocate("PySnapEntry", data={"n": n})
            setattr(cache, f"e{n}", entry)
            kept.append(entry.id)
            tmp.close()
            entry.close()

        heap.snapshot_save("py-s1")
        handle_request(1)
        heap.snapshot_save("py-s2")
        handle_request(2)
        assert [s.name for s in heap.snapshots()][-2:] == ["py-s1", "py-s2"]

        leaks = heap.snapshot_leaks("py-s1", "py-s2")
        assert leaks.leaked.ids == [kept[0]], leaks
        assert leaks.by_type == [{"type": "PySnapEntry", "count": 1, "bytes": 7}]

        diff = heap.snapshot_diff("py-s1")
        assert diff.new.ids == sorted(kept) and diff.freed.count == 0, diff
        assert diff["from"] == "py-s1" and diff["to"] is None
        assert heap.snapshot_diff("py-s1", "py-s2", limit=1).new.count == 1
        suspects = heap.leaks(since="py-s1")
        assert cache.id in [r.id for r in suspects.retainers]
        assert [t.type for t in suspects.growth.types] == ["PySnapEntry"]
        heap.snapshot_delete("py-s1")
        heap.snapshot_delete("py-s2")
        cache.close()

"""Heap.apply: many ops in one request, `$k` references, per-op errors, all or nothing."""

import pytest

import heapd


def test_apply_builds_a_cycle_and_reports_per_op_errors(heap):
    keep = heap.allocate("PyApplyKeep")
    out = heap.apply([("alloc", "PyApplyNode"), ("alloc", "PyApplyNode"),
                      ("set", "$0", "next", "$1"), ("set", "$1", "next", "$0"),
                      ("set", keep, "first", "$0"), ("unref", "$0"), ("unref", "$1"),
                      ("unref", 99999999)])
    first, second = out.results[0], out.results[1]
    assert out.results[2:7] == [1, 2, 1, 2, 1]
    assert out.errors == 1 and out.results[7]["code"] == -32001
    assert heap.get(keep).fields == {"first": first}
    assert heap.get(second).fields == {"next": first}
    out = heap.apply([("set", keep, "first", None)])
    assert out.results == [1]
    assert heap.collect().collected == 2
    keep.close()


def test_atomic_apply_raises_the_failing_ops_error_and_changes_nothing(heap):
    before = heap.stats().objects
    with pytest.raises(heapd.NoSuchObject) as info:
        heap.apply([("alloc", "PyApplyTemp"), ("ref", 99999999)], atomic=True)
    assert "ops[1] (ref)" in str(info.value)
    assert heap.stats().objects == before
    out = heap.apply([("alloc", "PyApplyTemp"), ("weakref", "$0", True), ("unref", "$1"), ("unref", "$0")],
                     atomic=True)
    assert out.results[2:] == [0, 0] and out.freed == 2
    assert heap.stats().objects == before

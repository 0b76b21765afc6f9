"""Named roots as a mapping."""

import pytest

import heapd


def test_roots_mapping(heap):
    a = heap.allocate("PyRooted", data="a")
    heap.roots["py-a"] = a
    assert a.refcount == 2 and a.inspect().holders.roots == ["py-a"]
    assert "py-a" in heap.roots and "py-nope" not in heap.roots
    got = heap.roots["py-a"]
    assert got == a and got.refcount == 3       # a new reference
    got.close()
    assert "py-a" in list(heap.roots)
    assert heap.roots.ids()["py-a"] == a.id
    assert {"name": "py-a", "id": a.id} in heap.roots.list()
    assert heap.roots.get_id("py-a") == a.id
    result = heap.roots.set("py-a", a.id)
    assert result.previous == a.id
    a_id = a.id
    a.close()                                    # the root keeps it alive
    assert heap.inspect(a_id).refcount == 1
    with pytest.raises(heapd.NoSuchRoot) as info:
        heap.roots["py-nope"]
    assert isinstance(info.value, KeyError) and info.value.name == "py-nope"
    assert heap.roots.get("py-nope") is None     # Mapping.get via KeyError
    del heap.roots["py-a"]                       # unbinding frees it
    with pytest.raises(heapd.NoSuchObject):
        heap.get(a_id)
    with pytest.raises(KeyError):
        del heap.roots["py-a"]
    assert len([n for n in heap.roots if n.startswith("py-")]) == 0


def test_root_set_none_deletes(heap):
    a = heap.allocate("PyRooted")
    heap.roots["py-b"] = a
    heap.roots["py-b"] = None
    assert "py-b" not in heap.roots
    assert a.refcount == 1
    a.close()

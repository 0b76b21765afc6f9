"""Scopes as context managers: references taken inside are dropped at exit."""

import gc

import pytest

import heapd


def test_scope_releases_handles_created_inside(heap):
    outer = heap.allocate("PyScoped")
    with heap.scope() as scope:
        assert scope.depth == 1 and heap.scope_depth == 1
        inner = heap.allocate("PyScoped")
        alias = outer.ref()
        assert outer.refcount == 2
    assert heap.scope_depth == 0
    assert inner.closed and alias.closed and not outer.closed
    assert scope.freed == [inner.id]
    assert outer.refcount == 1
    with pytest.raises(heapd.NoSuchObject):
        heap.get(inner.id)
    inner.close()                                 # already released: nothing is sent
    outer.close()


def test_nested_scopes_and_order(heap):
    with heap.scope() as s1:
        a = heap.allocate("PyScoped")
        with heap.scope() as s2:
            assert s2.depth == 2
            b = heap.allocate("PyScoped")
            with pytest.raises(RuntimeError):
                s1.exit()                         # innermost first
        assert b.closed and not a.closed
    assert a.closed
    with pytest.raises(heapd.ScopeError):
        heap.call("scope.exit")                   # the daemon agrees: no scope open


def test_closing_an_outer_handle_inside_a_scope(heap):
    # The daemon drops a reference from the innermost scope that holds one. Closing the
    # outer handle inside the scope therefore consumes the inner one's reference; the library
    # hands the outer reference to the inner handle, so both stay correct.
    outer = heap.allocate("PyScoped")
    with heap.scope():
        inner = outer.ref()
        outer.close()
        assert inner.refcount == 1 and not inner.closed
    assert not inner.closed                       # it now owns the outer reference
    assert inner.refcount == 1
    inner.close()
    with pytest.raises(heapd.NoSuchObject):
        heap.get(outer.id)


def test_dropped_handle_after_scope_exit_sends_nothing(heap):
    keep = heap.allocate("PyScoped")
    with heap.scope():
        tmp = keep.ref()
    del tmp                                       # its reference already went with the scope
    gc.collect()
    assert heap.flush() == 0
    assert keep.refcount == 1
    keep.close()


def test_explicit_enter_exit(heap):
    scope = heap.scope()
    scope.enter()
    h = heap.allocate("PyScoped")
    result = scope.exit()
    assert result.depth == 0 and result.freed == [h.id] and h.closed

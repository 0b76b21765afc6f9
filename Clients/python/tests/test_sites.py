"""Allocation sites from the Python client: like tracemalloc, `allocate` records the caller's
`file:line` by default (the test's own file and line here), `site=` overrides it,
`record_sites=False` turns it off; `histogram(by="site")` groups by it and `objects(session=)`
filters by the allocating session."""
import inspect as pyinspect


def _line_after_this():
    return pyinspect.currentframe().f_back.f_lineno + 1


def test_site_is_the_callers_file_and_line(heap):
    line = _line_after_this()
    x = heap.allocate("Sited")
    assert heap.inspect(x)["allocated"]["site"] == "%s:%d" % (__file__, line)
    x.close()


def test_site_through_a_pipeline_and_a_helper(heap):
    def make():
        return heap.allocate("Helper"), pyinspect.currentframe().f_lineno  # the site: this line

    h, line = make()
    assert heap.inspect(h)["allocated"]["site"] == "%s:%d" % (__file__, line)
    with heap.pipeline() as p:
        line = _line_after_this()
        pending = p.allocate("Piped")
    assert heap.inspect(pending.result())["allocated"]["site"] == "%s:%d" % (__file__, line)
    h.close()
    pending.result().close()


def test_explicit_site_and_turning_it_off(daemon):
    with daemon.heap(record_sites=False) as h:
        a = h.allocate("Quiet")
        b = h.allocate("Named", site="factory()")
        assert h.inspect(a)["allocated"]["site"] is None
        assert h.inspect(b)["allocated"]["site"] == "factory()"


def test_histogram_by_site_and_objects_by_session(daemon):
    with daemon.heap(session="site-maker") as maker, daemon.heap() as other:
        line = _line_after_this()
        made = [maker.allocate("Made") for _ in range(4)]
        elsewhere = other.allocate("Made", site="elsewhere")
        rows = {r["site"]: r for r in other.histogram(by="site")}
        assert rows["%s:%d" % (__file__, line)]["count"] == 4
        assert rows["elsewhere"]["count"] == 1
        # Table order: freed slots are reused last-freed first, so compare as sets.
        assert sorted(o["id"] for o in other.objects(session="site-maker")) == sorted(m.id for m in made)
        elsewhere.close()
        maker.close_session()

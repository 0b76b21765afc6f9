"""CPython side of the differential test: executes heap operations on real CPython objects.

Run as a worker process (`python3 -I -S cpython_model.py`): one JSON operation per stdin line,
one JSON result per stdout line. A separate, minimal interpreter keeps the collector's view
clean: after setup everything the interpreter and this module own is collected and frozen
(`gc.collect(); gc.freeze()`), automatic collection is off, so `gc.collect()` only ever sees
the test's objects (CPYTHON-GC.md §8.1/§8.2).

Mapping (CPYTHON-GC.md §1):
* heap object  = instance of a plain class made with `type(name, (), ns)`, one class per
  (type name, has-finalizer). No `__slots__` and `__dict__` is never touched, so 3.11 keeps the
  attributes as *inline values* indexed by the class-wide shared-keys table: released in the
  order the attribute names were first used on any instance of the class -- exactly heapd's
  per-type first-use field order (§4.1 step 5, s33). `__slots__` would not do: slot members
  are released in slot-table order, which is the slot names *sorted* (type_new sorts them;
  measured on 3.11.7: __slots__ = ("b", "c", "a") releases a, b, c), never first-use order. Touching `__dict__` would materialise a dict, one more GC object (§8.1).
* weakref      = instance of `WRef`, a `weakref.ref` subclass. A subclass is never shared and
  is inserted after the basic ref, so weakref lists are newest-first as heapd's (§4.3). Its
  captured fields are `__slots__` c0, c1, c2: without slots a weakref subclass gets a real
  `__dict__` (no inline values: weakref's tp_new is not object_new), measured: a self-cycle
  through an attribute then counts 2 in collect(). Slots are released in (sorted) slot order
  c0, c1, c2; the heapd side makes that the first-use order of type "weakref" by setting the
  three fields in that order on a throwaway weakref before the test starts.
* finalizer    = `__del__` (one module-level function shared by all finalizer classes) that
  appends a pre-built "del:NAME" string to LOG: no allocation of GC objects inside collections.
* callback     = one module-level function `_cb` (a closure or bound method would be an extra
  GC object and change collect() counts) appending a pre-built "cb:NAME" string.
* session references and named roots = C-level references (`Py_IncRef`/`Py_DecRef` through
  ctypes), which the collector cannot see: exactly an external root, as heapd's sessions and
  roots are. Holding them in a dict would not do: a dict is itself a GC container that sits in
  the young generations, so `move_unreachable` would reorder the objects it references (the
  garbage-list order, hence finalizer order inside a collection, then differs from heapd's).
  The objects are reached through their probes (below). gc.garbage is such a container too, but
  it is frozen with the interpreter at start; only after an `unfreeze` does it join generation 2.

Liveness probes: every object gets a callback-less basic `weakref.ref` probe. A probe is
cleared when its object dies, and also when the collector clears the weakrefs of garbage that
then survives -- which in CPython happens only for resurrected objects (our finalizers never
resurrect) and for objects saved in `gc.garbage` under DEBUG_SAVEALL. The latter are re-probed
right after each collection, so between operations "probe cleared" == "object freed" holds.
Probes are reachable harness objects: they are never counted by collect(); a basic ref sits at
the head of the weakref list, which does not change the order of the test's weakrefs, and it
has no callback, so it changes no event either.
"""
import ctypes
import gc
import json
import sys
import weakref

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None
_decref = ctypes.pythonapi.Py_DecRef
_decref.argtypes = [ctypes.py_object]
_decref.restype = None

LOG = []          # events of the current operation, as strings
DEL = {}          # id(obj) -> "del:NAME" (ids of live objects are unique)
CB = {}           # id(weakref) -> "cb:NAME"
NAME_OF = {}      # id(obj) -> NAME, for gc.garbage
WREF_FIELDS = ("c0", "c1", "c2")


def _del(self):
    LOG.append(DEL[id(self)])


def _cb(wr):
    LOG.append(CB[id(wr)])


class WRef(weakref.ref):
    __slots__ = WREF_FIELDS + ("__weakref__",)


class Model:
    def __init__(self):
        self.classes = {}
        self.hcount = {}        # name -> how many references the session holds (C-level)
        self.roots = {}         # root name -> object name (a C-level reference)
        self.probes = {}        # name -> weakref.ref probe
        self.alive = set()      # names not yet seen dead
        self.present = {}       # name -> set of field names currently set
        self.kind = {}          # name -> "obj" | "weakref"
        self.tname = {}         # name -> type name (objects only)
        self.retired = []       # classes replaced by a new class of the same name
        self.scopes = [[]]      # per scope (frame), names of the references taken, in order
        self.saveall = False
        self.base_stats = None
        self.in_batch = False

    # -- setup ---------------------------------------------------------------------------
    def start(self):
        gc.disable()
        gc.set_debug(0)
        gc.collect()
        gc.freeze()
        self.base_stats = gc.get_stats()

    def cls(self, tname, fin):
        # heapd forgets a type once no object of it is alive (at the end of that request); a
        # later object of the name starts a new type with a new key table. The Python
        # equivalent re-creates the class, which gets new shared keys.
        # The old class is kept (a dropped class is cyclic garbage the collector would count).
        # heapd's type is (name, finalizer), as this class is: each is forgotten on its own
        # (not inside an `apply` batch, which heapd runs as one request).
        key = (tname, fin)
        if not self.in_batch and not self._has_live(key):
            self._retire(key)
        c = self.classes.get(key)
        if c is None:
            c = type(tname, (), {"__del__": _del} if fin else {})
            self.classes[key] = c
        return c

    def _has_live(self, key):
        return any(self.tname.get(n) == key and p() is not None for n, p in self.probes.items())

    def _retire(self, key):
        old = self.classes.pop(key, None)
        if old is not None:
            self.retired.append(old)

    def get(self, name):
        return self.probes[name]()

    def _register(self, name, o, fin, kind):
        self.probes[name] = weakref.ref(o)
        self.alive.add(name)
        NAME_OF[id(o)] = name
        if fin:
            DEL[id(o)] = "del:" + name
        self.present[name] = set()
        self.kind[name] = kind

    def _hold(self, name, o):
        _incref(o)
        self.hcount[name] = self.hcount.get(name, 0) + 1
        self.scopes[-1].append(name)

    # -- operations ----------------------------------------------------------------------
    def op_alloc(self, name, tname, fin, fields=()):
        o = self.cls(tname, fin)()
        self._register(name, o, fin, "obj")
        self.tname[name] = (tname, fin)
        for f, v in fields:
            setattr(o, f, self.get(v))
            self.present[name].add(f)
        self._hold(name, o)

    def op_chain(self, prefix, n, tname, fin, field, cyclic=False):
        c = self.cls(tname, fin)
        prev = tail = None
        for i in reversed(range(n)):
            o = c()
            self._register(prefix + str(i), o, fin, "obj")
            self.tname[prefix + str(i)] = (tname, fin)
            if prev is not None:
                setattr(o, field, prev)
                self.present[prefix + str(i)].add(field)
            else:
                tail = o
            prev = o
        if cyclic:
            setattr(tail, field, prev)
            self.present[prefix + str(n - 1)].add(field)
        self._hold(prefix + "0", prev)

    def op_ref(self, name):
        self._hold(name, self.get(name))

    def op_unref(self, name):
        self._forget_hold(name)
        for scope in reversed(self.scopes):     # `del` of the latest local holding it
            if name in scope:
                del scope[len(scope) - 1 - scope[::-1].index(name)]
                break
        self._release(name)

    def _forget_hold(self, name):
        c = self.hcount[name] - 1
        if c == 0:
            del self.hcount[name]
        else:
            self.hcount[name] = c

    def op_scope_enter(self):
        self.scopes.append([])

    def op_scope_exit(self):
        # A returning frame clears its locals in slot order, the order of first assignment
        # (`_PyFrame_Clear`: localsplus[0..n]); each decref runs its cascade before the next.
        for name in self.scopes.pop():
            self._forget_hold(name)
            self._release(name)

    def _release(self, name):
        # The temporary from the probe outlives the C-level decref by nothing but this return:
        # if that was the last reference the cascade runs as the frame ends, before anything
        # else happens, so the events are those of a plain Py_DECREF.
        _decref(self.get(name))

    def op_set(self, name, field, value):
        o = self.get(name)
        if value is None:
            if field in self.present[name]:
                delattr(o, field)
                self.present[name].discard(field)
        else:
            setattr(o, field, self.get(value))
            self.present[name].add(field)

    def op_del(self, name, field):
        """`del o.field` of a field the object lacks: AttributeError, but 3.11 has interned
        the name in the class's shared keys first (or made the object's own dict)."""
        o = self.get(name)
        try:
            delattr(o, field)
        except AttributeError:
            return {"refused": "no-such-field"}
        raise AssertionError("del %s.%s succeeded" % (name, field))

    def op_weakref(self, name, target, callback, fields=()):
        t = self.get(target)
        w = WRef(t, _cb) if callback else WRef(t)
        del t
        self._register(name, w, False, "weakref")
        if callback:
            CB[id(w)] = "cb:" + name
        for f, v in fields:
            setattr(w, f, self.get(v))
            self.present[name].add(f)
        self._hold(name, w)

    def op_root(self, rname, name):
        old = self.roots.pop(rname, None)
        if name is not None:
            _incref(self.get(name))    # bind the new value first, then release the old one
            self.roots[rname] = name
        if old is not None:
            self._release(old)

    def op_apply(self, ops, atomic):
        """`apply`: the same ops one after the other, as single operations (what a plain batch
        must equal, automatic collection included; an atomic one that succeeds too). heapd
        forgets a type without objects at the end of a request, so inside the batch no class
        is re-created: the classes without a live instance are retired first, as after the
        request before."""
        for key in list(self.classes):
            if not self._has_live(key):
                self._retire(key)
        self.in_batch = True
        try:
            for op in ops:
                getattr(self, "op_" + op[0])(*op[1:])
        finally:
            self.in_batch = False

    def op_collect(self, g):
        n = gc.collect(g)
        count = gc.get_count()
        self.reprobe_garbage()
        return {"ret": n, "count": list(count), "stats": self.stats(),
                "garbage": self.garbage_names()}

    def op_freeze(self):
        gc.freeze()
        return {"count": list(gc.get_count())}

    def op_unfreeze(self):
        gc.unfreeze()
        # count0 counts the interpreter's own allocations too: only counts 1 and 2 compare.
        return {"count": list(gc.get_count())[1:]}

    def op_saveall(self, on):
        self.saveall = bool(on)
        gc.set_debug(gc.DEBUG_SAVEALL if on else 0)

    def op_garbage_clear(self):
        gc.garbage.clear()       # list_clear releases the items last to first
        return {"garbage": []}

    def op_auto(self, thresholds, pairs):
        """Automatic collection (checked only with inequalities): `pairs` anonymous 2-cycles
        allocated with the collector enabled at `thresholds`, then everything cleaned up."""
        before = gc.get_stats()
        c = self.cls("_Auto", False)
        a = b = None
        gc.set_threshold(*thresholds)
        gc.enable()
        for _ in range(pairs):
            a = c()
            b = c()
            a.x = b
            b.x = a
        del a, b
        gc.disable()
        after = gc.get_stats()
        gc.set_threshold(700, 10, 10)
        runs = [after[i]["collections"] - before[i]["collections"] for i in range(3)]
        collected = sum(after[i]["collected"] - before[i]["collected"] for i in range(3))
        # Leave no trace: collect the rest, zero the counts (freeze does), re-baseline stats.
        gc.collect()
        gc.freeze()
        gc.unfreeze()
        self.base_stats = gc.get_stats()
        return {"auto": {"runs": runs, "collected": collected}}

    # -- observation ---------------------------------------------------------------------
    def stats(self):
        s = gc.get_stats()
        return [[s[i]["collections"] - self.base_stats[i]["collections"],
                 s[i]["collected"] - self.base_stats[i]["collected"]] for i in range(3)]

    def garbage_names(self):
        return [NAME_OF.get(id(o), "?") for o in gc.garbage]

    def reprobe_garbage(self):
        for o in gc.garbage:
            name = NAME_OF.get(id(o))
            if name is not None and self.probes[name]() is None:
                self.probes[name] = weakref.ref(o)

    def take_dead(self):
        dead = [n for n in self.alive if self.probes[n]() is None]
        for n in dead:
            self.alive.discard(n)
            del self.probes[n]
            self.present.pop(n, None)
        return dead

    def run(self, op):
        kind = op[0]
        res = getattr(self, "op_" + kind)(*op[1:]) or {}
        res["ev"] = LOG[:]
        LOG.clear()
        res["dead"] = sorted(self.take_dead())
        return res


UNRAISABLE = []


def _unraisable(u):
    # An exception inside __del__ or a callback is a harness bug: report it with the step.
    UNRAISABLE.append("%s in %r: %s" % (u.exc_type.__name__, u.object, u.exc_value))


def main():
    sys.unraisablehook = _unraisable
    model = Model()
    out = sys.stdout
    inp = sys.stdin
    model.start()
    out.write(json.dumps({"ready": sys.version}) + "\n")
    out.flush()
    for line in inp:
        op = json.loads(line)
        if op[0] == "quit":
            break
        try:
            res = model.run(op)
            if UNRAISABLE:
                res = {"error": "unraisable: " + "; ".join(UNRAISABLE)}
        except Exception as e:  # a harness bug: report it (this creates GC garbage; we stop)
            import traceback
            res = {"error": "".join(traceback.format_exception(e))}
        out.write(json.dumps(res) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

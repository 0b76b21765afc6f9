"""CPython side of the differential test: executes heap operations on real CPython objects.

Run as a worker process (`python3 -I -S cpython_model.py`): one JSON operation per stdin line,
one JSON result per stdout line. A separate, minimal interpreter keeps the collector's view
clean: after setup everything the interpreter and this module own is collected and frozen
(`gc.collect(); gc.freeze()`), and automatic collection runs only inside the test's own
actions when the test enabled it (see "Exact gc counts" below), so collections only ever see
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
* session references and named roots = entries of HOLD, a list frozen at start with the
  interpreter: a holder in the permanent generation, which the collector cannot see into, so
  exactly an external root, as heapd's sessions and roots are. A dict or list in the young
  generations would not do: `move_unreachable` would reorder the objects it references (the
  garbage-list order, hence finalizer order inside a collection, then differs from heapd's).
  gc.garbage is frozen with the interpreter too, and stays frozen (see `unfreeze` below).

Liveness probes: every object gets a callback-less basic `weakref.ref` probe. A probe is
cleared when its object dies, and also when the collector clears the weakrefs of garbage that
then survives -- which in CPython happens only for resurrected objects (our finalizers never
resurrect) and for objects saved in `gc.garbage` under DEBUG_SAVEALL. The latter are re-probed
right after each collection, so between operations "probe cleared" == "object freed" holds.
Probes are reachable harness objects: they are never counted by collect(); a basic ref sits at
the head of the weakref list, which does not change the order of the test's weakrefs, and it
has no callback, so it changes no event either.
Exact gc counts (issue #14): `get_count()` and `get_stats()` are compared after every step,
with automatic collection on in some runs, so count0 must move only with the test's own GC
allocations and deallocations. The harness does all its own work *quietly*:
* Its world (interpreter, modules, this module's tables) is frozen at start; `unfreeze` splices
  only the test's frozen objects back into generation 2 (`_unfreeze_test_objects`, a list
  splice on gcmodule.c's PyGC_Head lists), so the world never joins a generation and never
  counts in `long_lived_total`/`long_lived_pending` (the 25% rule) nor in `get_referrers`.
* Harness objects made after start (probes, per-object field sets, scope lists, classes and
  their dicts/tuples/descriptors, the parsed operation) are untracked (`PyObject_GC_UnTrack`) at
  once, so no collection sees them: only test objects are ever in generations 0..2.
* Between *loud* sections the collector is disabled and count0 is restored from the value the
  test left (`Counts.restore`), written through the interpreter's `gc` state (found at start
  by a pattern search for unique thresholds, checked against `gc.get_count()`); a loud section
  contains nothing but the test's action: an instantiation, a `WRef(...)`, a setattr/delattr,
  a `del HOLD[i]` (a reference release), `gc.collect`/`freeze`/`garbage.clear()`.
* Free lists: the `WRef(t, cb)` call needs a 2-tuple of arguments and a refcount death of an
  object with k >= 2 weakrefs a 2k-tuple (`PyObject_ClearWeakRefs`); both come from the tuple
  free list, which a full collection empties (`clear_freelists`). Each loud section starts with
  those free lists refilled (`_warm_tuples`), so they never count.
* Session references and roots are entries of HOLD, a list frozen with the world: a
  permanent-generation holder, external to every collection like a C reference, and free of
  the GC allocations a ctypes call makes (measured: a `Py_DecRef` through ctypes allocates).
Failed deletes and batches (the keys and trash branches, in this structure):
* `del` of a field the object lacks runs `delattr` quietly: 3.11 interns the name in the
  class's shared keys (or makes the object's own dict) and raises AttributeError; the
  exception is harness noise, heapd's -32015 refusal makes no object. Result
  {"refused": "no-such-field"}, compared with heapd's error code.
* `apply` runs its sub-ops as the single operations, loud sections and all, so automatic
  collection happens inside the allocation that crosses threshold 0, as in heapd's plain
  batch. An atomic batch that would fail does nothing (batch_failures predicts it, deletes of
  absent fields included); heapd holds automatic collection to the end of an atomic batch
  (documented deviation), so atomic batches are only generated where none can fall due.
  Inside a batch no class is retired (heapd forgets types at the end of a request).
HEAPD_DIFF_MODEL_CHECK=1 verifies at every loud section that generations 0..2 hold only test
objects (the measurement behind the above; slow).
"""
import ctypes
import gc
import json
import os
import struct
import sys
import weakref

_untrack = ctypes.pythonapi.PyObject_GC_UnTrack
_untrack.argtypes = [ctypes.py_object]
_untrack.restype = None

LOG = []          # events of the current operation, as strings
DEL = {}          # id(obj) -> "del:NAME" (ids of live objects are unique)
CB = {}           # id(weakref) -> "cb:NAME"
NAME_OF = {}      # id(obj) -> NAME, for gc.garbage and get_referrers (live objects only)
HOLD = []         # session references and roots (frozen with the world: external holders)
WREF_FIELDS = ("c0", "c1", "c2")
CHECK = os.environ.get("HEAPD_DIFF_MODEL_CHECK") == "1"


def _del(self):
    LOG.append(DEL[id(self)])


def _cb(wr):
    LOG.append(CB[id(wr)])


class WRef(weakref.ref):
    __slots__ = WREF_FIELDS + ("__weakref__",)


class GCState:
    """Direct access to 3.11's `struct _gc_runtime_state` (Include/internal/pycore_gc.h):
    generations[3] {PyGC_Head head; int threshold; int count;}, generation0, permanent_generation,
    generation_stats[3], collecting, garbage, callbacks, long_lived_total, long_lived_pending."""

    def __init__(self):
        old = gc.get_threshold()
        gc.set_threshold(700001, 700002, 700003)
        get = ctypes.pythonapi.PyInterpreterState_Get
        get.restype = ctypes.c_void_p
        base = get()
        buf = ctypes.string_at(base, 1 << 13)
        hits = [o for o in range(0, len(buf) - 56, 4)
                if struct.unpack_from("i", buf, o)[0] == 700001
                and struct.unpack_from("i", buf, o + 24)[0] == 700002
                and struct.unpack_from("i", buf, o + 48)[0] == 700003]
        gc.set_threshold(*old)
        if len(hits) != 1:
            raise RuntimeError("gc state not found in the interpreter state: %r" % hits)
        self.gens = base + hits[0] - 16             # &generations[0].head
        self.c = [ctypes.c_int.from_address(self.gens + 24 * i + 20) for i in range(3)]
        self.perm = self.gens + 80                  # &permanent_generation.head
        self.ll = [ctypes.c_ssize_t.from_address(self.gens + 80 + 24 + 72 + 8 + 16 + i * 8) for i in range(2)]
        want = gc.get_count()
        got = [c.value for c in self.c]
        if got[1:] != list(want[1:]) or abs(got[0] - want[0]) > 5:
            raise RuntimeError("gc counts not where expected")
        garbage = ctypes.c_void_p.from_address(self.gens + 80 + 24 + 72 + 8).value
        if garbage != id(gc.garbage):
            raise RuntimeError("gc state layout not as expected (garbage)")
        self.world_tail = None

    def counts(self):
        return [self.c[0].value, self.c[1].value, self.c[2].value]

    def set_counts(self, v):
        self.c[0].value, self.c[1].value, self.c[2].value = v

    def long_lived(self):
        return [self.ll[0].value, self.ll[1].value]

    # PyGC_Head: uintptr_t _gc_next; uintptr_t _gc_prev (2 flag bits below the pointer).
    @staticmethod
    def _next(h):
        return ctypes.c_size_t.from_address(h).value

    @staticmethod
    def _prev(h):
        return ctypes.c_size_t.from_address(h + 8).value & ~3

    @staticmethod
    def _set_next(h, v):
        ctypes.c_size_t.from_address(h).value = v

    @staticmethod
    def _set_prev(h, v):
        p = ctypes.c_size_t.from_address(h + 8)
        p.value = (p.value & 3) | v

    def mark_world(self):
        """After the start freeze: remember (and pin) the last object of the world."""
        tail = self._prev(self.perm)
        self.world_tail = tail
        obj = ctypes.cast(tail + 16, ctypes.py_object).value      # the object after its head
        _PINNED.append(obj)

    def unfreeze_test_objects(self):
        """gc.unfreeze() for the test's objects only: the permanent list is [world..., test...]
        (freeze appends at the tail); the test part is moved to the tail of generation 2, as
        gc_list_merge(permanent, generation 2) would move it."""
        w = self.world_tail
        first = self._next(w)
        if first == self.perm:
            return
        last = self._prev(self.perm)
        self._set_next(w, self.perm)
        self._set_prev(self.perm, w)
        g2 = self.gens + 48
        tail = self._prev(g2)
        self._set_next(tail, first)
        self._set_prev(first, tail)
        self._set_next(last, g2)
        self._set_prev(g2, last)


_PINNED = []
_WARM = []


def _warm_tuples():
    # One tuple of each size 1..19 goes back to its free list (PyTuple_MAXSAVESIZE 20).
    for n in range(1, 20):
        _WARM.append(tuple(range(n)))
    _WARM.clear()


def _untracked(o):
    if gc.is_tracked(o):
        _untrack(o)
    return o


def _untrack_deep(op):
    if isinstance(op, list):
        _untracked(op)
        for x in op:
            _untrack_deep(x)


class Model:
    def __init__(self):
        self.classes = {}
        self.hcount = {}        # name -> how many references the session holds
        self.roots = {}         # root name -> object name (an entry of HOLD)
        self.probes = {}        # name -> weakref.ref probe (untracked)
        self.alive = set()      # names not yet seen dead
        self.present = {}       # name -> set of field names currently set (untracked)
        self.kind = {}          # name -> "obj" | "weakref"
        self.tname = {}         # name -> type name (objects only)
        self.oid = {}           # name -> id(object) while alive
        self.retired = []       # classes replaced by a new class of the same name
        self.scopes = [[]]      # per scope (frame), names of the references taken, in order
        self.saveall = False
        self.base_stats = None
        self.enabled = False    # the test's gc.isenabled(); the collector is off outside loud sections
        self.saved = [0, 0, 0]  # the test's gc counts, restored at the start of each loud section
        self.gcs = None
        self.in_batch = False   # inside an `apply`: heapd forgets no type before the request ends

    # -- setup ---------------------------------------------------------------------------
    def start(self):
        gc.disable()
        gc.set_debug(0)
        self.gcs = GCState()
        gc.collect()
        gc.freeze()
        self.gcs.mark_world()
        # The start's full collection counted the world as long-lived survivors; heapd starts
        # from 0/0, and the world is frozen: the 25% rule must see only test objects.
        self.gcs.ll[0].value = 0
        self.gcs.ll[1].value = 0
        self.base_stats = _untracked(gc.get_stats())
        self.saved[:] = [0, 0, 0]

    # -- loud sections: only the test's own action runs with the test's counts -------------
    def loud(self, check=True):
        _warm_tuples()
        if CHECK and check:
            self.check_generations()
        self.gcs.set_counts(self.saved)
        if self.enabled:
            gc.enable()

    def quiet(self):
        gc.disable()
        s, c = self.saved, self.gcs.c      # in place: self.saved is one untracked list
        s[0] = c[0].value
        s[1] = c[1].value
        s[2] = c[2].value

    def check_generations(self):
        objs = gc.get_objects()          # first: nothing made below is in it
        test = set(self.oid.values())
        strays = []
        for o in objs:
            if id(o) not in test and not (type(o) is dict and self.is_instance_dict(o, test)):
                strays.append(type(o).__name__ + ":" + repr(o)[:60])
        del objs
        if strays:
            raise RuntimeError("harness objects in the collected generations: %r" % strays[:10])

    @staticmethod
    def is_instance_dict(d, test):
        """A __dict__ materialised beyond the shared-keys limits belongs to the test."""
        for r in gc.get_referrers(d):
            if id(r) in test:
                return True
        return False

    def cls(self, tname, fin):
        # heapd forgets a type once no object of it is alive (at the end of that request); a
        # later object of the name starts a new type with a new key table. The Python
        # equivalent re-creates the class, which gets new shared keys.
        # The old class is kept (a dropped class is cyclic garbage the collector would count).
        # heapd's type is (name, finalizer), as this class is: each is forgotten on its own
        # (not inside an `apply` batch, which heapd runs as one request).
        key = _untracked((tname, fin))
        if not self.in_batch and not self._has_live(key):
            self._retire(key)
        c = self.classes.get(key)
        if c is None:
            before = {id(o) for o in gc.get_objects(0)}
            c = type(tname, (), {"__del__": _del} if fin else {})
            self.classes[key] = c
            _untracked(self.classes)
            # The class, its dict, tuples, descriptors and object's subclass weakref: harness.
            for o in gc.get_objects(0):
                if id(o) not in before and id(o) not in NAME_OF:
                    _untrack(o)
        return c

    def _has_live(self, key):
        for n, p in self.probes.items():
            if self.tname.get(n) == key and p() is not None:
                return True
        return False

    def _retire(self, key):
        old = self.classes.pop(key, None)
        if old is not None:
            self.retired.append(old)

    def get(self, name):
        return self.probes[name]()

    def targets(self, fields):
        # A plain loop: a comprehension naming `self` would make `self` a cell of the caller,
        # a GC object alive through its loud sections.
        out = _untracked([])
        i = 0
        while i < len(fields):
            out.append(self.get(fields[i][1]))
            i += 1
        return out

    def _register(self, name, o, fin, kind):
        self.probes[name] = _untracked(weakref.ref(o))
        self.alive.add(name)
        NAME_OF[id(o)] = name
        self.oid[name] = id(o)
        if fin:
            DEL[id(o)] = "del:" + name
        self.present[name] = _untracked(set())
        self.kind[name] = kind
        # An untracked dict is tracked again when a GC object is stored in it (MAINTAIN_TRACKING).
        _untracked(self.probes)
        _untracked(self.present)

    def _hold(self, name, o):
        HOLD.append(o)
        self.hcount[name] = self.hcount.get(name, 0) + 1
        self.scopes[-1].append(name)

    def _set_initial_fields(self, name, o, fields, targets):
        """A new object's fields, set one by one (each loudly), then the object held."""
        i = 0
        while i < len(fields):           # no iterator object alive in the loud sections
            f = fields[i][0]
            t = targets[i]
            self.loud()
            setattr(o, f, t)
            self.quiet()
            del t
            self.present[name].add(f)
            i += 1
        self._hold(name, o)

    # -- operations ----------------------------------------------------------------------
    def op_alloc(self, op):
        name, tname, fin = op[1], op[2], op[3]
        fields = op[4] if len(op) > 4 else ()
        c = self.cls(tname, fin)
        # The values are held before the allocation, as a program's locals are (x = ...;
        # o = C(); o.f = x): a collection inside the allocation must not take them. heapd holds a
        # request's arguments likewise. An untracked list is invisible to the collector.
        targets = self.targets(fields)
        self.loud()
        o = c()
        self.quiet()
        self._register(name, o, fin, "obj")
        self.tname[name] = _untracked((tname, fin))
        self._set_initial_fields(name, o, fields, targets)

    def op_chain(self, op):
        prefix, n, tname, fin, field = op[1:6]
        cyclic = op[6] if len(op) > 6 else False
        c = self.cls(tname, fin)
        prev = tail = None
        for i in reversed(range(n)):
            self.loud()
            o = c()
            self.quiet()
            self._register(prefix + str(i), o, fin, "obj")
            self.tname[prefix + str(i)] = _untracked((tname, fin))
            if prev is not None:
                self.loud()
                setattr(o, field, prev)
                self.quiet()
                self.present[prefix + str(i)].add(field)
            else:
                tail = o
            prev = o
        if cyclic:
            self.loud()
            setattr(tail, field, prev)
            self.quiet()
            self.present[prefix + str(n - 1)].add(field)
        self._hold(prefix + "0", prev)

    def op_ref(self, op):
        self._hold(op[1], self.get(op[1]))

    def op_unref(self, op):
        name = op[1]
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

    def op_scope_enter(self, op):
        self.scopes.append(_untracked([]))

    def op_scope_exit(self, op):
        # A returning frame clears its locals in slot order, the order of first assignment
        # (`_PyFrame_Clear`: localsplus[0..n]); each decref runs its cascade before the next.
        names = self.scopes.pop()
        i = 0
        while i < len(names):
            self._forget_hold(names[i])
            self._release(names[i])
            i += 1

    def _release(self, name):
        # Drops the latest HOLD entry of the object: the one reference that is released, as a
        # Py_DECREF; if it was the last, the cascade runs inside the `del`.
        oid = self.oid[name]
        i = len(HOLD) - 1
        while id(HOLD[i]) != oid:
            i -= 1
        self.loud()
        del HOLD[i]
        self.quiet()

    def op_set(self, op):
        name, field, value = op[1:4]
        o = self.get(name)
        if value is None:
            if field in self.present[name]:
                self.loud()
                delattr(o, field)
                self.quiet()
                self.present[name].discard(field)
        else:
            t = self.get(value)
            self.loud()
            setattr(o, field, t)
            self.quiet()
            del t
            self.present[name].add(field)
        # Last, the step's own reference to the object: if the change cut the cycle that kept
        # it, it dies here (s48), and that death counts.
        self.loud()
        o = None
        self.quiet()

    def op_del(self, op):
        """`del x.f`: on an absent field 3.11 raises AttributeError -- after interning the name
        in the class's shared keys (or making the object's own dict when they have no room);
        heapd refuses it with -32015 (`no-such-field`) with the same effect. The exception and
        its traceback are harness noise here (made and dropped quietly: heapd's refusal makes no
        object). A field the object has is deleted as `set` with None does."""
        name, field = op[1], op[2]
        o = self.get(name)
        failed = field not in self.present[name]
        if failed:
            self._failed_del(o, name, field)
        else:
            self.loud()
            delattr(o, field)
            self.quiet()
            self.present[name].discard(field)
        self.loud()
        o = None
        self.quiet()
        return {"refused": "no-such-field" if failed else "none"}

    @staticmethod
    def _failed_del(o, name, field):
        try:
            delattr(o, field)
        except AttributeError:
            pass
        else:
            raise RuntimeError("del %s.%s did not fail" % (name, field))

    def op_weakref(self, op):
        name, target, callback = op[1:4]
        fields = op[4] if len(op) > 4 else ()
        t = self.get(target)
        targets = self.targets(fields)
        # The call's argument tuple is made here and untracked: a tuple built by the call itself
        # would sit tracked in generation 0 during a collection that the allocation triggers,
        # survive it and count in long_lived_total (the 25% rule). CALL_FUNCTION_EX passes an
        # exact tuple through as it is.
        args = _untracked((t, _cb) if callback else (t,))
        self.loud()
        w = WRef(*args)
        self.quiet()
        del t, args
        self._register(name, w, False, "weakref")
        if callback:
            CB[id(w)] = "cb:" + name
        self._set_initial_fields(name, w, fields, targets)

    def op_root(self, op):
        rname, name = op[1:3]
        old = self.roots.pop(rname, None)
        if name is not None:
            HOLD.append(self.get(name))    # bind the new value first, then release the old one
            self.roots[rname] = name
        if old is not None:
            self._release(old)

    def op_collect(self, op):
        g = op[1]
        self.loud()
        n = gc.collect(g)
        self.quiet()
        self.reprobe_garbage()
        return {"ret": n, "garbage": self.garbage_names()}

    def op_freeze(self, op):
        self.loud()
        gc.freeze()
        self.quiet()

    def op_unfreeze(self, op):
        self.gcs.unfreeze_test_objects()

    def op_saveall(self, op):
        self.saveall = bool(op[1])
        gc.set_debug(gc.DEBUG_SAVEALL if op[1] else 0)

    def op_garbage_clear(self, op):
        self.loud()
        gc.garbage.clear()       # list_clear releases the items last to first
        self.quiet()
        return {"garbage": []}

    def op_enable(self, op):
        self.enabled = bool(op[1])

    def op_threshold(self, op):
        gc.set_threshold(*op[1])

    def op_referrers(self, op):
        o = self.get(op[1])
        refs = [NAME_OF.get(id(r)) for r in gc.get_referrers(o)]
        # Every holder by its fields, frozen ones included (gc.get_referrers skips the permanent
        # generation): what tells a known divergence from a new one.
        by_fields = []
        for n in self.oid:
            h = self.get(n)
            if h is not None and any(getattr(h, f, None) is o for f in self.present.get(n, ())):
                by_fields.append(n)
        del o, h
        return {"referrers": [r for r in refs if r is not None], "referrers_by_fields": sorted(by_fields)}

    def op_apply(self, op):
        """A batch run as the same single operations, one after the other (an op that would fail
        is skipped, as heapd skips a failed op); atomic with a failing op: nothing at all.
        Sub-ops: ["alloc", name, type, finalizer?] (apply's alloc has no finalizer: false or
        absent), ["ref", name], ["unref", name], ["set", name, field, name|None],
        ["weakref", name, target, callback]. A `set` to None of a field the object lacks fails
        alone (-32015) and keeps its effect, the name interned (as `del`).
        Automatic collection happens where the single ops would have it (heapd's plain batch
        does the same); an atomic batch holds it to its end in heapd (a documented deviation),
        which the generator keeps out of reach (random_ops.Generator.batch).
        heapd forgets a type without objects at the end of a request, so inside the batch no
        class is re-created: the classes without a live instance are retired first, as after
        the request before."""
        ops, atomic = op[1], op[2]
        if atomic:
            fails = self.batch_failures(ops)
            if fails:
                return {"failed": fails, "atomic_failed": True}
            del fails
        for key in list(self.classes):
            if not self._has_live(key):
                self._retire(key)
        self.in_batch = True
        failed = _untracked([])
        try:
            i = -1
            while i + 1 < len(ops):
                i += 1
                sub = ops[i]
                if not self.sub_ok(sub):
                    failed.append(i)
                    continue
                k = sub[0]
                if k == "alloc":
                    if len(sub) > 3 and sub[3]:
                        raise ValueError("apply's alloc has no finalizer: %r" % (sub,))
                    self.op_alloc(_untracked(["alloc", sub[1], sub[2], False]))
                elif k == "weakref":
                    self.op_weakref(_untracked(["weakref", sub[1], sub[2], sub[3]]))
                elif k == "set" and sub[3] is None and sub[2] not in self.present[sub[1]]:
                    o = self.get(sub[1])
                    self._failed_del(o, sub[1], sub[2])
                    del o
                    failed.append(i)
                else:
                    getattr(Model, "op_" + k)(self, sub)
        finally:
            self.in_batch = False
        return {"failed": failed}

    def _alive(self, name):
        p = self.probes.get(name)
        return p is not None and p() is not None

    def sub_ok(self, sub):
        """Whether heapd runs this op of a batch now (rather than refusing it)."""
        k = sub[0]
        if k == "alloc":
            return True
        if k == "unref":
            return self.hcount.get(sub[1], 0) > 0
        if k == "set":
            return self._alive(sub[1]) and (sub[3] is None or self._alive(sub[3]))
        return self._alive(sub[2] if k == "weakref" else sub[1])

    def batch_failures(self, ops):
        """Indices of the ops heapd refuses: a reference the session does not hold, an object that
        is not alive (the generator never lets a batch free what a later op of it names)."""
        held = dict(self.hcount)
        alive = {n for n, p in self.probes.items() if p() is not None}
        present = {}            # fields of the objects the batch changes, as they become
        failed = []
        for i, sub in enumerate(ops):
            k = sub[0]
            ok = True
            if k == "alloc":
                alive.add(sub[1])
            elif k == "weakref":
                ok = sub[2] in alive
                if ok:
                    alive.add(sub[1])
            elif k == "ref":
                ok = sub[1] in alive
            elif k == "unref":
                ok = held.get(sub[1], 0) > 0
            elif k == "set":
                ok = sub[1] in alive and (sub[3] is None or sub[3] in alive)
                if ok:
                    have = present.setdefault(sub[1], set(self.present.get(sub[1], ())))
                    if sub[3] is None:
                        ok = sub[2] in have
                        have.discard(sub[2])
                    else:
                        have.add(sub[2])
            if not ok:
                failed.append(i)
                continue
            if k in ("alloc", "weakref", "ref"):
                held[sub[1]] = held.get(sub[1], 0) + 1
            elif k == "unref":
                held[sub[1]] -= 1
        return failed

    def op_auto(self, op):
        """Automatic collection (checked only with inequalities): `pairs` anonymous 2-cycles
        allocated with the collector enabled at `thresholds`, then everything cleaned up."""
        thresholds, pairs = op[1], op[2]
        before = gc.get_stats()
        c = self.cls("_Auto", False)
        a = b = None
        gc.set_threshold(*thresholds)
        self.loud(check=False)
        gc.enable()
        for _ in range(pairs):
            a = c()
            b = c()
            a.x = b
            b.x = a
        del a, b
        self.quiet()
        after = gc.get_stats()
        gc.set_threshold(700, 10, 10)
        runs = [after[i]["collections"] - before[i]["collections"] for i in range(3)]
        collected = sum(after[i]["collected"] - before[i]["collected"] for i in range(3))
        # Leave no trace: collect the rest, zero the counts (freeze does), re-baseline stats.
        self.loud(check=False)
        gc.collect()
        gc.freeze()
        self.quiet()
        self.gcs.unfreeze_test_objects()
        self.base_stats = _untracked(gc.get_stats())
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
                self.probes[name] = _untracked(weakref.ref(o))
                _untracked(self.probes)

    def take_dead(self):
        dead = [n for n in self.alive if self.probes[n]() is None]
        for n in dead:
            self.alive.discard(n)
            del self.probes[n]
            self.present.pop(n, None)
            oid = self.oid.pop(n)
            # The address may already belong to an object made in this same step (memory freed
            # by a collection inside an allocation is reused at once): drop only n's entries.
            if NAME_OF.get(oid) == n:
                del NAME_OF[oid]
            if DEL.get(oid) == "del:" + n:
                del DEL[oid]
            if CB.get(oid) == "cb:" + n:
                del CB[oid]
        return dead

    def run(self, op):
        _untrack_deep(op)
        kind = op[0]
        res = OPS[kind](self, op) or {}
        # Automatic collections under DEBUG_SAVEALL save garbage at any allocation.
        self.reprobe_garbage()
        res["garbage"] = self.garbage_names()
        res["ev"] = LOG[:]
        LOG.clear()
        res["dead"] = sorted(self.take_dead())
        if kind == "apply":
            res["objects"] = len(self.alive)
        res["count"] = self.saved[:]
        res["stats"] = self.stats()
        res["long_lived"] = self.gcs.long_lived()     # [total, pending]: shown by --replay, not compared
        if CHECK:
            objs = gc.get_objects()
            res["tracked"] = [len(objs), sum(type(o) is dict for o in objs)]   # [all, materialised dicts]
            del objs
        return res


OPS = {name[3:]: f for name, f in vars(Model).items() if name.startswith("op_")}


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
        del res, op             # nothing of this step is alive during the next one
    out.flush()
    # Untracked harness objects (classes) would trip the interpreter's own teardown
    # (_PyObject_GC_UNTRACK in some deallocs assumes a tracked object): leave without it.
    os._exit(0)


if __name__ == "__main__":
    main()

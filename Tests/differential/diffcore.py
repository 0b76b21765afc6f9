"""Differential driver: the same operations through CPython 3.11 (cpython_model.py, in a
worker process) and through a real heapd, compared after every step.

Operations (JSON lists; names are logical object names, unique within a run):
  ["alloc", name, type, finalizer, [[field, name], ...]?]   session holds 1 reference
  ["chain", prefix, n, type, finalizer, field, cyclic?]     prefix0 -> prefix1 -> ... (head held)
  ["ref", name] / ["unref", name]                           take / drop a session reference
  ["set", name, field, name|None]                           None deletes the field (one it has)
  ["weakref", name, target, callback, [[cN, name], ...]?]   weakref object, held by the session
  ["root", rname, name|None]                                global variable
  ["scope_enter"] ["scope_exit"]                            a function frame: its locals go on exit
  ["collect", g] ["freeze"] ["unfreeze"] ["saveall", bool] ["garbage_clear"]
  ["enable", bool]                                          gc.enable() / gc.disable()
  ["threshold", [t0, t1?, t2?]]                             gc.set_threshold (any C int)
  ["referrers", name]                                       gc.get_referrers, heap objects only
  ["del", name, field]                                      `del x.f`: of a field it lacks, refused on both
                                                            sides (3.11 AttributeError, heapd -32015
                                                            no-such-field), the name interned all the same
  ["apply", [sub, ...], atomic]                             one heapd `apply`; CPython: the same ops one by one
        sub: ["alloc", name, type, finalizer?] (finalizer absent or false: apply's alloc has none)
             ["ref", name] ["unref", name] ["set", name, field, name|None]
             ["weakref", name, target, callback]
  ["auto", [t0, t1, t2], pairs]                             automatic collection (inequalities)
  ["expect", {...}]                                         assertion on the previous step, both sides

Compared per step: events (finalizers "del:X", callbacks "cb:W"; as exact sequences, inside
collections too), the names freed, collect()'s return value, gc.get_count() and the
per-generation stats deltas (collections, collected) after *every* step, exactly (the CPython
side keeps its own allocations out of the counts: cpython_model.py), gc.garbage (in list order),
referrers (gc.get_referrers' holders, frozen ones not listed, each once, in heapd's documented
order: by generation, then id), which ops of a batch failed (an atomic batch: that it was refused and its
first failing op) and the live object count after it, and whether a `del` was refused.
"""
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
# The daemon process is started and stopped by the integration harness; every request goes
# through the project's Python client library (Clients/python).
sys.path.insert(0, os.path.join(ROOT, "Tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "Clients", "python"))
import heapd  # noqa: E402
from heapd_harness import Daemon  # noqa: E402

SUBSCRIBED = ["finalize", "weakref.callback", "freed"]

WREF_FIELDS = ("c0", "c1", "c2")
COLLECTING_OPS = {"collect"}
BATCH_OPS = {"alloc", "ref", "unref", "set", "weakref"}

# Filled by the tests, printed by conftest.py at the end of the session.
TOTALS = collections.Counter()
TOTALS["cpython"] = ""


class Divergence(AssertionError):
    pass


def python311():
    """The interpreter that is the reference: CPython 3.11 (`python3` on this machine)."""
    exe = os.environ.get("HEAPD_DIFF_PYTHON")
    if exe:
        return exe
    if sys.version_info[:2] == (3, 11) and sys.implementation.name == "cpython":
        return sys.executable
    import shutil
    for cand in ("python3.11", "python3"):
        p = shutil.which(cand)
        if p:
            v = subprocess.run([p, "-c", "import sys;print(sys.version_info[:2]==(3,11))"],
                               capture_output=True, text=True).stdout.strip()
            if v == "True":
                return p
    return None


# ---------------------------------------------------------------------------------------------
class CPythonSide:
    def __init__(self):
        exe = python311()
        if exe is None:
            raise RuntimeError("CPython 3.11 not found (set HEAPD_DIFF_PYTHON)")
        self.proc = subprocess.Popen([exe, "-I", "-S", os.path.join(HERE, "cpython_model.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.version = json.loads(self.proc.stdout.readline())["ready"]
        TOTALS["cpython"] = "CPython " + self.version.split()[0]

    def run(self, op):
        self.proc.stdin.write(json.dumps(op) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("CPython worker died")
        res = json.loads(line)
        if "error" in res:
            raise RuntimeError("CPython worker failed on %r:\n%s" % (op, res["error"]))
        return res

    def close(self):
        try:
            self.proc.stdin.write('["quit"]\n')
            self.proc.stdin.flush()
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------
def start_daemon(attempts=60):
    """Daemon(), retrying while the binary is being rewritten by a concurrent build (ETXTBSY)."""
    import errno
    import time
    for i in range(attempts):
        try:
            return Daemon()
        except OSError as e:
            if e.errno != errno.ETXTBSY or i == attempts - 1:
                raise
            time.sleep(1)


class HeapdSide:
    def __init__(self):
        self.daemon = start_daemon()
        # No handles are used (raw calls by id), so nothing is released behind our back.
        self.c = heapd.Heap(self.daemon.socket, autorelease=False)
        c = self.c
        # The library dispatches the notifications a request causes before returning its
        # reply, so this list holds exactly the events of the requests since the last take.
        self.notes = []
        self.batch_id = 0
        c.call("gc.set", enabled=False)
        # First-use order of the weakref type's fields = CPython's slot order c0, c1, c2.
        t = c.call("allocate", type="_setup")["id"]
        w = c.call("weakref", id=t)["id"]
        for f in WREF_FIELDS:
            c.call("set", id=w, fields={f: t})
        c.call("unref", id=w)
        c.call("unref", id=t)
        c.subscribe(SUBSCRIBED, callback=self.notes.append)
        self.take_notifications()
        self.ids = {}        # name -> id
        self.names = {}      # id -> name
        self.target = {}     # weakref name -> referent name
        self.types = {}      # name -> heapd type string
        self.base_stats = self.stats(c.call("gc.get"))

    @staticmethod
    def stats(gcget):
        return [[s["collections"], s["collected"]] for s in gcget["stats"]]

    def htype(self, tname, fin):
        return tname

    def _new(self, name, oid):
        self.ids[name] = oid
        self.names[oid] = name

    def take_notifications(self):
        """The events received since the last take (as heapd.Event), oldest first."""
        out = list(self.notes)
        del self.notes[:]
        return out

    def pipeline(self, requests, chunk=256):
        """Sends requests in chunks without waiting for each reply (one JSON-RPC batch per chunk,
        executed in order like separate requests, Protocol/README.md §2); returns the results
        and raises the first error. heapd.Heap has no pipelining of its own: send_raw is its
        way to send a batch, and it dispatches the notifications read before the reply."""
        out = []
        for i in range(0, len(requests), chunk):
            part = requests[i:i + chunk]
            ids = []
            batch = []
            for method, params in part:
                self.batch_id += 1
                rid = "p%d" % self.batch_id
                ids.append(rid)
                batch.append({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
            replies = self.c.send_raw(json.dumps(batch))
            assert isinstance(replies, list) and [r.get("id") for r in replies] == ids, (replies, ids)
            for reply in replies:
                if "error" in reply:
                    raise heapd.error_from_response(reply["error"])
                out.append(reply["result"])
        return out

    def run(self, op):
        c = self.c
        kind = op[0]
        res = {}
        if kind == "alloc":
            name, tname, fin = op[1], op[2], op[3]
            fields = op[4] if len(op) > 4 else []
            params = {"type": self.htype(tname, fin), "finalizer": bool(fin)}
            if fields:
                params["fields"] = {f: self.ids[v] for f, v in fields}
            self._new(name, c.call("allocate", **params)["id"])
        elif kind == "chain":
            prefix, n, tname, fin, field = op[1:6]
            cyclic = op[6] if len(op) > 6 else False
            order = list(reversed(range(n)))   # tail first, as the CPython side creates them
            got = self.pipeline([("allocate", {"type": self.htype(tname, fin), "finalizer": bool(fin)})
                                 for _ in order])
            for i, r in zip(order, got):
                self._new(prefix + str(i), r["id"])
            links = [("set", {"id": self.ids[prefix + str(i)], "fields": {field: self.ids[prefix + str(i + 1)]}})
                     for i in reversed(range(n - 1))]
            if cyclic:
                links.append(("set", {"id": self.ids[prefix + str(n - 1)], "fields": {field: self.ids[prefix + "0"]}}))
            self.pipeline(links)
            self.pipeline([("unref", {"id": self.ids[prefix + str(i)]}) for i in range(1, n)])
        elif kind == "ref":
            c.call("ref", id=self.ids[op[1]])
        elif kind == "unref":
            c.call("unref", id=self.ids[op[1]])
        elif kind == "scope_enter":
            c.call("scope.enter")
        elif kind == "scope_exit":
            c.call("scope.exit")
        elif kind == "set":
            name, field, value = op[1:4]
            c.call("set", id=self.ids[name], fields={field: None if value is None else self.ids[value]})
        elif kind == "weakref":
            name, target, cb = op[1:4]
            fields = op[4] if len(op) > 4 else []
            params = {"id": self.ids[target], "callback": bool(cb)}
            if fields:
                params["fields"] = {f: self.ids[v] for f, v in fields}
            self._new(name, c.call("weakref", **params)["id"])
            self.target[name] = target
        elif kind == "root":
            rname, name = op[1:3]
            c.call("root.set", name=rname, id=None if name is None else self.ids[name])
        elif kind == "collect":
            r = c.call("collect", generation=op[1])
            res["ret"] = r["unreachable"]
            res["garbage"] = None       # filled from gc.get below
        elif kind == "freeze":
            c.call("gc.freeze")
        elif kind == "unfreeze":
            c.call("gc.unfreeze")
        elif kind == "enable":
            c.call("gc.set", enabled=bool(op[1]))
        elif kind == "threshold":
            c.call("gc.set", threshold=list(op[1]))
        elif kind == "referrers":
            r = c.call("referrers", id=self.ids[op[1]])
            res["referrers"] = [self.names.get(i, "#%d" % i) for i in r["referrers"]]
            # heapd's documented order (generation, then id): each holder's place, from heapd.
            gens = {"permanent": 3}
            res["referrers_keys"] = [
                (gens.get(g, g), i) for i in r["referrers"] for g in [c.call("inspect", id=i)["generation"]]]
        elif kind == "del":
            try:
                c.call("set", id=self.ids[op[1]], fields={op[2]: None})
                res["refused"] = "none"
            except heapd.HeapdError as e:
                res["refused"] = "no-such-field" if e.code == -32015 else "code %s" % e.code
                res["del_error"] = str(e)
        elif kind == "apply":
            res.update(self.apply(op[1], op[2]))
            res["objects"] = c.call("stats")["objects"]     # a refused atomic batch made nothing
        elif kind == "saveall":
            c.call("gc.set", debug=["SAVEALL"] if op[1] else [])
        elif kind == "garbage_clear":
            c.call("gc.garbage.clear")
            pass                        # gc.garbage is read below, as after every step
        elif kind == "auto":
            thresholds, pairs = op[1], op[2]
            before = c.call("gc.get")["stats"]
            c.call("gc.set", enabled=True, threshold=thresholds)
            for _ in range(pairs):
                a = c.call("allocate", type="_Auto")["id"]
                b = c.call("allocate", type="_Auto")["id"]
                c.call("set", id=a, fields={"x": b})
                c.call("set", id=b, fields={"x": a})
                c.call("unref", id=a)
                c.call("unref", id=b)
            c.call("gc.set", enabled=False, threshold=[700, 10, 10])
            after = c.call("gc.get")["stats"]
            res["auto"] = {"runs": [after[i]["collections"] - before[i]["collections"] for i in range(3)],
                           "collected": sum(after[i]["collected"] - before[i]["collected"] for i in range(3))}
            c.call("collect", generation=2)
            c.call("gc.freeze")
            c.call("gc.unfreeze")
            self.base_stats = self.stats(c.call("gc.get"))
        else:
            raise ValueError("unknown op %r" % (op,))
        ev, dead = [], []
        for n in self.take_notifications():
            m, p = n.kind, n.params
            if m == "finalize":
                ev.append("del:" + self.names.get(p["id"], "#%d" % p["id"]))
            elif m == "weakref.callback":
                w = self.names.get(p["weakref"], "#%d" % p["weakref"])
                ev.append("cb:" + w)
                want = self.ids.get(self.target.get(w))
                if want is not None and p["referent"] != want:
                    ev.append("BAD-REFERENT:%s:%s" % (w, self.names.get(p["referent"], p["referent"])))
            elif m == "freed":
                dead.extend(self.names[i] for i in p["ids"] if i in self.names)
        res["ev"] = ev
        res["dead"] = sorted(dead)
        g = c.call("gc.get")
        res["count"] = g["count"]
        res["stats"] = self.stats_delta(g)
        res["garbage"] = self.garbage_names(g)
        return res

    def apply(self, subs, atomic):
        """One `apply` request for the logical batch: names made earlier in the batch are "$k"."""
        made = {}
        ops = []
        for k, sub in enumerate(subs):
            def ref(n):
                return "$%d" % made[n] if n in made else self.ids[n]
            kind = sub[0]
            if kind == "alloc":           # ["alloc", name, type, finalizer?]: no finalizer in apply
                if len(sub) > 3 and sub[3]:
                    raise ValueError("apply's alloc has no finalizer: %r" % (sub,))
                ops.append(["alloc", sub[2]])
                made[sub[1]] = k
            elif kind == "weakref":
                ops.append(["weakref", ref(sub[2]), bool(sub[3])])
                made[sub[1]] = k
            elif kind in ("ref", "unref"):
                ops.append([kind, ref(sub[1])])
            elif kind == "set":
                ops.append(["set", ref(sub[1]), sub[2], None if sub[3] is None else ref(sub[3])])
            else:
                raise ValueError("unknown batch op %r" % (sub,))
        try:
            r = self.c.call("apply", ops=ops, atomic=bool(atomic))
        except heapd.HeapdError as e:
            data = getattr(e, "data", None) or {}
            return {"failed": [data.get("op")] if isinstance(data, dict) else [], "atomic_failed": True,
                    "apply_error": str(e)}
        failed = []
        for k, (sub, out) in enumerate(zip(subs, r["results"])):
            if isinstance(out, dict):
                failed.append(k)
            elif sub[0] in ("alloc", "weakref"):
                self._new(sub[1], out)
                if sub[0] == "weakref":
                    self.target[sub[1]] = sub[2]
        return {"failed": failed}

    def garbage_names(self, g):
        return [self.names.get(i, "#%d" % i) for i in g["garbage"]]

    def stats_delta(self, g):
        s = self.stats(g)
        return [[s[i][0] - self.base_stats[i][0], s[i][1] - self.base_stats[i][1]] for i in range(3)]

    def check(self):
        r = self.c.call("check")
        return r

    def close(self):
        """Stops the daemon; returns (was alive, exit code, log if something went wrong)."""
        import shutil
        try:
            self.c.close()
        finally:
            alive = self.daemon.alive()
            rc = self.daemon.stop()
            with open(self.daemon.log_path) as f:
                log = f.read()
            shutil.rmtree(self.daemon.dir, ignore_errors=True)
        return alive, rc, log


# ---------------------------------------------------------------------------------------------
class Mirror:
    """What the driver knows of the logical heap; decides which operations are meaningful
    (the same on both sides, so shrinking can drop operations freely)."""

    def __init__(self, own_dicts=True):
        self.kind = {}           # name -> ("obj", type, fin) | ("weakref", target, cb)
        self.alive = set()
        self.held = collections.Counter()
        self.roots = {}
        self.fields = {}         # name -> {field: name}
        self.garbage = []
        self.used = set()
        self.scopes = [[]]       # per scope, the names whose references it took, in order
        # gc settings and the last counts (the generator keeps atomic apply batches clear of
        # automatic collections, and plain ones too unless `applyauto` is enabled)
        self.enabled = False
        self.thresholds = [700, 10, 10]
        self.count = [0, 0, 0]
        # 3.11's shared keys per class (type, finalizer) (CPYTHON-GC.md §4.1 step 5): usable
        # starts at 30, drops by one per instance created (down to 1) and per new name; a new
        # name with usable 0 gives the object its own __dict__. A class with no live object is
        # forgotten after the step (heapd forgets the type at the end of the request): the next
        # object of it starts a new table.
        self.keys = {}           # (type, fin) -> {"usable": int, "names": [first-use order]}
        self.own = set()         # objects with their own dict
        # Without `own_dicts`, ops that would give an object its own dict are not valid: heapd
        # does not place the dict in the generation lists (docs/shared-keys.md), which random
        # runs would reach (the `sharedkeys` gate of random_ops.py turns them on).
        self.own_dicts = own_dicts

    def _take(self, name):
        self.held[name] += 1
        self.scopes[-1].append(name)

    def _drop(self, name):
        self.held[name] -= 1
        if self.held[name] == 0:
            del self.held[name]
        for scope in reversed(self.scopes):     # the innermost scope holding it, latest first
            if name in scope:
                del scope[len(scope) - 1 - scope[::-1].index(name)]
                return

    def valid(self, op):
        k = op[0]
        if k == "alloc":
            name, tname, fin = op[1], op[2], op[3]
            if name in self.used:
                return False
            fields = op[4] if len(op) > 4 else []
            if not self.own_dicts and self.would_own((tname, fin), [f for f, _ in fields], new=1):
                return False
            return all(v in self.alive for _, v in fields)
        if k == "chain":
            n = op[2]
            if n < 1:
                return False
            if not self.own_dicts and self.would_own((op[3], op[4]), [op[5]], new=n):
                return False
            return all(op[1] + str(i) not in self.used for i in range(n))
        if k == "ref":
            return op[1] in self.alive
        if k == "unref":
            return self.held[op[1]] > 0
        if k == "scope_enter":
            return len(self.scopes) < 100
        if k == "scope_exit":
            return len(self.scopes) > 1
        if k == "set":
            name, field, value = op[1:4]
            if name not in self.alive or (value is not None and value not in self.alive):
                return False
            if self.kind[name][0] == "weakref" and field not in WREF_FIELDS:
                return False
            if self.kind[name][0] == "obj" and field in WREF_FIELDS:
                return False
            # Deleting a field the object lacks is the `del` op (refused on both sides).
            if value is None and field not in self.fields[name]:
                return False
            if not self.own_dicts and self.kind[name][0] == "obj" and name not in self.own \
                    and self.would_own(self.kind[name][1:], [field]):
                return False
            # Any live object, also unreachable garbage: CPython reaches it through its probe and
            # holds it in a local for the duration (so if the step cuts its last cycle it dies
            # when the step ends); heapd's `set` holds the object and the new target for the
            # request in the same way (Heap+Objects.swift `set`: incref ... decref).
            return True
        if k == "weakref":
            name, target = op[1], op[2]
            if name in self.used or target not in self.alive:
                return False
            return all(f in WREF_FIELDS and v in self.alive for f, v in (op[4] if len(op) > 4 else []))
        if k == "root":
            return op[2] is None or op[2] in self.alive
        if k in ("collect", "freeze", "unfreeze", "saveall", "garbage_clear", "auto", "enable", "threshold"):
            return True
        if k == "referrers":
            return op[1] in self.alive
        if k == "del":
            name, field = op[1], op[2]
            if name not in self.alive or self.kind[name][0] != "obj" or field in WREF_FIELDS:
                return False
            return self.own_dicts or name in self.own or field in self.fields[name] \
                or not self.would_own(self.kind[name][1:], [field])
        if k == "apply":
            return self.valid_batch(op[1])
        raise ValueError("unknown op %r" % (op,))

    def valid_batch(self, subs):
        """Well-formed: new names unused and made once, plain types only (apply's alloc has no
        finalizer: ["alloc", name, type] or ["alloc", name, type, false]), every name known
        (alive, dead, or made earlier in the batch); without `own_dicts`, no name that would
        give an object its own dict."""
        if not subs:
            return False
        made = {}                # name -> class, for objects the batch makes
        trial = {}               # class -> [usable, names], the batch's view of the key tables
        for sub in subs:
            k = sub[0]
            if k not in BATCH_OPS:
                return False
            if k in ("alloc", "weakref"):
                if sub[1] in self.used or sub[1] in made:
                    return False
                if k == "alloc" and ((len(sub) > 3 and sub[3]) or len(sub) > 4):
                    return False
                if k == "weakref" and (len(sub) != 4 or not (sub[2] in self.used or sub[2] in made)):
                    return False
                made[sub[1]] = (sub[2], False) if k == "alloc" else None
                if k == "alloc":
                    st = self._trial_keys(trial, (sub[2], False))
                    if st[0] > 1:
                        st[0] -= 1
            elif k in ("ref", "unref", "set"):
                if not (sub[1] in self.used or sub[1] in made):
                    return False
                if k == "set":
                    if sub[3] is not None and not (sub[3] in self.used or sub[3] in made):
                        return False
                    kind = "weakref" if (sub[1] in made and made[sub[1]] is None) else \
                        self.kind.get(sub[1], ("obj",))[0]
                    if (kind == "weakref") != (sub[2] in WREF_FIELDS):
                        return False
                    cls = made[sub[1]] if sub[1] in made else \
                        (self.kind[sub[1]][1:] if sub[1] in self.alive and kind == "obj" else None)
                    if cls is not None and sub[1] not in self.own:
                        st = self._trial_keys(trial, cls)
                        if sub[2] not in st[1]:
                            if st[0] <= 0:
                                if not self.own_dicts:
                                    return False
                            else:
                                st[0] -= 1
                                st[1].add(sub[2])
        return True

    def _trial_keys(self, trial, cls):
        if cls not in trial:
            kt = self.keys.get(cls)
            trial[cls] = [kt["usable"], set(kt["names"])] if kt else [30, set()]
        return trial[cls]

    # -- shared keys ---------------------------------------------------------------------
    def key_table(self, cls):
        """The shared keys of class cls = (type, finalizer)."""
        return self.keys.setdefault(tuple(cls), {"usable": 30, "names": []})

    def would_own(self, cls, fields, new=0):
        """Whether setting `fields` (on `new` objects made first, if any) needs an own dict."""
        kt = self.keys.get(tuple(cls))
        usable, names = (kt["usable"], set(kt["names"])) if kt else (30, set())
        for _ in range(new):
            usable = usable - 1 if usable > 1 else usable
        for f in fields:
            if f not in names:
                if usable <= 0:
                    return True
                usable -= 1
                names.add(f)
        return False

    def name_fits(self, cls, field):
        """Whether `field` can be set on an object of cls without an own dict."""
        return not self.would_own(cls, [field])

    def _created(self, cls):
        kt = self.key_table(cls)
        if kt["usable"] > 1:
            kt["usable"] -= 1

    def _intern(self, obj, field):
        """3.11 `_PyObject_StoreInstanceAttribute` (a set, or a failed delete): intern the name
        in the class's shared keys, or give the object its own dict when they have no room."""
        kind = self.kind.get(obj)
        if kind is None or kind[0] != "obj" or obj in self.own:
            return
        kt = self.key_table(kind[1:])
        if field not in kt["names"]:
            if kt["usable"] <= 0:
                self.own.add(obj)
                return
            kt["usable"] -= 1
            kt["names"].append(field)

    def reachable(self):
        seen = set()
        stack = [n for n, c in self.held.items() if c > 0] + list(self.roots.values()) + list(self.garbage)
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(self.fields.get(n, {}).values())
        return seen

    def _add(self, name, kind, fields):
        self.used.add(name)
        self.alive.add(name)
        self.kind[name] = kind
        self.fields[name] = dict(fields)

    def apply(self, op, res):
        self.apply_op(op, res)
        if "count" in res:
            self.count = list(res["count"])
        if "garbage" in res:
            self.garbage = list(res["garbage"])
        for n in res.get("dead", ()):
            self.alive.discard(n)
            self.fields.pop(n, None)
            self.own.discard(n)
        live = {self.kind[n][1:] for n in self.alive if self.kind[n][0] == "obj"}
        for cls in [c for c in self.keys if c not in live]:
            del self.keys[cls]

    def apply_op(self, op, res):
        k = op[0]
        if k == "alloc":
            self._created((op[2], op[3]))
            self._add(op[1], ("obj", op[2], op[3]), op[4] if len(op) > 4 else [])
            for f, _ in (op[4] if len(op) > 4 else []):
                self._intern(op[1], f)
            self._take(op[1])
        elif k == "chain":
            prefix, n, tname, fin, field = op[1:6]
            cyclic = op[6] if len(op) > 6 else False
            for i in reversed(range(n)):   # as CPython: tail first, each linked as it is made
                self._created((tname, fin))
                nxt = prefix + str(i + 1) if i + 1 < n else (prefix + "0" if cyclic else None)
                self._add(prefix + str(i), ("obj", tname, fin), [(field, nxt)] if nxt else [])
                if i + 1 < n:
                    self._intern(prefix + str(i), field)
            if cyclic:
                self._intern(prefix + str(n - 1), field)
            self._take(prefix + "0")
        elif k == "ref":
            self._take(op[1])
        elif k == "unref":
            self._drop(op[1])
        elif k == "scope_enter":
            self.scopes.append([])
        elif k == "scope_exit":
            for name in self.scopes.pop():
                self.held[name] -= 1
                if self.held[name] == 0:
                    del self.held[name]
        elif k in ("set", "del"):
            self._intern(op[1], op[2])
            if op[0] == "del" or op[3] is None:
                self.fields[op[1]].pop(op[2], None)
            else:
                self.fields[op[1]][op[2]] = op[3]
        elif k == "enable":
            self.enabled = bool(op[1])
        elif k == "threshold":
            self.thresholds[:len(op[1])] = list(op[1])
        elif k == "apply":
            if not res.get("atomic_failed"):
                failed = set(res.get("failed", ()))
                for i, sub in enumerate(op[1]):
                    if i in failed:
                        # A failed delete of an absent field keeps its effect (the name interned).
                        if sub[0] == "set" and sub[3] is None and sub[1] in self.alive:
                            self._intern(sub[1], sub[2])
                        continue
                    if sub[0] == "alloc":
                        self.apply_op(["alloc", sub[1], sub[2], False], {})
                    else:
                        self.apply_op(sub, {})
        elif k == "weakref":
            self._add(op[1], ("weakref", op[2], op[3]), op[4] if len(op) > 4 else [])
            self._take(op[1])
        elif k == "root":
            if op[2] is None:
                self.roots.pop(op[1], None)
            else:
                self.roots[op[1]] = op[2]


# ---------------------------------------------------------------------------------------------
def compare(op, cp, hd):
    """Differences between the CPython and heapd results of one step (empty: parity)."""
    diffs = []
    # Exact sequences, inside collections too: heapd mirrors gcmodule.c's lists, so the
    # unreachable-list order (finalizers, callbacks) is CPython's.
    if cp["ev"] != hd["ev"]:
        diffs.append("events (sequence): cpython %s, heapd %s" % (cp["ev"], hd["ev"]))
    if cp["dead"] != hd["dead"]:
        diffs.append("freed: cpython %s, heapd %s" % (cp["dead"], hd["dead"]))
    for key in ("ret", "count", "stats"):
        if key in cp and cp[key] != hd.get(key):
            diffs.append("%s: cpython %s, heapd %s" % (key, cp[key], hd.get(key)))
    if cp.get("refused") != hd.get("refused"):
        diffs.append("refused: cpython %s, heapd %s (%s)" % (cp.get("refused"), hd.get("refused"), hd.get("del_error")))
    if "referrers" in cp:
        # The same holders as gc.get_referrers (generations 0, 1, 2; holders in the permanent
        # generation are not searched), each once; listed by generation, then id, not in
        # CPython's list order (SPEC §1: heapd finds them in O(holders), without list positions).
        if sorted(cp["referrers"]) != sorted(hd["referrers"]) or len(set(hd["referrers"])) != len(hd["referrers"]):
            # Holders by fields (frozen ones, and objects holding it through an own __dict__,
            # whose referrer in 3.11 is the dict) tell which kind of difference it is.
            diffs.append("referrers (holders): cpython %s, heapd %s (holders by fields: %s)" % (
                cp["referrers"], hd["referrers"], cp["referrers_by_fields"]))
        elif hd["referrers_keys"] != sorted(hd["referrers_keys"]):
            diffs.append("referrers (order): heapd %s, not by generation then id: %s" % (
                hd["referrers"], hd["referrers_keys"]))
        else:
            TOTALS["referrers compared"] += 1
    if op[0] == "apply":
        if "objects" in cp and cp["objects"] != hd.get("objects"):
            diffs.append("apply: live objects after: cpython %s, heapd %s" % (cp["objects"], hd.get("objects")))
        if cp.get("atomic_failed") != hd.get("atomic_failed"):
            diffs.append("apply atomic failure: cpython %s, heapd %s (%s)" % (
                cp.get("atomic_failed"), hd.get("atomic_failed"), hd.get("apply_error")))
        elif cp.get("atomic_failed"):
            if cp["failed"][:1] != hd["failed"][:1]:
                diffs.append("apply: first failing op: cpython %s, heapd %s" % (cp["failed"][:1], hd["failed"]))
        elif cp["failed"] != hd["failed"]:
            diffs.append("apply: failed ops: cpython %s, heapd %s" % (cp["failed"], hd["failed"]))
    if "garbage" in cp and cp["garbage"] != hd["garbage"]:
        diffs.append("gc.garbage: cpython %s, heapd %s" % (cp["garbage"], hd["garbage"]))
    if "auto" in cp:
        for side, r in (("cpython", cp["auto"]), ("heapd", hd["auto"])):
            ran = sum(r["runs"])
            if op[1][0] == 0 and ran != 0:
                diffs.append("auto: %s collected automatically with threshold 0: %s" % (side, r))
            if op[1][0] != 0 and (ran < 1 or r["collected"] < 1):
                diffs.append("auto: %s ran no automatic collection: %s" % (side, r))
            # A negative threshold 0 (3.11 takes any C int) makes every allocation collect,
            # exactly once: 2 per pair on both sides, whatever the interpreter allocates besides.
            if op[1][0] < 0 and ran != 2 * op[2]:
                diffs.append("auto: %s did not collect at every allocation: %s" % (side, r))
    return diffs


def check_expect(spec, last_op, cp, hd):
    """A scenario's own claim about the previous step (from CPYTHON-GC.md), on both sides."""
    out = []
    for side, r in (("cpython", cp), ("heapd", hd)):
        for key, want in spec.items():
            if key == "ev_seq":
                got = r["ev"]
            elif key == "ev":
                got, want = sorted(r["ev"]), sorted(want)
            elif key == "dead":
                got, want = sorted(r["dead"]), sorted(want)
            elif key == "garbage_seq":
                got = r.get("garbage")
            else:
                got = r.get(key)
            if got != want:
                out.append("expect %s after %s: %s has %s, CPYTHON-GC.md says %s" % (key, last_op, side, got, want))
    return out


class Runner:
    """One CPython worker and one heapd, driven in lockstep."""

    def __init__(self, compare_fn=None, own_dicts=False):
        self.compare = compare_fn or compare
        self.cp = CPythonSide()
        self.hd = HeapdSide()
        self.mirror = Mirror(own_dicts)
        self.steps = 0
        self.skipped = 0
        self.collects = 0
        self.collect_order_equal = 0
        self.coverage = collections.Counter()
        self.last = None
        self.max_alive = 0

    def step(self, op):
        """Runs one op on both sides; returns the list of differences (or None if skipped)."""
        if op[0] == "expect":
            if self.last is None:
                return []
            return check_expect(op[1], *self.last)
        if not self.mirror.valid(op):
            self.skipped += 1
            return None
        cp = self.cp.run(op)
        hd = self.hd.run(op)
        self.steps += 1
        if op[0] in COLLECTING_OPS:
            self.collects += 1
            self.collect_order_equal += cp["ev"] == hd["ev"]
            cov = self.coverage
            cov["collected"] += cp["ret"]
            cov["collects finding garbage"] += cp["ret"] > 0
            cov["collects with events"] += bool(cp["ev"])
            cov["saved to gc.garbage"] += len(cp["garbage"]) if cp["garbage"] != self.mirror.garbage else 0
        else:
            self.coverage["refcount steps with >1 event"] += len(cp["ev"]) > 1
        self.coverage["finalizers"] += sum(e.startswith("del:") for e in cp["ev"])
        self.coverage["callbacks"] += sum(e.startswith("cb:") for e in cp["ev"])
        self.coverage["freed"] += len(cp["dead"])
        diffs = self.compare(op, cp, hd)
        self.mirror.apply(op, cp)
        self.max_alive = max(self.max_alive, len(self.mirror.alive))
        for k in ("referrers", "apply", "del", "threshold", "enable"):
            self.coverage[k + " ops"] += op[0] == k
        if op[0] == "apply":
            self.coverage["apply atomic refused"] += bool(cp.get("atomic_failed"))
            self.coverage["apply ops refused"] += len(cp.get("failed", ())) if not cp.get("atomic_failed") else 0
        if cp["stats"] != (self.last[1]["stats"] if self.last else cp["stats"]) and op[0] not in COLLECTING_OPS:
            self.coverage["automatic collections (steps with)"] += 1
            if op[0] == "apply":
                self.coverage["apply " + ("atomic" if op[2] else "plain") + " with automatic collection"] += 1
        if op[0] not in COLLECTING_OPS and len(cp["dead"]) > 50:
            self.coverage["refcount steps freeing > 50 (trashcan depth)"] += 1
        self.last = (op, cp, hd)
        return diffs

    def run(self, ops):
        """Runs ops until the first divergence; returns (index, op, diffs) or None."""
        for i, op in enumerate(ops):
            diffs = self.step(op)
            if diffs:
                return i, op, diffs
        return None

    def finish(self):
        """Ends the run: the heap must pass its invariant check; both processes stop cleanly."""
        TOTALS["steps"] += self.steps
        TOTALS["collects"] += self.collects
        TOTALS["collect_order_equal"] += self.collect_order_equal
        problems = []
        try:
            chk = self.hd.check()
            if not chk["ok"]:
                problems.append("heapd check failed: %s" % chk["problems"])
        except Exception as e:
            problems.append("heapd check failed: %r" % (e,))
        finally:
            alive, rc, log = self.hd.close()
            self.cp.close()
        if not alive:
            problems.append("heapd died during the run:\n" + log)
        elif rc != 0:
            problems.append("heapd exited with %s:\n%s" % (rc, log))
        return problems


def run_ops(ops, ignore=()):
    """Runs ops on fresh processes; returns (divergence or None, runner stats, finish problems).
    `ignore`: result keys (e.g. "count") a scenario does not compare, each for a documented
    deviation it reaches on purpose."""
    def compare_fn(op, cp, hd):
        return [d for d in compare(op, cp, hd) if d.split(":", 1)[0] not in ignore]
    r = Runner(compare_fn=compare_fn, own_dicts=True)   # written scenarios may reach own dicts on purpose
    try:
        div = r.run(ops)
    except Exception:
        r.finish()
        raise
    problems = r.finish()
    return div, r, problems


def format_ops(ops):
    return "[\n" + "".join("    %s,\n" % json.dumps(o) for o in ops) + "]"

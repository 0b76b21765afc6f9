"""The OpenRPC document (Protocol/heapd.openrpc.json) against the real daemon.

- it documents exactly the methods `heapd --list-methods` reports;
- `rpc.discover` returns it verbatim (as parsed JSON);
- it is structurally sound OpenRPC 1.2.6 and every schema in it is a valid JSON Schema;
- every real result and notification of a session touching every method validates against it;
- its examples validate against their own schemas.
"""
import json
import os
import re
import subprocess

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import heapd_harness

DOC_PATH = os.path.join(heapd_harness.ROOT, "Protocol", "heapd.openrpc.json")
RESOURCE_PATH = os.path.join(heapd_harness.ROOT, "Sources", "HeapServer", "Resources", "heapd.openrpc.json")
# The standard codes (JSONRPC) and heapd's own (HeapProtocol).
ERROR_CODES_SWIFT = [os.path.join(heapd_harness.ROOT, "Sources", "JSONRPC", "RPCErrorCode.swift"),
                     os.path.join(heapd_harness.ROOT, "Sources", "HeapProtocol", "HeapErrorCode.swift")]
BASE_URI = "urn:heapd:openrpc"

# What the OpenRPC 1.2.6 meta-schema allows (its objects forbid other keys except `x-…`).
ALLOWED_KEYS = {
    "document": {"openrpc", "info", "servers", "methods", "components"},
    "info": {"title", "description", "termsOfService", "version", "contact", "license"},
    "method": {"name", "description", "summary", "tags", "paramStructure", "params", "result", "errors",
               "links", "examples", "deprecated"},
    "contentDescriptor": {"name", "description", "summary", "schema", "required", "deprecated"},
    "error": {"code", "message", "data"},
}


def extra_keys(obj, kind):
    return {k for k in obj if k not in ALLOWED_KEYS[kind] and not k.startswith("x-")}


def resolve_pointer(doc, ref):
    """Follows a local `#/a/b` reference inside the document."""
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def deref(doc, node):
    while isinstance(node, dict) and set(node) == {"$ref"}:
        node = resolve_pointer(doc, node["$ref"])
    return node


def all_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from all_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from all_refs(v)


class Protocol:
    """The document, with validators that resolve `#/components/...` references inside it."""

    def __init__(self, doc):
        self.doc = doc
        self.methods = {m["name"]: m for m in doc["methods"]}
        self.index = {m["name"]: i for i, m in enumerate(doc["methods"])}
        self.notifications = doc["components"]["x-notifications"]
        self.registry = Registry().with_resource(
            BASE_URI, Resource.from_contents(doc, default_specification=DRAFT202012))
        self._validators = {}

    def validator(self, pointer):
        v = self._validators.get(pointer)
        if v is None:
            v = Draft202012Validator({"$ref": BASE_URI + "#" + pointer}, registry=self.registry)
            self._validators[pointer] = v
        return v

    def result_errors(self, method, value):
        v = self.validator(f"/methods/{self.index[method]}/result/schema")
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(value)]

    def check_result(self, method, value):
        problems = self.result_errors(method, value)
        assert not problems, f"{method} result {json.dumps(value)} does not match its schema: {problems}"

    def check_param(self, method, name, value):
        params = {p["name"]: i for i, p in enumerate(self.methods[method]["params"])}
        assert name in params, f"{method} has no documented param {name!r}"
        v = self.validator(f"/methods/{self.index[method]}/params/{params[name]}/schema")
        problems = [e.message for e in v.iter_errors(value)]
        assert not problems, f"{method} param {name}={json.dumps(value)}: {problems}"

    def check_notification(self, message):
        name = message.get("method")
        assert name in self.notifications, f"undocumented notification {name!r}"
        assert "id" not in message
        v = self.validator("/components/x-notifications/" + name.replace("~", "~0").replace("/", "~1") + "/params")
        problems = [e.message for e in v.iter_errors(message.get("params"))]
        assert not problems, f"notification {json.dumps(message)} does not match its schema: {problems}"

    def documented_error_codes(self, method):
        return {deref(self.doc, e)["code"] for e in self.methods[method].get("errors", [])}


@pytest.fixture(scope="module")
def protocol():
    with open(DOC_PATH, encoding="utf-8") as f:
        return Protocol(json.load(f))


# ---------------------------------------------------------------------------- (a) (b)

def test_methods_match_list_methods(protocol):
    out = subprocess.run([heapd_harness.binary("heapd"), "--list-methods"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    dispatched = {line.strip() for line in out.splitlines() if line.strip()}
    names = [m["name"] for m in protocol.doc["methods"]]
    assert len(names) == len(set(names)), "duplicate method names"
    assert set(names) == dispatched, (
        f"undocumented: {sorted(dispatched - set(names))}, not dispatched: {sorted(set(names) - dispatched)}")


def test_rpc_discover_returns_the_document(daemon, client, protocol):
    assert client.call("rpc.discover") == protocol.doc
    lsp = daemon.client(framing="lsp")
    try:
        assert lsp.call("rpc.discover") == protocol.doc
    finally:
        lsp.close()


# ---------------------------------------------------------------------------- (c)

def test_document_file_layout():
    assert os.path.islink(DOC_PATH), "Protocol/heapd.openrpc.json must stay a symlink"
    assert os.path.realpath(DOC_PATH) == os.path.realpath(RESOURCE_PATH)
    with open(RESOURCE_PATH, encoding="utf-8") as f:
        text = f.read()
    # Served whole by rpc.discover, which editors call on connect: keep it small (it grew with
    # the inspection methods and the monitor notification).
    assert len(text.encode()) < 200_000, "the document must stay under ~200 KB"
    assert text.startswith('{\n  "openrpc": '), "the document must be pretty-printed with a 2-space indent"
    json.loads(text)


def test_document_structure(protocol):
    doc = protocol.doc
    assert not extra_keys(doc, "document")
    assert doc["openrpc"] == "1.2.6"
    info = doc["info"]
    assert not extra_keys(info, "info")
    # The document's version is the daemon's and the CLI's own (`--version`).
    for tool in ("heapd", "heapctl"):
        out = subprocess.run([heapd_harness.binary(tool), "--version"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and out.stdout.strip() == info["version"], (tool, out)
    assert info["title"] == "heapd"
    assert "x-notifications" in info["description"]
    components = doc["components"]
    for method in doc["methods"]:
        name = method.get("name")
        assert isinstance(name, str) and name, method
        assert not extra_keys(method, "method"), (name, extra_keys(method, "method"))
        assert method.get("summary") and method.get("description"), name
        assert method.get("paramStructure") == "by-name", name
        assert isinstance(method.get("params"), list), name
        seen = set()
        for param in method["params"]:
            assert not extra_keys(param, "contentDescriptor"), (name, param)
            assert param.get("name") and param["name"] not in seen, (name, param)
            seen.add(param["name"])
            assert isinstance(param.get("required"), bool), (name, param["name"])
            assert "schema" in param, (name, param["name"])
            Draft202012Validator.check_schema(param["schema"])
        result = method.get("result")
        assert isinstance(result, dict) and result.get("name") and "schema" in result, name
        assert not extra_keys(result, "contentDescriptor"), name
        Draft202012Validator.check_schema(result["schema"])
        assert method.get("errors"), name
        for e in method["errors"]:
            assert e.get("$ref", "").startswith("#/components/errors/"), (name, e)
    for schema_name, schema in components["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for ref in set(all_refs(doc)):
        resolve_pointer(doc, ref)  # raises if dangling
    for note_name, note in components["x-notifications"].items():
        assert note.get("description"), note_name
        Draft202012Validator.check_schema(note["params"])


def test_every_error_code_is_documented(protocol):
    swift = ""
    for path in ERROR_CODES_SWIFT:
        with open(path, encoding="utf-8") as f:
            swift += f.read()
    defined = {int(c) for c in re.findall(r"RPCErrorCode\(rawValue:\s*(-\d+)\)", swift)}
    assert defined, "no codes found in RPCErrorCode.swift"
    errors = protocol.doc["components"]["errors"]
    for name, e in errors.items():
        assert not extra_keys(e, "error"), name
        assert isinstance(e["code"], int) and isinstance(e["message"], str) and e["message"], name
    documented = [e["code"] for e in errors.values()]
    assert len(documented) == len(set(documented)), "an error code is documented twice"
    assert set(documented) == defined


def test_required_params_are_required(client, protocol):
    """Omitting params: a method with required params names one of them in its -32602."""
    for name, method in protocol.methods.items():
        required = [p["name"] for p in method["params"] if p["required"]]
        if not required:
            continue
        reply = client.request(name, {})
        assert reply.get("error", {}).get("code") == -32602, (name, reply)
        named = re.match(r"params\.([A-Za-z_]+)", reply["error"]["message"])
        assert named and named.group(1) in required, (name, reply["error"]["message"], required)


def test_subscribable_events_are_the_documented_notifications(client, protocol):
    # "*" is every kind but monitor, which is asked for by name.
    assert set(client.call("subscribe", events=["*"])["events"]) == set(protocol.notifications) - {"monitor"}
    assert set(client.call("subscribe", events=["monitor"])["events"]) == set(protocol.notifications)


# ---------------------------------------------------------------------------- (d)

class Session:
    """Calls methods, validating every result and notification against the document."""

    def __init__(self, client, protocol, covered):
        self.client = client
        self.protocol = protocol
        self.covered = covered
        self.seen_notifications = []

    def call(self, method, **params):
        for name, value in params.items():
            self.protocol.check_param(method, name, value)
        result = self.client.call(method, **params)
        self.protocol.check_result(method, result)
        self.covered.add(method)
        self.drain()
        return result

    def error(self, method, code, **params):
        """Calls a method that must fail with `code`, a code its documentation lists."""
        reply = self.client.request(method, params or None)
        self.drain()
        assert "error" in reply, (method, reply)
        assert reply["error"]["code"] == code, (method, reply)
        assert code in self.protocol.documented_error_codes(method), (method, code)
        return reply["error"]

    def drain(self):
        notes = self.client.take_notifications()
        for n in notes:
            self.protocol.check_notification(n)
        self.seen_notifications += notes
        return [n["method"] for n in notes]


def check_error_data(protocol, error, schema_name):
    v = protocol.validator("/components/schemas/" + schema_name)
    assert not list(v.iter_errors(error.get("data"))), error


def test_real_session_validates(daemon, client, protocol):
    covered = set()
    s = Session(client, protocol, covered)

    assert s.call("ping") == {"pong": True}
    assert s.call("rpc.discover")["openrpc"] == "1.2.6"
    assert set(s.call("subscribe", events=["*", "monitor"])["events"]) == set(protocol.notifications)

    # The spec's Person cycle, a weakref with a callback, and a finalizer.
    alice = s.call("allocate", type="Person", data={"name": "Alice"})["id"]
    bob = s.call("allocate", type="Person", data={"name": "Bob"}, finalizer=True)["id"]
    s.call("set", id=alice, fields={"partner": bob})
    s.call("set", id=bob, fields={"partner": alice})
    s.call("get", id=alice)
    weak = s.call("weakref", id=bob, callback=True)["id"]
    assert s.call("get", id=weak)["referent"] == bob
    assert s.call("ref", id=alice)["refcount"] == 3
    s.call("unref", id=alice)
    info = s.call("inspect", id=bob)
    assert info["getrefcount"] == info["refcount"] + 1
    assert info["weakrefs"] == [weak]
    s.call("inspect", id=weak)
    assert s.call("referrers", id=bob)["referrers"] == [alice]
    assert s.call("referents", id=alice)["referents"] == [bob]

    page = s.call("objects", type="Person", limit=1)
    assert page["next"] == alice
    assert [o["id"] for o in s.call("objects", type="Person", after=page["next"])["objects"]] == [bob]
    s.call("objects", generation=0)
    s.call("objects")
    s.call("stats")
    assert s.call("path", id=bob, limit=3)["paths"][0]["ids"] == [bob]
    assert s.call("cycles", id=alice)["components"][0]["ids"] == sorted([alice, bob])
    s.call("cycles")
    assert s.call("dominators", id=bob)["reachable"]
    s.call("dominators")
    s.call("histogram")
    s.call("histogram", generation=0)
    assert s.call("graph", id=alice)["text"].startswith("digraph")
    assert "<svg" in s.call("graph", format="svg", max_nodes=5)["text"]
    assert s.call("export", format="heapsnapshot")["snapshot"]["snapshot"]["node_count"] >= 3
    exported = os.path.join(daemon.dir, "doc.heapsnapshot")
    assert s.call("export", format="heapsnapshot", path=exported)["path"] == exported
    s.error("export", -32602, format="heapsnapshot", path=os.path.join(daemon.dir, "no", "such.heapsnapshot"))

    # Globals.
    s.call("root.set", name="alice", id=alice)
    assert s.call("root.get", name="alice")["id"] == alice
    assert s.call("root.list")["roots"] == [{"name": "alice", "id": alice}]
    assert s.call("root.set", name="alice", id=None)["previous"] == alice
    err = s.error("root.get", -32009, name="alice")
    check_error_data(protocol, err, "NameData")

    # del alice, del bob, gc.collect(): events before the reply, in order.
    s.call("unref", id=alice)
    s.call("unref", id=bob)
    assert s.call("path", id=bob) == {"id": bob, "reachable": False, "paths": []}
    assert s.call("dominators", id=bob) == {"id": bob, "reachable": False}
    result = s.call("collect")
    assert (result["collected"], result["unreachable"]) == (2, 2)
    kinds = [n["method"] for n in s.seen_notifications[-5:]]
    assert kinds == ["gc.start", "weakref.callback", "finalize", "freed", "gc.stop"], kinds
    assert s.call("get", id=weak)["referent"] is None
    err = s.error("get", -32001, id=alice)
    check_error_data(protocol, err, "NoSuchObjectData")
    assert err["data"]["state"] == "freed"
    s.call("collect", generation=0)

    # Bulk: `$k` builds a cycle in one request; a failing op; all or nothing.
    applied = s.call("apply", ops=[["alloc", "Node"], ["alloc", "Node"], ["set", "$0", "next", "$1"],
                                   ["set", "$1", "next", "$0"], ["unref", "$0"], ["unref", "$1"], ["ref", 999999]])
    assert applied["errors"] == 1 and applied["results"][6]["code"] == -32001, applied
    assert s.call("collect")["collected"] == 2
    assert s.call("apply", ops=[["alloc", "Temp", 8], ["unref", "$0"]], atomic=True)["freed"] == 1
    err = s.error("apply", -32001, ops=[["alloc", "Temp"], ["unref", 999999]], atomic=True)
    assert err["data"]["op"] == 1 and err["message"].startswith("ops[1] (unref): "), err
    s.error("apply", -32602, ops=[["unref", 1, 2]])

    # Snapshots: exactly what was allocated since one was taken.
    assert s.call("snapshot.save", name="doc-before")["replaced"] is False
    extra = s.call("allocate", type="Extra")["id"]
    s.call("snapshot.save", name="doc-after")
    diff = s.call("snapshot.diff", **{"from": "doc-before"})
    assert diff["new"]["ids"] == [extra] and diff["freed"]["count"] == 0, diff
    assert s.call("snapshot.diff", **{"from": "doc-before", "to": "doc-after"})["new"] == diff["new"]
    assert s.call("snapshot.leaks", first="doc-before", second="doc-after")["leaked"]["ids"] == [extra]
    assert [x["name"] for x in s.call("snapshot.list")["snapshots"]] == ["doc-before", "doc-after"]
    s.error("snapshot.diff", -32013, **{"from": "nope"})
    assert s.call("leaks", since="doc-before")["growth"]["types"][0]["type"] == "Extra"
    s.call("leaks")
    s.error("leaks", -32013, since="nope")
    s.call("snapshot.delete", name="doc-before")
    s.call("snapshot.delete", name="doc-after")
    s.call("unref", id=extra)

    # Immediate deallocation with a finalizer and a weakref callback.
    obj = s.call("allocate", type="Temp", finalizer=True)["id"]
    weak2 = s.call("weakref", id=obj, callback=True)["id"]
    s.call("unref", id=obj)
    assert [n["method"] for n in s.seen_notifications[-3:]] == ["finalize", "weakref.callback", "freed"]
    assert s.call("unref", id=weak2) == {"id": weak2, "refcount": 0, "freed": [weak2]}

    # Scopes (function frames).
    assert s.call("scope.enter")["depth"] == 1
    local = s.call("allocate", type="Local")["id"]
    assert s.call("scope.exit") == {"depth": 0, "freed": [local]}
    s.error("scope.exit", -32008)

    # gc controls, gc.garbage under SAVEALL, freeze.
    s.call("gc.get")
    state = s.call("gc.set", enabled=False, threshold=[500], debug=["SAVEALL"])
    assert state["threshold"] == [500, 10, 10] and state["debug"] == ["SAVEALL"]
    loop = s.call("allocate", type="Loop")["id"]
    s.call("set", id=loop, fields={"self": loop})
    s.call("unref", id=loop)
    s.call("collect")
    assert s.call("gc.get")["garbage"] == [loop]
    assert s.call("gc.garbage.clear")["cleared"] == 1
    died = s.call("set", id=loop, fields={"self": None})
    assert died["refcount"] == 0 and died["freed"] == [loop]
    s.call("gc.set", enabled=True, threshold=[700, 10, 10], debug=[])
    kept = s.call("allocate", type="Kept")["id"]
    assert s.call("gc.freeze")["freeze_count"] >= 1
    assert kept in [o["id"] for o in s.call("objects", generation="permanent")["objects"]]
    assert s.call("gc.unfreeze") == {"freeze_count": 0}
    s.call("check")

    # Named sessions: one client opens, another lists and closes it.
    assert s.call("session.open", name="doc-test") == {"name": "doc-test", "resumed": False}
    other = daemon.client()
    try:
        o = Session(other, protocol, covered)
        listed = o.call("session.list")["sessions"]
        assert any(x["name"] == "doc-test" and x["references"] == 2 for x in listed), listed  # weak, kept
        err = o.error("session.open", -32004, name="doc-test")
        check_error_data(protocol, err, "NameData")
        err = o.error("unref", -32002, id=kept)
        check_error_data(protocol, err, "ObjectIdData")
        o.call("session.close", name="doc-test")
    finally:
        other.close()
    s.call("ping")  # the session.closed notification is queued before this request runs
    assert any(n["method"] == "session.closed" and n["params"]["name"] == "doc-test" for n in s.seen_notifications)
    s.call("session.open", name="doc-test-2")
    s.call("allocate", type="Owned")
    assert s.call("session.close")["released"] == 1
    s.error("session.close", -32007)
    s.error("session.open", -32602, name="x", lease_s=0)
    assert s.call("session.open", name="doc-leased", lease_s=30)["lease_s"] == 30
    assert s.call("session.close")["name"] == "doc-leased"

    assert s.call("unsubscribe", events=["freed"])["events"] == [
        k for k in protocol.doc["components"]["schemas"]["EventKind"]["enum"] if k != "freed"]
    assert s.call("unsubscribe") == {"events": []}

    assert {n["method"] for n in s.seen_notifications} == set(protocol.notifications)
    assert covered == set(protocol.methods) - {"shutdown"}, sorted(set(protocol.methods) - covered)


def test_shutdown_result_and_exit_status(protocol):
    d = heapd_harness.Daemon()
    try:
        c = d.client()
        c.send([{"jsonrpc": "2.0", "id": 1, "method": "shutdown"},
                {"jsonrpc": "2.0", "id": 2, "method": "ping"}])
        replies = c.read_reply()
        c.close()
        assert [r["id"] for r in replies] == [1, 2]
        protocol.check_result("shutdown", replies[0]["result"])
        assert replies[1]["error"]["code"] == -32006
        assert -32006 in protocol.documented_error_codes("ping")
        assert d.proc.wait(timeout=20) == 0, d.read_log()
    finally:
        d.stop()


# ---------------------------------------------------------------------------- (e)

CORE = ["allocate", "ref", "unref", "set", "get", "weakref", "collect", "inspect", "stats"]


def test_examples_validate(protocol):
    for name in CORE:
        assert protocol.methods[name].get("examples"), f"{name} has no example"
    count = 0
    for name, method in protocol.methods.items():
        required = {p["name"] for p in method["params"] if p["required"]}
        for example in method.get("examples", []):
            given = {p["name"]: p["value"] for p in example["params"]}
            assert required <= set(given), (name, example["name"])
            for pname, value in given.items():
                protocol.check_param(name, pname, value)
            problems = protocol.result_errors(name, example["result"]["value"])
            assert not problems, (name, example["name"], problems)
            count += 1
    assert count >= len(CORE)

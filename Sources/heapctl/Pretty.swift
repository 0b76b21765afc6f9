import Foundation
import JSONRPC

/// Human-readable renderings of results.
enum Pretty {
    /// Indented JSON (two spaces), keys in the daemon's order.
    static func json(_ v: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch v {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + json($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members) where !members.isEmpty:
            return "{\n"
                + members.map { inner + JSONCodec.encodeString(.string($0.0)) + ": " + json($0.1, indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        default:
            return JSONCodec.encodeString(v)
        }
    }

    static func compact(_ v: JSONValue?) -> String { v.map(JSONCodec.encodeString) ?? "null" }

    static func int(_ v: JSONValue?) -> String { v?.intValue.map(String.init) ?? "?" }

    static func ids(_ v: JSONValue?) -> String {
        let list = v?.arrayValue?.compactMap { $0.intValue.map(String.init) } ?? []
        return list.isEmpty ? "none" : list.joined(separator: ", ")
    }

    static func fields(_ v: JSONValue?, indent: String = "  ") -> [String] {
        (v?.objectValue ?? []).map { "\(indent)\($0.0) -> \(int($0.1))" }
    }

    static func freed(_ r: JSONValue) -> String {
        guard let list = r["freed"]?.arrayValue, !list.isEmpty else { return "" }
        let total = r["freed_count"]?.intValue.map(Int.init) ?? list.count
        return "freed \(total): " + list.prefix(20).compactMap { $0.intValue.map(String.init) }.joined(separator: ", ")
            + (total > 20 ? ", …" : "")
    }

    static func object(_ r: JSONValue) -> String {
        var lines = [
            "object \(int(r["id"])): \(r["type"]?.stringValue ?? "?")  size \(int(r["size"]))  refcount "
            + "\(int(r["refcount"]))"
        ]
        if let d = r["data"], !d.isNull { lines.append("  data: \(compact(d))") }
        if r["referent"] != nil {
            lines.append(
                "  weakref to \(r["referent"]!.isNull ? "nothing (dead)" : int(r["referent"]))"
                    + (r["callback"]?.boolValue == true ? " with callback" : "")
            )
        }
        lines += fields(r["fields"])
        return lines.joined(separator: "\n")
    }

    static func inspect(_ r: JSONValue) -> String {
        let rc = int(r["refcount"])
        var lines = [
            "object \(int(r["id"])): \(r["type"]?.stringValue ?? "?")  size \(int(r["size"]))  refcount \(rc)  "
            + "(sys.getrefcount would say \(int(r["getrefcount"])))"
        ]
        let gen = r["generation"]?.stringValue ?? int(r["generation"])
        var flags = ["generation \(gen)", r["tracked"]?.boolValue == true ? "tracked" : "untracked"]
        if r["finalizer"]?.boolValue == true {
            flags.append(r["finalized"]?.boolValue == true ? "finalizer ran" : "has finalizer")
        }
        lines.append("  " + flags.joined(separator: "  "))
        if let d = r["data"], !d.isNull { lines.append("  data: \(compact(d))") }
        if r["referent"] != nil {
            lines.append("  weakref to \(r["referent"]!.isNull ? "nothing (dead)" : int(r["referent"]))")
        }
        let f = fields(r["fields"], indent: "    ")
        if !f.isEmpty { lines.append("  fields:"); lines += f }
        lines.append("  held by:")
        let holders = r["holders"]
        // Identical holders (the same field name on many objects) are grouped, not repeated.
        var byField: [(field: String, objects: [String])] = []
        for h in holders?["fields"]?.arrayValue ?? [] {
            let field = h["field"]?.stringValue ?? "?"
            if let i = byField.firstIndex(where: { $0.field == field }) {
                byField[i].objects.append(int(h["object"]))
            } else {
                byField.append((field, [int(h["object"])]))
            }
        }
        for (field, objects) in byField {
            let shown =
                objects.prefix(10).joined(separator: ", ")
                + (objects.count > 10 ? ", … (+\(objects.count - 10))" : "")
            lines.append(
                objects.count == 1
                    ? "    field \(field) of object \(shown)"
                    : "    field \(field) of \(objects.count) objects: \(shown)")
        }
        for s in holders?["sessions"]?.arrayValue ?? [] {
            let name = s["name"]?.stringValue ?? "anonymous #\(int(s["session"]))"
            lines.append("    session \(name) ×\(int(s["count"]))")
        }
        for root in holders?["roots"]?.arrayValue ?? [] { lines.append("    root \(root.stringValue ?? "?")") }
        if let g = holders?["garbage"]?.intValue, g > 0 { lines.append("    gc.garbage ×\(g)") }
        lines.append("  referrers: \(ids(r["referrers"]))")
        lines.append("  weakrefs: \(ids(r["weakrefs"]))")
        if let a = r["allocated"], !a.isNull {
            let who = a["session_name"]?.stringValue ?? "anonymous #\(int(a["session"]))"
            var line = "  allocated: \(a["site"]?.stringValue ?? "(no site)") by session \(who)"
            if let t = a["time"]?.intValue, t > 0 {
                line += ", \(Format.seconds(max(0, Date().timeIntervalSince1970 - Double(t)))) ago"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func collect(_ r: JSONValue) -> String {
        "generation \(int(r["generation"])): \(int(r["unreachable"])) unreachable, \(int(r["collected"])) collected, "
            + "\(int(r["uncollectable"])) uncollectable in \(Format.milliseconds(r["duration_ms"]?.doubleValue ?? 0))"
    }

    static func stats(_ r: JSONValue) -> String {
        let bytes = Format.bytes(r["bytes"]?.intValue ?? 0)
        var lines = [
            "# heap", "objects: \(int(r["objects"]))", "bytes: \(bytes)",
            "roots: \(int(r["roots"]))", "sessions: \(int(r["sessions"]))",
            "connections: \(int(r["connections"]))  subscribers: \(int(r["subscribers"]))",
            "requests: \(int(r["requests"]))", "uptime: \(Format.seconds(r["uptime_s"]?.doubleValue ?? 0))",
            "tables: \(Format.bytes(r["table_bytes"]?.intValue ?? 0))",
        ]
        if let serial = r["serial"], let ns = serial["ns_per_request"]?.doubleValue {
            lines.append("time holding the heap's lock: \(Format.significant(ns / 1000)) µs per request")
        }
        lines += [
            "", "# gc", "enabled: \(r["gc"]?["enabled"]?.boolValue ?? true)",
            "debug: \(r["gc"]?["debug"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? "")",
        ]
        let generations = (r["generations"]?.arrayValue ?? []).enumerated().map { i, g in
            [
                String(i), int(g["objects"]), "\(int(g["count"]))/\(int(g["threshold"]))", int(g["collections"]),
                int(g["collected"]), int(g["uncollectable"]),
            ]
        }
        lines.append(
            Format.table(
                ["generation", "objects", "count", "collections", "collected", "uncollectable"],
                generations))
        lines.append("permanent: \(int(r["permanent"]))  garbage: \(int(r["garbage"]))")
        let types = r["types"]?.arrayValue ?? []
        if !types.isEmpty {
            lines += ["", "# types"]
            lines.append(
                Format.table(
                    ["type", "count", "bytes"],
                    types.map {
                        [$0["type"]?.stringValue ?? "?", int($0["count"]), Format.bytes($0["bytes"]?.intValue ?? 0)]
                    }))
        }
        lines += ["", "# persistence"]
        for (key, value) in r["persistence"]?.objectValue ?? [] {
            lines.append("\(key): \(persistenceValue(key, value))")
        }
        return lines.joined(separator: "\n")
    }

    /// One member of `stats.persistence`, sizes and durations in units.
    private static func persistenceValue(_ key: String, _ value: JSONValue) -> String {
        switch value {
        case .int(let n) where key.hasSuffix("bytes"): return Format.bytes(n)
        case .double(let d) where key.hasSuffix("seconds") || key.hasSuffix("_s"): return Format.seconds(d)
        case .object(let members):
            return members.map { "\($0.0)=\(persistenceValue($0.0, $0.1))" }.joined(separator: " ")
        default: return compact(value).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
    }
}

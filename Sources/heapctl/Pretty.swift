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
            return "{\n" + members.map { inner + JSONCodec.encodeString(.string($0.0)) + ": " + json($0.1, indent: inner) }
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
        var lines = ["object \(int(r["id"])): \(r["type"]?.stringValue ?? "?")  size \(int(r["size"]))  refcount \(int(r["refcount"]))"]
        if let d = r["data"], !d.isNull { lines.append("  data: \(compact(d))") }
        if r["referent"] != nil { lines.append("  weakref to \(r["referent"]!.isNull ? "nothing (dead)" : int(r["referent"]))\(r["callback"]?.boolValue == true ? " with callback" : "")") }
        lines += fields(r["fields"])
        return lines.joined(separator: "\n")
    }

    static func inspect(_ r: JSONValue) -> String {
        let rc = int(r["refcount"])
        var lines = ["object \(int(r["id"])): \(r["type"]?.stringValue ?? "?")  size \(int(r["size"]))  refcount \(rc)  (sys.getrefcount would say \(int(r["getrefcount"])))"]
        let gen = r["generation"]?.stringValue ?? int(r["generation"])
        var flags = ["generation \(gen)", r["tracked"]?.boolValue == true ? "tracked" : "untracked"]
        if r["finalizer"]?.boolValue == true { flags.append(r["finalized"]?.boolValue == true ? "finalizer ran" : "has finalizer") }
        lines.append("  " + flags.joined(separator: "  "))
        if let d = r["data"], !d.isNull { lines.append("  data: \(compact(d))") }
        if r["referent"] != nil { lines.append("  weakref to \(r["referent"]!.isNull ? "nothing (dead)" : int(r["referent"]))") }
        let f = fields(r["fields"], indent: "    ")
        if !f.isEmpty { lines.append("  fields:"); lines += f }
        lines.append("  held by:")
        let holders = r["holders"]
        for h in holders?["fields"]?.arrayValue ?? [] {
            lines.append("    field \(h["field"]?.stringValue ?? "?") of object \(int(h["object"]))")
        }
        for s in holders?["sessions"]?.arrayValue ?? [] {
            let name = s["name"]?.stringValue ?? "anonymous #\(int(s["session"]))"
            lines.append("    session \(name) ×\(int(s["count"]))")
        }
        for root in holders?["roots"]?.arrayValue ?? [] { lines.append("    root \(root.stringValue ?? "?")") }
        if let g = holders?["garbage"]?.intValue, g > 0 { lines.append("    gc.garbage ×\(g)") }
        lines.append("  referrers: \(ids(r["referrers"]))")
        lines.append("  weakrefs: \(ids(r["weakrefs"]))")
        return lines.joined(separator: "\n")
    }

    static func collect(_ r: JSONValue) -> String {
        "generation \(int(r["generation"])): \(int(r["unreachable"])) unreachable, \(int(r["collected"])) collected, "
            + "\(int(r["uncollectable"])) uncollectable in \(r["duration_ms"]?.doubleValue ?? 0) ms"
    }

    static func stats(_ r: JSONValue) -> String {
        var lines = ["# heap", "objects: \(int(r["objects"]))", "bytes: \(int(r["bytes"]))",
                     "roots: \(int(r["roots"]))", "sessions: \(int(r["sessions"]))",
                     "connections: \(int(r["connections"]))", "uptime_s: \(r["uptime_s"]?.doubleValue ?? 0)", "", "# gc",
                     "enabled: \(r["gc"]?["enabled"]?.boolValue ?? true)",
                     "debug: \(r["gc"]?["debug"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? "")"]
        for (i, g) in (r["generations"]?.arrayValue ?? []).enumerated() {
            lines.append("gen\(i): objects=\(int(g["objects"])) count=\(int(g["count"]))/\(int(g["threshold"])) collections=\(int(g["collections"])) collected=\(int(g["collected"])) uncollectable=\(int(g["uncollectable"]))")
        }
        lines.append("permanent: \(int(r["permanent"]))  garbage: \(int(r["garbage"]))")
        let types = r["types"]?.arrayValue ?? []
        if !types.isEmpty {
            lines += ["", "# types (count, bytes)"]
            lines += types.map { "\($0["type"]?.stringValue ?? "?"): \(int($0["count"])) \(int($0["bytes"]))" }
        }
        lines += ["", "# persistence", "mode: \(r["persistence"]?["mode"]?.stringValue ?? "?")"]
        return lines.joined(separator: "\n")
    }
}

import HeapCore

/// A drawing as Graphviz DOT, objgraph's look: boxes labelled with type, id and refcount; a
/// double border for objects with a finalizer (`__del__`); cycles filled and drawn in a colour
/// of their own; root holders as grey octagons; weakref → referent edges dashed; "N more"
/// nodes small and grey. Every node and edge of the drawing is written, nothing else, so the
/// result's counts are the text's.
extension HeapDrawing {
    public var dot: String {
        var out = """
            digraph heap {
              node [shape=box, style=filled, fillcolor="#ffffff", fontname="Helvetica", fontsize=10];
              edge [fontname="Helvetica", fontsize=9];

            """
        for (i, node) in nodes.enumerated() {
            out += "  \(Self.dotName(i, node)) [\(attributes(of: node, focused: i == focus))];\n"
        }
        for edge in edges {
            let from = Self.dotName(edge.from, nodes[edge.from])
            let to = Self.dotName(edge.to, nodes[edge.to])
            out += "  \(from) -> \(to) [\(attributes(of: edge))];\n"
        }
        return out + "}\n"
    }

    /// Objects are `o<id>` (stable across pictures), the rest by their position.
    static func dotName(_ i: Int, _ node: Node) -> String {
        switch node {
        case .object(let o): "o\(o.id.raw)"
        case .holder: "h\(i)"
        case .more: "m\(i)"
        }
    }

    /// Fill and line colours of cycles 0, 1, …, by turns.
    static let cycleFills = ["#f4cccc", "#fce5cd", "#d9ead3", "#cfe2f3", "#d9d2e9"]
    static let cycleLines = ["#cc0000", "#e69138", "#38761d", "#3d85c6", "#674ea7"]

    private func attributes(of node: Node, focused: Bool) -> String {
        switch node {
        case .object(let o):
            var lines = [o.type, "id \(o.id.raw)  refcount \(o.refcount)"]
            if o.finalizer { lines.append("has __del__") }
            var a = ["label=\(DOTString.label(lines))"]
            if let c = o.cycle { a.append("fillcolor=\"\(Self.cycleFills[c % Self.cycleFills.count])\"") }
            if o.finalizer { a.append("peripheries=2") }
            if focused { a.append("penwidth=2.5") }
            return a.joined(separator: ", ")
        case .holder(let h):
            return "label=\(DOTString.label([Self.holderText(h)])), shape=octagon, fillcolor=\"#d9d9d9\""
        case .more(let count, let referrers):
            let text = "\(count) more \(referrers ? "referrer" : "reference")\(count == 1 ? "" : "s")"
            return "label=\(DOTString.label([text])), shape=box, style=\"filled,dashed\", fillcolor=\"#f3f3f3\", "
                + "fontsize=8, fontcolor=\"#666666\""
        }
    }

    private func attributes(of edge: Edge) -> String {
        switch edge.kind {
        case .field(let name):
            var a = ["label=\(DOTString.label([name]))"]
            if edge.inCycle, case .object(let o) = nodes[edge.from], let c = o.cycle {
                a += ["color=\"\(Self.cycleLines[c % Self.cycleLines.count])\"", "penwidth=2"]
            }
            return a.joined(separator: ", ")
        case .weak: return "label=\"weakref\", style=dashed"
        case .held: return "color=\"#666666\""
        case .more: return "style=dotted, color=\"#999999\""
        }
    }

    /// A root holder as people read it (as `heapctl why` names them).
    static func holderText(_ h: RootHolder) -> String {
        switch h.kind {
        case .session: h.name.map { "session \($0)" } ?? "anonymous session #\(h.session?.raw ?? 0)"
        case .root: "root \(h.name ?? "")"
        case .permanent: "permanent generation"
        case .garbage: "gc.garbage"
        }
    }
}

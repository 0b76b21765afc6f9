/// Quoting for Graphviz DOT: a label is any text (type, field and root names come from clients),
/// so it is written as a quoted string that Graphviz reads back as exactly that text.
enum DOTString {
    /// Longest text per label line, in characters; longer ones end in "…" (as objgraph cuts reprs).
    static let maxLineLength = 64

    /// `lines` as one quoted label, each on its own line.
    static func label(_ lines: [String]) -> String {
        "\"" + lines.map { escaped(cut($0)) }.joined(separator: "\\n") + "\""
    }

    static func cut(_ s: String) -> String {
        s.count <= maxLineLength ? s : String(s.prefix(maxLineLength - 1)) + "…"
    }

    /// Inside quotes DOT escapes only `"`, but Graphviz then reads backslash sequences in labels
    /// (`\n`, `\l`, `\N`, `\G`, …) and HTML entities (`&lt;`): a backslash is doubled and `&` is
    /// written `&amp;`, so each stays itself. Control
    /// characters (newlines included) would break the line or vanish: they are shown as their
    /// Unicode control pictures (␊ for a newline).
    static func escaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x26: out += "&amp;"
            case 0x5C: out += "\\\\"
            case 0x00...0x1F: out.unicodeScalars.append(Unicode.Scalar(0x2400 + u.value)!)
            case 0x7F: out += "\u{2421}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

/// Aligned columns for human output, as DevTools' heap tables lay them out: a header row, text
/// columns left-aligned, numeric columns right-aligned.
struct TextTable {
    enum Alignment { case left, right }

    let columns: [(title: String, alignment: Alignment)]
    private(set) var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) { self.columns = columns.map { (title: $0.0, alignment: $0.1) } }

    mutating func append(_ row: [String]) { rows.append(row) }

    var text: String {
        let all = [columns.map(\.title)] + rows
        let widths = columns.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
        return all.map { row in
            columns.indices.map { c in
                let cell = row.indices.contains(c) ? row[c] : ""
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                // The last left-aligned column is not padded (no trailing blanks).
                if columns[c].alignment == .left { return c == columns.count - 1 ? cell : cell + pad }
                return pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Bytes with a binary unit: `512 B`, `1.5 KiB`, `3.0 MiB`.
    static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        var value = Double(n)
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            value /= 1024
            if value < 1024 || unit == "TiB" {
                let tenths = Int64((value * 10).rounded())
                return "\(tenths / 10).\(tenths % 10) \(unit)"
            }
        }
        return "\(n) B"
    }
}

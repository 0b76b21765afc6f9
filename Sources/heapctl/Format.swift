import Foundation

/// The one formatting layer of heapctl's human output: durations and sizes with sensible
/// precision and units, and tables with aligned columns. `--json` output is the daemon's own.
enum Format {
    /// Milliseconds as people read them: "0.007 ms", "12.3 ms", "1.24 s".
    static func milliseconds(_ ms: Double) -> String {
        if ms >= 1000 { return seconds(ms / 1000) }
        return "\(significant(ms)) ms"
    }

    /// Seconds: "0.25 s", "29.97 s", "18 min 21 s", "2 h 05 min".
    static func seconds(_ s: Double) -> String {
        if s < 60 { return "\(significant(s)) s" }
        let whole = Int(s.rounded())
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(String(format: "%02d", whole / 60 % 60)) min"
    }

    /// Local wall-clock time with milliseconds ("14:03:07.215"), for live views.
    static func clock(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&t, &parts)
        let ms = Int((date.timeIntervalSince1970 * 1000).truncatingRemainder(dividingBy: 1000))
        return String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, ms)
    }

    /// Bytes in binary units: "512 B", "1.5 KiB", "64.0 MiB".
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(n)
        var unit = 0
        while abs(value) >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: value < 10 ? "%.2f %@" : "%.1f %@", value, units[unit])
    }

    /// At most three significant digits, no trailing zeros ("0.00684" → "0.007" is three
    /// decimals at most, never a binary tail like 0.0068359375).
    static func significant(_ x: Double) -> String {
        if x == 0 { return "0" }
        let decimals = x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3
        var text = String(format: "%.\(decimals)f", x)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "0" ? "<0.001" : text
    }

    /// Rows as aligned columns (two spaces apart); numeric columns (and their headers) are
    /// right-aligned.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        let numeric = header.indices.map { i in
            rows.allSatisfy { row in row.indices.contains(i) && row[i].first.map { $0.isNumber || $0 == "-" } ?? true }
        }
        return all.map { row in
            row.indices.map { i in
                let pad = String(repeating: " ", count: max(0, widths[i] - row[i].count))
                return numeric[i] && !rows.isEmpty ? pad + row[i] : row[i] + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}

import ArgumentParser

/// The hint the shell shows dimmed after the cursor as you type, as redis-cli does: once a
/// command and a space are typed, the arguments still to come (`inspect ` → `<id>`,
/// `allocate Person ` → `[<fields> ...] [--data <data>] …`), or a group's subcommands (`gc ` →
/// `get|set|…`). From the parser's usage alone: no request per keystroke.
enum ShellHint {
    static func hint(for line: String) -> String? {
        guard let last = line.last, last == " ", case .command(let text) = ShellLine(line).body else { return nil }
        guard let words = try? LineTokenizer(variables: nil).words(text), !words.isEmpty else { return nil }
        var path: [String] = []
        var args: [String] = []
        for w in words {
            if args.isEmpty, ShellCompleter.command(at: path + [w]) != nil { path.append(w) } else { args.append(w) }
        }
        guard !path.isEmpty, let command = ShellCompleter.command(at: path) else { return nil }
        let subcommands = command.configuration.subcommands
        if !subcommands.isEmpty {
            return args.isEmpty ? ShellCompleter.commandNames(subcommands).joined(separator: "|") : nil
        }
        let usage = ShellCompleter.usage(command)
        // The usage's items after the command's own words, a bracketed group being one item.
        var items = Self.items(usage).dropFirst(path.count)
        var given = ShellCompleter.positionalIndex(args, usage)
        while given > 0, let first = items.first, first.hasPrefix("<") || first.hasPrefix("[<") {
            if first.hasSuffix("...]") { break }  // `[<fields> ...]` takes any number
            items = items.dropFirst()
            given -= 1
        }
        // Options already given are not hinted again.
        let remaining = items.filter { item in
            !args.contains { $0.hasPrefix("--") && (item == "[\($0)]" || item.hasPrefix("[\($0) ")) }
        }
        return remaining.isEmpty ? nil : remaining.joined(separator: " ")
    }

    /// `allocate <type> [<fields> ...] [--data <data>]` → `allocate`, `<type>`, `[<fields> ...]`,
    /// `[--data <data>]`.
    static func items(_ usage: String) -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        for c in usage {
            if c == " " && depth == 0 {
                if !current.isEmpty { items.append(current) }
                current = ""
                continue
            }
            if c == "[" { depth += 1 } else if c == "]" { depth -= 1 }
            current.append(c)
        }
        if !current.isEmpty { items.append(current) }
        return items
    }
}

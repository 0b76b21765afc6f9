import ArgumentParser
import HeapClient
import HeapProtocol
import JSONRPC

/// What Tab offers in the shell, from the argument parser's own commands and usage, the
/// protocol's method list and the live heap: command names, `call`'s methods, live ids, the
/// field names of the object `set` changes, options, and `$variables`.
struct ShellCompleter {
    struct Completion: Equatable {
        var candidates: [String] = []
        /// Whether a single candidate gets a space after it (not after `field=`).
        var appendSpace = true
        /// The command's usage, shown above the prompt when its arguments begin.
        var hint: String?
    }

    let connection: HeapConnection?
    let variables: [String: String]
    /// At most this many live ids are fetched (`objects` pages) for one Tab.
    static let idLimit = 500

    /// Completes `word`, the text under the cursor, after `before`, the line up to it.
    func complete(before: String, word: String) -> Completion {
        if word.hasPrefix("$") { return Completion(candidates: variableNames(word)) }
        var text = ""
        if case .command(let t) = ShellLine(before).body { text = t }
        let words = (try? LineTokenizer(variables: nil).words(text)) ?? []
        if words.isEmpty {
            let names = Self.commandNames(Heapctl.configuration.subcommands) + ["help", "exit", "quit"]
            let matches = names.filter { $0.hasPrefix(word) }
            let single = matches.count == 1 ? Self.command(at: [matches[0]]) : nil
            return Completion(candidates: matches, hint: single.map(Self.usage))
        }
        if words.first == "help" {
            return Completion(candidates: subcommandNames(after: Array(words.dropFirst()), word))
        }
        // The command path (`gc set`), then its arguments.
        var path: [String] = []
        var args: [String] = []
        for w in words {
            if args.isEmpty, Self.command(at: path + [w]) != nil { path.append(w) } else { args.append(w) }
        }
        guard let command = Self.command(at: path) else { return Completion() }
        if !command.configuration.subcommands.isEmpty && args.isEmpty {
            return Completion(candidates: subcommandNames(after: path, word))
        }
        let usage = Self.usage(command)
        let hint = word.isEmpty && args.isEmpty ? usage : nil
        if word.hasPrefix("-") {
            return Completion(candidates: Self.options(usage).filter { $0.hasPrefix(word) })
        }
        if path == ["call"] && args.isEmpty {
            return Completion(candidates: HeapMethods.names.filter { $0.hasPrefix(word) }, hint: hint)
        }
        let positional = Self.positionals(usage)
        let index = Self.positionalIndex(args, usage)
        // Past the last positional only if it repeats (`[<fields> ...]`).
        guard let last = positional.last, index < positional.count || usage.contains("<\(last)> ...") else {
            return Completion(hint: hint)
        }
        let name = positional[min(index, positional.count - 1)]
        if name == "id" { return Completion(candidates: liveIDs(word), hint: hint) }
        guard name == "fields" else { return Completion(hint: hint) }
        if let eq = word.firstIndex(of: "=") {
            let field = word[...eq]
            let value = String(word[word.index(after: eq)...])
            return Completion(candidates: liveIDs(value).map { field + $0 }, hint: hint)
        }
        // `set ID f…`: the object's existing fields.
        if path == ["set"],
            let id = args.first.flatMap({ Int64($0.hasPrefix("$") ? variables[String($0.dropFirst())] ?? "" : $0) })
        {
            return Completion(
                candidates: fieldNames(of: id).filter { $0.hasPrefix(word) }.map { $0 + "=" }, appendSpace: false,
                hint: hint)
        }
        return Completion(hint: hint)
    }

    // MARK: The parser's commands

    static func commandNames(_ commands: [ParsableCommand.Type]) -> [String] {
        commands.map { $0._commandName }
    }

    private func subcommandNames(after path: [String], _ word: String) -> [String] {
        guard let command = Self.command(at: path) else { return [] }
        let subcommands = path.isEmpty ? Heapctl.configuration.subcommands : command.configuration.subcommands
        return Self.commandNames(subcommands).filter { $0.hasPrefix(word) }
    }

    /// The (sub)command `path` names; the root for an empty path.
    static func command(at path: [String]) -> ParsableCommand.Type? {
        var command: ParsableCommand.Type = Heapctl.self
        for w in path {
            guard let next = command.configuration.subcommands.first(where: { $0._commandName == w }) else {
                return nil
            }
            command = next
        }
        return command
    }

    /// The command's usage line without `heapctl` and the options every command takes:
    /// `allocate <type> [<fields> ...] [--data <data>] [--size <size>] [--finalizer]`.
    static func usage(_ command: ParsableCommand.Type) -> String {
        var usage = Heapctl.usageString(for: command).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for global in [" [--socket <socket>]", " [--session <session>]", " [--json]"] {
            usage = usage.replacingOccurrences(of: global, with: "")
        }
        return usage.hasPrefix("heapctl ") ? String(usage.dropFirst(8)) : usage
    }

    /// `--data`, `--size`, … as the usage names them.
    static func options(_ usage: String) -> [String] {
        usage.split(separator: " ").map { $0.trimmingCharacters(in: ["[", "]"]) }.filter { $0.hasPrefix("--") }
    }

    /// The positional arguments' names in order (`["type", "fields"]`); a repeated one is last.
    static func positionals(_ usage: String) -> [String] {
        var names: [String] = []
        var afterOption = false
        for token in usage.split(separator: " ") {
            let t = token.trimmingCharacters(in: ["[", "]"])
            if t.hasPrefix("-") {
                afterOption = true
            } else if t.hasPrefix("<") {
                if !afterOption { names.append(String(t.dropFirst().dropLast())) }
                afterOption = false
            } else {
                afterOption = false
            }
        }
        return names
    }

    /// How many positional arguments `args` already holds (an option's value is not one).
    static func positionalIndex(_ args: [String], _ usage: String) -> Int {
        // `[--data <data>]`: an option followed by a value name takes a value.
        let tokens = usage.split(separator: " ")
        var takesValue: Set<String> = []
        for (option, next) in zip(tokens, tokens.dropFirst()) where option.hasPrefix("[--") && next.hasPrefix("<") {
            takesValue.insert(String(option.dropFirst()))
        }
        var count = 0
        var skip = false
        for a in args {
            if skip {
                skip = false
            } else if a.hasPrefix("-") {
                skip = takesValue.contains(a)
            } else {
                count += 1
            }
        }
        return count
    }

    // MARK: The live heap

    private func variableNames(_ word: String) -> [String] {
        variables.keys.sorted().map { "$" + $0 }.filter { $0.hasPrefix(word) }
    }

    /// Ids of live objects starting with `prefix` (from `objects`, at most `idLimit`), then the
    /// variables.
    private func liveIDs(_ prefix: String) -> [String] {
        if prefix.hasPrefix("$") { return variableNames(prefix) }
        var ids: [String] = []
        var after: Int64?
        while let connection, ids.count < Self.idLimit {
            var params: [(String, JSONValue)] = [("limit", 100)]
            if let after { params.append(("after", .int(after))) }
            guard let page = try? connection.call(ObjectsRequest.name, .object(params)) else { break }
            ids += (page["objects"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue.map(String.init) }
            guard let next = page["next"]?.intValue else { break }
            after = next
        }
        return ids.filter { $0.hasPrefix(prefix) } + (prefix.isEmpty ? variableNames("$") : [])
    }

    private func fieldNames(of id: Int64) -> [String] {
        guard let object = try? connection?.call(GetRequest.name, ["id": .int(id)]) else { return [] }
        return (object["fields"]?.objectValue ?? []).map(\.0).sorted()
    }
}

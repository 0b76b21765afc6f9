import ArgumentParser

/// Object ids on the command line are positive integers. Every `<id>` argument parses through
/// `parse`; a negative one never gets there, since swift-argument-parser takes `-5` for an
/// option and reports "Missing expected argument", so `negativeIDMessage` looks before it.
enum ObjectIDArgument {
    static let rule = "object ids are positive integers"

    /// The transform of `<id>` arguments.
    static func parse(_ text: String) throws -> Int64 {
        guard let id = Int64(text), id > 0 else { throw ValidationError(rule) }
        return id
    }

    /// What to say about `args` (a command line, global options after the command) when a
    /// negative number stands where the command takes an `<id>` (`inspect -5`, `set -2 a=1`);
    /// nil otherwise, and for a negative number that is an option's value (`--depth -1`).
    static func negativeIDMessage(_ args: [String]) -> String? {
        var commands = Heapctl.configuration.subcommands
        var command: ParsableCommand.Type?
        var rest = args[...]
        while let word = rest.first,
            let next = commands.first(where: { $0._commandName == word || $0.configuration.aliases.contains(word) })
        {
            command = next
            commands = next.configuration.subcommands
            rest = rest.dropFirst()
        }
        guard let command else { return nil }
        // Without the global options, whose flags would hide the positionals that follow them.
        let usage = ShellCompleter.usage(command)
        let positionals = ShellCompleter.positionals(usage)
        var before: [String] = []
        for word in rest {
            if word == "--" { return nil }
            if word.count > 1, word.first == "-", word.dropFirst().allSatisfy(\.isASCIIDigit) {
                let index = ShellCompleter.positionalIndex(before + ["0"], usage) - 1
                // An option's value does not advance the count: then the word is not an id.
                if index == ShellCompleter.positionalIndex(before, usage), positionals.indices.contains(index),
                    positionals[index] == "id"
                {
                    return "Error: \(rule); got \(word)\nUsage: \(Heapctl.usageString(for: command))\n"
                        + "  See 'heapctl \(commandPath(command)) --help' for more information."
                }
            }
            before.append(word)
        }
        return nil
    }

    /// `snapshot diff` for the nested command.
    private static func commandPath(_ command: ParsableCommand.Type) -> String {
        let words = ShellCompleter.usage(command).split(separator: " ").prefix {
            !$0.hasPrefix("<") && !$0.hasPrefix("[")
        }
        return words.joined(separator: " ")
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

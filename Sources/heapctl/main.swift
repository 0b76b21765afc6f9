import ArgumentParser

/// `heapctl`: the command-line client of heapd.
struct Heapctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapctl",
        abstract: "Drive a heapd heap from the shell: allocate, link, ref/unref, collect, inspect.",
        discussion: """
            Every command runs in a named session (default heapctl-$USER), so consecutive commands \
            see each other's references. Exit codes: 0 success, 1 the daemon refused, 3 the daemon \
            is unreachable, 64 usage.
            """,
        subcommands: [
            Allocate.self, Ref.self, Unref.self, SetFields.self, Get.self, Weakref.self, Apply.self, Collect.self,
            Inspect.self, Stats.self, Referrers.self, Referents.self, Objects.self,
            Why.self, Cycles.self, Retained.self, Histogram.self, Root.self,
            Session.self, Scope.self, GC.self, Check.self, Ping.self, Shutdown.self, Call.self,
            Script.self, Watch.self, Tour.self, Bench.self,
        ])
}

/// Global options may come before the subcommand (`heapctl --socket S stats`): move them
/// after it, where swift-argument-parser looks for them.
func reorderedArguments(_ args: [String]) -> [String] {
    let takesValue: Set<String> = ["--socket", "--session"]
    var leading: [String] = []
    var i = 0
    while i < args.count, args[i].hasPrefix("--"), args[i] != "--help" {
        let name = String(args[i].split(separator: "=", maxSplits: 1)[0])
        guard takesValue.contains(name) || name == "--json" else { break }
        leading.append(args[i])
        if takesValue.contains(args[i]), i + 1 < args.count { leading.append(args[i + 1]); i += 1 }
        i += 1
    }
    guard !leading.isEmpty, i < args.count else { return args }
    // Insert after the subcommand path (words that do not start with "-").
    var j = i
    while j < args.count, !args[j].hasPrefix("-"), Heapctl.isSubcommandPath(Array(args[i...j])) { j += 1 }
    return Array(args[i..<j]) + leading + Array(args[j...])
}

extension Heapctl {
    /// Whether `words` name a (nested) subcommand, e.g. ["gc", "set"].
    static func isSubcommandPath(_ words: [String]) -> Bool {
        var current: [ParsableCommand.Type] = configuration.subcommands
        for w in words {
            guard let next = current.first(where: { $0._commandName == w }) else { return false }
            current = next.configuration.subcommands
        }
        return true
    }
}

Heapctl.main(reorderedArguments(Array(CommandLine.arguments.dropFirst())))

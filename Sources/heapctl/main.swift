import ArgumentParser
import Foundation
import HeapProtocol

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
        version: HeapdVersion.string,
        subcommands: [
            Allocate.self, Ref.self, Unref.self, SetFields.self, Get.self, Weakref.self, Apply.self, Collect.self,
            Inspect.self, Stats.self, Referrers.self, Referents.self, Objects.self,
            Why.self, Cycles.self, Retained.self, Histogram.self, Leaks.self, Graph.self, Snapshot.self, Export.self,
            Root.self,
            Session.self, Scope.self, GC.self, Check.self, Ping.self, Shutdown.self, Call.self,
            Script.self, Repl.self, Watch.self, Monitor.self, Top.self, Tour.self, Bench.self,
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
            guard let next = current.first(where: { $0._commandName == w || $0.configuration.aliases.contains(w) })
            else { return false }
            current = next.configuration.subcommands
        }
        return true
    }
}

/// "Did you mean …?" for a mistyped subcommand (`heapctl alocate`, `heapctl help nosuch`):
/// the closest subcommand names by edit distance, and usage's exit code 64.
func checkSubcommand(_ args: [String]) {
    guard let message = unknownCommandMessage(args) else { return }
    FileHandle.standardError.write(Data(("heapctl: " + message + "\n").utf8))
    exit(64)
}

/// What to say about `args` whose command is not one of heapctl's, or nil if it is (or if the
/// parser should answer, as for --help).
func unknownCommandMessage(_ args: [String]) -> String? {
    var rest = args[...]
    while let option = rest.first, option.hasPrefix("-") {
        // Other options (--help, --version, --generate-completion-script) are the parser's.
        guard ["--socket", "--session", "--json"].contains(option) else { return nil }
        rest = rest.dropFirst(option == "--json" ? 1 : 2)
    }
    var words = rest
    if words.first == "help" { words = words.dropFirst() }
    guard let first = words.first, !Heapctl.isSubcommandPath([first]) else { return nil }
    let names = Heapctl.configuration.subcommands.map { $0._commandName }
    let close = names.map { ($0, editDistance($0, first)) }.filter { $0.1 <= max(2, first.count / 3) }
        .sorted { $0.1 < $1.1 }.map(\.0)
    var message = "unknown command '\(first)'"
    if !close.isEmpty { message += "; did you mean \(close.prefix(3).map { "'\($0)'" }.joined(separator: " or "))?" }
    return message + "\nSee 'heapctl --help' for the commands."
}

/// Whether `args` hold no command, only --socket, --session and --json.
func onlyGlobalOptions(_ args: [String]) -> Bool {
    var rest = args[...]
    while let option = rest.first {
        if option == "--json" || option.hasPrefix("--socket=") || option.hasPrefix("--session=") {
            rest = rest.dropFirst()
        } else if option == "--socket" || option == "--session", rest.count >= 2 {
            rest = rest.dropFirst(2)
        } else {
            return false
        }
    }
    return true
}

/// Levenshtein distance (commands are short).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1...max(b.count, 1) where !b.isEmpty {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}

var commandLine = Array(CommandLine.arguments.dropFirst())
// Bare `heapctl` (global options at most) on a terminal opens the shell; in a pipe it still
// prints the help.
if onlyGlobalOptions(commandLine), isatty(0) != 0, isatty(1) != 0 { commandLine.append("repl") }
let arguments = reorderedArguments(commandLine)
checkSubcommand(arguments)
if let message = ObjectIDArgument.negativeIDMessage(arguments) {
    writeError(message)
    exit(64)
}
Heapctl.main(arguments)

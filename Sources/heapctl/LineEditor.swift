@preconcurrency import CEdit
import Foundation

/// Line editing, history and completion for the shell, through libedit's readline-compatible
/// API: it brings Tab completion with a list of the matches, history files and ~/.editrc key
/// bindings; the native editline API would need the match list drawn by hand.
final class LineEditor {
    enum Input: Equatable {
        case line(String)
        /// ctrl-C: the line was dropped.
        case interrupted
        /// ctrl-D on an empty line.
        case end
    }

    let historyPath: String?
    static let historyLimit: Int32 = 1000

    /// libedit calls C functions with no context: the shell's completer lives here meanwhile.
    nonisolated(unsafe) static var completer: ((_ before: String, _ word: String) -> ShellCompleter.Completion)?

    init(historyPath: String?) {
        self.historyPath = historyPath
        rl_readline_name = UnsafePointer(strdup("heapctl"))
        // `$p` and `field=` are whole words to complete, so `$` and `=` do not break words.
        rl_completer_word_break_characters = strdup(" \t\n\"'")
        // libedit's rl_complete reads the basic set.
        rl_basic_word_break_characters = UnsafePointer(rl_completer_word_break_characters)
        rl_attempted_completion_function = completeLine
        using_history()
        stifle_history(Self.historyLimit)
        if let historyPath {
            try? FileManager.default.createDirectory(
                atPath: (historyPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = read_history(historyPath)
        }
    }

    /// `$XDG_STATE_HOME/heapd/heapctl_history`, else `~/.local/state/heapd/heapctl_history`.
    static func defaultHistoryPath() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let state = env["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/heapd/heapctl_history" }
        guard let home = env["HOME"], !home.isEmpty else { return nil }
        return home + "/.local/state/heapd/heapctl_history"
    }

    /// Reads one line. ctrl-C only while editing drops the line; while a command runs it
    /// interrupts heapctl as it would on the command line.
    func read(prompt: String) -> Input {
        lineInterrupted = 0
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in lineInterrupted = 1 }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: the read returns and readline gives up the line
        var previous = sigaction()
        sigaction(SIGINT, &action, &previous)
        defer { sigaction(SIGINT, &previous, nil) }
        guard let line = readline(prompt) else { return lineInterrupted != 0 ? .interrupted : .end }
        defer { free(line) }
        return .line(String(cString: line))
    }

    /// Adds a line to the history and saves the history (bounded) at once, so a killed shell
    /// keeps it.
    func remember(_ line: String) {
        add_history(line)
        if let historyPath { _ = write_history(historyPath) }
    }
}

/// Set by the SIGINT handler while a line is read.
nonisolated(unsafe) private var lineInterrupted: sig_atomic_t = 0

/// The line and hint last shown, so that a second Tab does not repeat it.
nonisolated(unsafe) private var shownHint = ""

/// The candidates of the Tab being completed, handed out by `nextMatch`.
nonisolated(unsafe) private var pendingMatches: [String] = []

/// libedit's attempted-completion hook: the shell's own candidates, never file names.
private func completeLine(
    _ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32
) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    rl_attempted_completion_over = 1
    guard let completer = LineEditor.completer, let buffer = rl_line_buffer else { return nil }
    // libedit counts `start` in characters, not bytes.
    let line = String(cString: buffer)
    let before = String(String.UnicodeScalarView(line.unicodeScalars.prefix(Int(start))))
    let word = text.map { String(cString: $0) } ?? ""
    let completion = completer(before, word)
    pendingMatches = completion.candidates
    rl_completion_append_character = completion.appendSpace ? 0x20 : 0
    // The usage above the prompt, then the line drawn again under it; once per line (a second
    // Tab on the same line lists the matches instead).
    if let hint = completion.hint, shownHint != line + "\n" + hint {
        shownHint = line + "\n" + hint
        FileHandle.standardOutput.write(Data("\n\(hint)\n".utf8))
        rl_forced_update_display()
    }
    guard let text, !pendingMatches.isEmpty else { return nil }
    return rl_completion_matches(text, nextMatch)
}

/// readline's generator protocol: called with state 0, 1, 2, … until it returns NULL.
private func nextMatch(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
    let i = Int(state)
    return i < pendingMatches.count ? strdup(pendingMatches[i]) : nil
}

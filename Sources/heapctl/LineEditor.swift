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
    /// The live hint for a line (``ShellHint``), drawn after the cursor while a key is awaited.
    nonisolated(unsafe) static var hinter: ((_ line: String) -> String?)?

    init(historyPath: String?) {
        self.historyPath = historyPath
        rl_readline_name = UnsafePointer(strdup("heapctl"))
        // `$p` and `field=` are whole words to complete, so `$` and `=` do not break words.
        rl_completer_word_break_characters = strdup(" \t\n\"'")
        // libedit's rl_complete reads the basic set.
        rl_basic_word_break_characters = UnsafePointer(rl_completer_word_break_characters)
        rl_attempted_completion_function = completeLine
        // libedit inserts only what the character type locale calls printable: in the C locale
        // (no setlocale) a typed "é" vanished. Only LC_CTYPE: numbers print as before.
        if let name = setlocale(LC_CTYPE, ""), ["C", "POSIX"].contains(String(cString: name)) {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        // Before libedit initializes (using_history does): it installs its key reader then.
        if isatty(1) != 0 { rl_getc_function = readKey }
        using_history()
        if isatty(1) != 0 { rl_add_defun("heapctl-hint", showHint, hintKey) }
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
        currentPrompt = prompt
        hintDue = true
        sequence = .none
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

/// The prompt of the line being read: the hint's column counts it.
nonisolated(unsafe) private var currentPrompt = ""

/// The key bound to `showHint` (ctrl-], unbound in libedit's emacs map).
private let hintKey: Int32 = 0x1D

/// Whether the next key handed to libedit is `hintKey` (between real keys), and whether a hint
/// is on the screen now.
nonisolated(unsafe) private var hintDue = true
nonisolated(unsafe) private var hintShown = false

/// What the last real key began: libedit must get the rest of an escape sequence, a ctrl-V's
/// literal or a ctrl-X's second key before anything else, and a Tab's next key directly (a
/// second Tab lists the matches only if no command ran in between); an incremental history
/// search (ctrl-R, ctrl-S) reads keys of its own until the line ends, so no hints after it.
nonisolated(unsafe) private var sequence: KeySequence = .none

private enum KeySequence {
    case none, escape, csi, literal, prefix, completion, search

    /// The state after `key`: ESC [ params final, ESC O x, ESC x; ctrl-V x; ctrl-X x; Tab x.
    func next(_ key: UInt32) -> KeySequence {
        switch self {
        case .escape: return key == 0x5B || key == 0x4F ? .csi : .none
        case .csi: return (0x40...0x7E).contains(key) && !(key == 0x5B || key == 0x4F) ? .none : .csi
        case .literal, .prefix: return .none
        case .completion: return Self.none.next(key)
        case .search: return .search
        case .none:
            switch key {
            case 0x1B: return .escape
            case 0x16: return .literal
            case 0x18: return .prefix
            case 0x09: return .completion
            case 0x12, 0x13: return .search
            default: return .none
            }
        }
    }
}

/// libedit's key reader (`rl_getc_function`). libedit has no hint hook, and its readline layer
/// updates `rl_line_buffer`, `rl_point` and `rl_end` only before running a bound function; so
/// between two real keys (never inside a key sequence) this hands libedit `hintKey`, whose
/// function (`showHint`) sees the line as it is after the last key's redisplay and draws the
/// hint behind libedit's back; the hint is erased before the next real key goes back, so
/// libedit's picture of the screen stays true. A key is one Unicode scalar (libedit takes the
/// reader's value as a wide character); -1 at the end or on ctrl-C.
private func readKey(_ stream: UnsafeMutablePointer<FILE>?) -> Int32 {
    if hintDue && sequence == .none && LineEditor.hinter != nil {
        hintDue = false
        return hintKey
    }
    let fd = stream.map { fileno($0) } ?? 0
    defer {
        if hintShown { writeTerminal("\u{1B}[K") }
        hintShown = false
        hintDue = true
    }
    func byte() -> UInt8? {
        var b: UInt8 = 0
        while true {
            let n = read(fd, &b, 1)
            if n == 1 { return b }
            // A window resize interrupts the read too (libedit's own SIGWINCH handler): go on.
            if n < 0 && errno == EINTR && lineInterrupted == 0 { continue }
            return nil
        }
    }
    guard let first = byte() else { return -1 }
    let extra = first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : first >= 0xC0 ? 1 : 0
    var scalar = UInt32(first) & (0x7F >> UInt32(extra))
    for _ in 0..<extra {
        guard let next = byte() else { return -1 }
        scalar = scalar << 6 | UInt32(next & 0x3F)
    }
    sequence = sequence.next(scalar)
    return Int32(bitPattern: scalar)
}

/// The function bound to `hintKey` (libedit has just updated `rl_point` and `rl_end`).
private func showHint(_ count: Int32, _ key: Int32) -> Int32 {
    hintShown = drawHint()
    return 0
}

/// Draws the hint for the line dimmed after the cursor and moves the cursor back; only with
/// the cursor at the end of the line and only as much as fits before the terminal's edge (a
/// wrapped hint could not be walked back). Whether something was drawn.
private func drawHint() -> Bool {
    guard let hinter = LineEditor.hinter, let buffer = rl_line_buffer, rl_point == rl_end, rl_end > 0 else {
        return false
    }
    // Up to rl_end: what follows is not always cleared (after ctrl-U the old text is still there).
    let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(rl_end))
    let line = String(decoding: bytes, as: UTF8.self)
    guard let hint = hinter(line) else { return false }
    var size = winsize()
    let columns = ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    let used = (currentPrompt.unicodeScalars.count + line.unicodeScalars.count) % columns
    let room = columns - used - 1
    guard room >= 4 else { return false }
    let scalars = Array(hint.unicodeScalars)
    let shown = scalars.count <= room ? hint : String(String.UnicodeScalarView(scalars.prefix(room - 1))) + "…"
    let width = min(scalars.count, room)
    writeTerminal("\u{1B}[2m\(shown)\u{1B}[0m\u{1B}[\(width)D")
    return true
}

private func writeTerminal(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress!, $0.count) }
        if n <= 0 { if n < 0 && errno == EINTR { continue } else { return } }
        bytes = bytes.dropFirst(n)
    }
}

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

import ArgumentParser
import Glibc

/// A command of the interactive shell that runs until ctrl-C (`watch`, `monitor`, `top`,
/// `bench`) runs as a child heapctl in the foreground, as a shell runs a job: ctrl-C ends the
/// child and the shell goes on. (In-process, the blocking read would only end with heapctl.)
/// These commands use connections of their own anyway, so the shared session loses nothing.
enum ForegroundCommand {
    static func isForeground(_ command: ParsableCommand) -> Bool {
        command is Watch || command is Monitor || command is Bench || (command as? Top).map { !$0.once } ?? false
    }

    /// Runs `heapctl ARGUMENTS` and waits for it; its exit status, or 0 when ctrl-C stopped it.
    static func run(_ arguments: [String]) -> Int32 {
        // A handler, not SIG_IGN: ignored signals would stay ignored in the child after exec.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        sigaction(SIGINT, &action, &previous)
        defer { sigaction(SIGINT, &previous, nil) }

        let argv: [UnsafeMutablePointer<CChar>?] = (["heapctl"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/proc/self/exe", nil, nil, argv, environ) == 0 else {
            printError("cannot start heapctl: \(String(cString: strerror(errno)))")
            return 1
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        writeError("")
        return status & 0x7f == SIGINT ? 0 : 128 + (status & 0x7f)
    }
}

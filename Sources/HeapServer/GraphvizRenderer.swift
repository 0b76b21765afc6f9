import Foundation

/// Runs Graphviz's `dot` on a DOT text (`dot -Tsvg`, its stdin fed the text): a child process,
/// so never inside the heap's lock (``DeferredServerMethod``'s second half calls it). The text
/// goes in and the picture comes out on threads of their own, so a large picture cannot stall
/// on a full pipe; a `dot` that runs past `timeout` is killed.
enum GraphvizRenderer {
    static let timeout: Duration = .seconds(20)
    /// Largest picture kept; a bigger one is refused (the reply would be too big to be useful).
    static let maxOutputBytes = 64 << 20

    enum Failure: Error, Equatable {
        /// No executable `dot` on heapd's PATH.
        case missing
        case timedOut
        case failed(status: Int32, message: String)
        case tooLarge
    }

    /// The first executable `dot` on `PATH`.
    static func executable(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> URL? {
        for dir in (path ?? "").split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/dot"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }

    /// The picture `dot -T<format>` makes of `dot`.
    static func render(_ dot: String, format: String) throws(Failure) -> String {
        guard let exe = executable() else { throw .missing }
        let process = Process()
        process.executableURL = exe
        process.arguments = ["-T\(format)"]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do { try process.run() } catch { throw .failed(status: -1, message: "\(error)") }

        let group = DispatchGroup()
        let collected = Collected()
        DispatchQueue.global().async(group: group) {
            // dot may exit early (a syntax error): the write then fails, which is fine.
            try? input.fileHandleForWriting.write(contentsOf: Data(dot.utf8))
            try? input.fileHandleForWriting.close()
        }
        DispatchQueue.global().async(group: group) {
            collected.setOutput(read(output.fileHandleForReading, limit: maxOutputBytes, onOverflow: process))
        }
        DispatchQueue.global().async(group: group) {
            collected.setErrors(read(errors.fileHandleForReading, limit: 64 << 10, onOverflow: nil))
        }
        let seconds = Double(timeout.components.seconds)
        if exited.wait(timeout: .now() + seconds) == .timedOut {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            group.wait()
            throw .timedOut
        }
        group.wait()
        let (out, err) = collected.values
        guard let out else { throw .tooLarge }
        guard process.terminationStatus == 0, process.terminationReason == .exit else {
            let message = String(decoding: err ?? [], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .failed(status: process.terminationStatus, message: String(message.prefix(500)))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Everything up to end of file, or nil past `limit` bytes (the process is then killed).
    private static func read(_ handle: FileHandle, limit: Int, onOverflow: Process?) -> [UInt8]? {
        var bytes: [UInt8] = []
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return bytes }
            bytes += chunk
            if bytes.count > limit {
                if let p = onOverflow { kill(p.processIdentifier, SIGKILL) }
                while !handle.availableData.isEmpty {}
                return nil
            }
        }
    }

    /// What the reader threads hand back.
    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var output: [UInt8]?
        private var errors: [UInt8]?

        func setOutput(_ b: [UInt8]?) { lock.withLock { output = b } }
        func setErrors(_ b: [UInt8]?) { lock.withLock { errors = b } }
        var values: ([UInt8]?, [UInt8]?) { lock.withLock { (output, errors) } }
    }
}

import ArgumentParser
import Foundation
import HeapProtocol
import JSONRPC

// Pictures of the heap (SPEC §5 `graph`): the DOT text on stdout, an SVG the daemon renders, or
// a PNG rendered here (a PNG is bytes, which a JSON reply does not carry: heapctl asks for the
// DOT text and runs Graphviz's `dot -Tpng` itself).

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A Graphviz picture around an object (or of the whole heap): DOT, SVG or PNG.",
        discussion: """
            Nodes show type, id and refcount (double border: has __del__; filled: in a reference \
            cycle); grey octagons are the roots (sessions, named roots, the frozen generation, \
            gc.garbage); edges carry field names, weakrefs are dashed. Prints the DOT text unless \
            --svg or --png names a file; "N more" nodes stand for what --max-nodes left out.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The object to draw around (default: the whole heap).", transform: ObjectIDArgument.parse) var id:
        Int64?
    @Option(help: "Steps out from the object, to its referents and to its referrers.") var depth: Int = 2
    @Option(help: "Most objects and roots drawn.") var maxNodes: Int = 200
    @Option(help: "Write the SVG (rendered by the daemon's Graphviz) to this file.") var svg: String?
    @Option(help: "Write a PNG (rendered by Graphviz's dot here) to this file.") var png: String?

    func validate() throws {
        if svg != nil && png != nil { throw ValidationError("--svg and --png: choose one") }
    }

    func run() throws {
        var params: [(String, JSONValue)] = [
            ("depth", .int(Int64(depth))), ("max_nodes", .int(Int64(maxNodes))),
            ("format", .string(svg == nil ? "dot" : "svg")),
        ]
        if let id { params.append(("id", .int(id))) }
        let c = try options.connect()
        let r = try options.call(c, GraphRequest.name, .object(params))
        let text = r["text"]?.stringValue ?? ""
        let summary =
            "\(Pretty.int(r["nodes"])) nodes, \(Pretty.int(r["edges"])) edges"
            + (r["truncated"]?.boolValue == true ? " (truncated: more than --max-nodes \(maxNodes))" : "")
        if let file = svg {
            try write(Data(text.utf8), to: file)
        } else if let file = png {
            try write(try Self.renderPNG(text), to: file)
        }
        if options.json {
            output(Pretty.json(r))
        } else if let file = svg ?? png {
            output("wrote \(file): \(summary)")
        } else {
            output(text)
            if r["truncated"]?.boolValue == true { printError("note: \(summary)") }
        }
    }

    private func write(_ data: Data, to file: String) throws {
        do { try data.write(to: URL(fileURLWithPath: file), options: .atomic) } catch {
            printError("cannot write \(file): \(error.localizedDescription)")
            throw ExitCode(1)
        }
    }

    /// `dot -Tpng` of the DOT text, run here.
    static func renderPNG(_ dot: String) throws -> Data {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        guard
            let exe = path.split(separator: ":").map({ "\($0)/dot" })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            printError("Graphviz's dot is not installed (needed for --png): install graphviz, or use --svg")
            throw ExitCode(1)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["-Tpng"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Feed stdin from another thread: dot may fill the output pipe before it has read it all.
        let feeder = Thread {
            try? input.fileHandleForWriting.write(contentsOf: Data(dot.utf8))
            try? input.fileHandleForWriting.close()
        }
        feeder.start()
        let png = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            printError("dot -Tpng failed (exit status \(process.terminationStatus))")
            throw ExitCode(1)
        }
        return png
    }
}

import ArgumentParser
import Foundation
import HeapProtocol
import JSONRPC

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the heap as a V8 .heapsnapshot for Chrome DevTools' Memory panel or Node.",
        discussion: """
            The daemon writes the file itself, as the user it runs as: a relative FILE is made absolute \
            against heapctl's current directory first, and the directory must be writable by the daemon \
            (if it is not, the error says so). An existing FILE is replaced. Load it in DevTools: Memory, \
            Load profile. Node ids are 2*id+1: heapd object 7 is @15.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The .heapsnapshot file to write.") var file: String

    func run() throws {
        let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        try options.run(ExportRequest.name, ["format": "heapsnapshot", "path": .string(path)]) { r in
            "wrote \(r["path"]?.stringValue ?? path): \(TextTable.bytes(r["bytes"]?.intValue ?? 0)) "
                + "(\(Pretty.int(r["bytes"])) bytes), \(Pretty.int(r["nodes"])) nodes, \(Pretty.int(r["edges"])) edges"
        }
    }
}

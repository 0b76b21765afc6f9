import JSONRPC

/// The tour's output: narrated text, or with `json` one line per step, written once the step's
/// explanation (the lines after it) is complete.
final class TourLog {
    let json: Bool
    private var section = ""
    private var pending: [(String, JSONValue)]?
    private var explanation: [String] = []

    init(json: Bool) { self.json = json }

    func section(_ title: String) {
        finish()
        if !json { output((section.isEmpty ? "" : "\n") + "# " + title) }
        section = title
    }

    func step(
        _ python: String, _ method: String, _ params: JSONValue?, _ result: JSONValue,
        _ events: [(method: String, params: JSONValue)]
    ) {
        finish()
        guard json else {
            output(">>> \(python)")
            for n in events { output("    event: " + Watch.describe(n.method, n.params)) }
            return
        }
        let request: JSONValue = .object([("method", .string(method))] + (params.map { [("params", $0)] } ?? []))
        pending = [
            ("section", .string(section)), ("python", .string(python)), ("request", request), ("result", result),
            ("events", .array(events.map { .object([("method", .string($0.method)), ("params", $0.params)]) })),
        ]
    }

    func explain(_ line: String) {
        if json { explanation.append(line) } else { output("    " + line) }
    }

    /// Writes the step in progress (with --json).
    func finish() {
        guard let step = pending else { return }
        output(JSONCodec.encodeString(.object(step + [("explanation", .string(explanation.joined(separator: "\n")))])))
        pending = nil
        explanation = []
    }
}

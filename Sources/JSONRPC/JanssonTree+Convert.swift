import CJansson

/// Jansson tree → ``JSONValue``, without recursion.
///
/// Parsed trees are at most 2048 levels deep, but Swift frames are large enough that recursing
/// that far could exhaust a small thread stack, so the walk keeps its own stack of open containers.
extension JanssonTree {
    /// One array or object whose children are being converted.
    private struct OpenContainer {
        let node: JSONPointer
        var elements: [JSONValue] = []
        var members: [(String, JSONValue)] = []
        /// Next array index, or the object iterator of the member being converted.
        var index = 0
        var iterator: UnsafeMutableRawPointer?
        var key = ""
        var isObject: Bool { iterator != nil }
    }

    static func toValue(_ root: JSONPointer) -> JSONValue {
        var open: [OpenContainer] = []
        var next: JSONPointer? = root
        while true {
            var finished: JSONValue
            // Descend until a value is complete: a scalar or an empty container.
            let node = next!
            switch kind(node) {
            case .array where json_array_size(node) > 0:
                open.append(OpenContainer(node: node))
                next = json_array_get(node, 0)
                continue
            case .object where json_object_size(node) > 0:
                var container = OpenContainer(node: node)
                container.iterator = json_object_iter(node)
                container.key = key(container.iterator!)
                next = json_object_iter_value(container.iterator!)
                open.append(container)
                continue
            case .array: finished = .array([])
            case .object: finished = .object([])
            default: finished = scalar(node)
            }
            // Hand the finished value to its parent; close parents that are now complete.
            while true {
                guard !open.isEmpty else { return finished }
                let top = open.count - 1
                if open[top].isObject {
                    open[top].members.append((open[top].key, finished))
                    if let iterator = json_object_iter_next(open[top].node, open[top].iterator) {
                        open[top].iterator = iterator
                        open[top].key = key(iterator)
                        next = json_object_iter_value(iterator)
                        break
                    }
                    finished = .object(open.removeLast().members)
                } else {
                    open[top].elements.append(finished)
                    open[top].index += 1
                    if open[top].index < json_array_size(open[top].node) {
                        next = json_array_get(open[top].node, open[top].index)
                        break
                    }
                    finished = .array(open.removeLast().elements)
                }
            }
        }
    }
}

/// Equality written by hand because tuples (object members) cannot conform to `Equatable`.
///
/// The comparison is iterative with an explicit work list, so comparing two very deep values
/// built in Swift cannot overflow the stack. Member order matters (`{"a":1,"b":2}` is not equal to
/// `{"b":2,"a":1}`) because order is part of what this type preserves. `.raw` compares by bytes
/// and never equals a non-raw value. Doubles compare with `==`, so `.double(.nan)` is unequal to
/// itself and `.int(1)` is not equal to `.double(1)`.
extension JSONValue: Equatable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        var pending: [(JSONValue, JSONValue)] = [(lhs, rhs)]
        while let (left, right) = pending.popLast() {
            switch (left, right) {
            case (.null, .null):
                continue
            case (.bool(let a), .bool(let b)):
                if a != b { return false }
            case (.int(let a), .int(let b)):
                if a != b { return false }
            case (.double(let a), .double(let b)):
                if a != b { return false }
            case (.string(let a), .string(let b)):
                if a != b { return false }
            case (.raw(let a), .raw(let b)):
                if a != b { return false }
            case (.array(let a), .array(let b)):
                guard a.count == b.count else { return false }
                pending.append(contentsOf: zip(a, b))
            case (.object(let a), .object(let b)):
                guard a.count == b.count else { return false }
                for (memberA, memberB) in zip(a, b) {
                    guard memberA.0 == memberB.0 else { return false }
                    pending.append((memberA.1, memberB.1))
                }
            default:
                return false
            }
        }
        return true
    }
}

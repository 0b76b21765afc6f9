/// The names `snapshot.save` accepts: 1-64 characters of `A-Z a-z 0-9 . _ -`, not starting with
/// a dot, so a name is a file name as it is (no path, no hidden file, no escaping).
public enum SnapshotName {
    public static func isValid(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), name.first != "." else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }
}

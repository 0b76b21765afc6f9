import HeapCore

#if canImport(Glibc)
import Glibc
#endif

/// The snapshot file: a small header, then the heap's snapshot. Written to a temp file,
/// fsynced, renamed over the old one, and the directory fsynced, so a crash leaves either the
/// old snapshot or the new one, never a mix.
enum SnapshotFile {
    static let magic: [UInt8] = Array("HEAPDSF1".utf8)

    /// Header: magic, then the index of the first journal the snapshot does not cover.
    static func write(_ heap: Heap, firstUncoveredJournal: UInt64, in dir: DataDirectory) throws -> Int {
        let tmp = dir.snapshotTempPath
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Files.fail("cannot create", tmp) }
        var header = BinaryWriter()
        header.append(magic)
        header.u64(firstUncoveredJournal)
        var written = 0
        // Buffer small pieces; large ones (the record and field arrays) go straight through.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        func flush() throws {
            try buffer.withUnsafeBytes { try Files.writeAll(fd, $0, path: tmp) }
            written += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        do {
            buffer.append(contentsOf: header.bytes)
            try heap.writeSnapshot { piece in
                if piece.count >= 1 << 16 {
                    try flush()
                    try Files.writeAll(fd, piece, path: tmp)
                    written += piece.count
                } else {
                    buffer.append(contentsOf: piece)
                    if buffer.count >= 1 << 20 { try flush() }
                }
            }
            try flush()
            guard fsync(fd) == 0 else { throw Files.fail("cannot fsync", tmp) }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        guard rename(tmp, dir.snapshotPath) == 0 else { throw Files.fail("cannot rename", tmp) }
        Files.fsyncDirectory(dir.path)
        return written
    }

    struct Loaded {
        var heap: Heap
        var firstUncoveredJournal: UInt64
        var bytes: Int
    }

    static func read(in dir: DataDirectory, limits: HeapLimits) throws -> Loaded? {
        guard let bytes = try Files.readAll(dir.snapshotPath) else { return nil }
        return try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            guard raw.count >= 16, Array(raw.prefix(8)) == magic else {
                throw Files.Failure(description: "\(dir.snapshotPath) is not a heapd snapshot")
            }
            _ = try r.take(8)
            let first = try r.u64()
            do {
                let heap = try Heap(snapshot: &r, limits: limits)
                return Loaded(heap: heap, firstUncoveredJournal: first, bytes: raw.count)
            } catch {
                throw Files.Failure(description: "\(dir.snapshotPath): \(error)")
            }
        }
    }
}

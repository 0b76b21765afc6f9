import Foundation
import HeapCore

#if canImport(Glibc)
import Glibc
#endif

/// The snapshot file. Written to a temp file, fsynced, renamed over the old one, and the
/// directory fsynced, so a crash leaves either the old snapshot or the new one, never a mix.
///
/// Format 2: a header (`HEAPDSF2`, the index of the first journal the snapshot does not cover,
/// CRC-32C of those 16 bytes), then the heap's snapshot in sections, each `[length: u64 LE]
/// [crc32c: u32 LE][bytes]` as the heap streams them (the big arrays are sections of their own),
/// then an end mark (`HEAPDEND`, the section count, CRC-32C of those 12 bytes), so damage
/// anywhere, truncation included, is found before anything is parsed, and named by section.
/// Format 1 (`HEAPDSF1`, no checksums) is still read: refusing it would strand the heaps of
/// older versions, and the structural check of `Heap(snapshot:)` still keeps a damaged one from
/// trapping. The next compaction rewrites it in format 2.
enum SnapshotFile {
    static let magic: [UInt8] = Array("HEAPDSF2".utf8)
    static let legacyMagic: [UInt8] = Array("HEAPDSF1".utf8)
    static let endMagic: [UInt8] = Array("HEAPDEND".utf8)
    static let sectionHeaderSize = 12

    static func write(_ heap: Heap, firstUncoveredJournal: UInt64, in dir: DataDirectory) throws -> Int {
        let tmp = dir.snapshotTempPath
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Files.fail("cannot create", tmp) }
        var header = BinaryWriter()
        header.append(magic)
        header.u64(firstUncoveredJournal)
        header.u32(CRC32C.checksum(header.bytes))
        var written = 0
        var sections: UInt32 = 0
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
                var frame = BinaryWriter()
                frame.u64(UInt64(piece.count))
                frame.u32(CRC32C.checksum(piece))
                buffer.append(contentsOf: frame.bytes)
                sections += 1
                if piece.count >= 1 << 16 {
                    try flush()
                    try Files.writeAll(fd, piece, path: tmp)
                    written += piece.count
                } else {
                    buffer.append(contentsOf: piece)
                    if buffer.count >= 1 << 20 { try flush() }
                }
            }
            var end = BinaryWriter()
            end.append(endMagic)
            end.u32(sections)
            end.u32(CRC32C.checksum(end.bytes))
            buffer.append(contentsOf: end.bytes)
            try flush()
            guard fsync(fd) == 0 else { throw Files.fail("cannot fsync", tmp) }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        // The current snapshot becomes the previous one by a hard link, so that a crash at any
        // point leaves `snapshot` in place (the old one or the new one).
        unlink(dir.previousSnapshotPath)
        if link(dir.snapshotPath, dir.previousSnapshotPath) != 0 && errno != ENOENT {
            let error = Files.fail("cannot keep the previous snapshot as", dir.previousSnapshotPath)
            unlink(tmp)
            throw error
        }
        guard rename(tmp, dir.snapshotPath) == 0 else { throw Files.fail("cannot rename", tmp) }
        Files.fsyncDirectory(dir.path)
        return written
    }

    struct Loaded {
        var heap: Heap
        var firstUncoveredJournal: UInt64
        var bytes: Int
    }

    static func read(in dir: DataDirectory, limits: HeapLimits, path: String? = nil) throws -> Loaded? {
        let path = path ?? dir.snapshotPath
        guard let file = try Files.map(path) else { return nil }
        defer { withExtendedLifetime(file) {} }  // mapped until the heap has copied what it keeps
        let bytes = file.bytes
        let total = bytes.count
        func damaged(_ what: String) -> Files.Failure {
            let previous =
                path == dir.snapshotPath
                && (FileManager.default.fileExists(atPath: dir.previousSnapshotPath)
                    || FileManager.default.fileExists(atPath: dir.journalPath(0)))
            return Files.Failure(
                description: """
                    snapshot \(path) is damaged: \(what).
                    heapd will not start from it.
                    """
                        + (previous
                            ? """
                            The previous snapshot (or, before the second snapshot, none) and the journals after it
                            are kept; to start from them (nothing is lost), run:
                                heapd repair --data \(dir.path)
                            (it keeps the damaged snapshot as \(path).damaged)
                            """
                            : """
                            No previous snapshot is kept (the journals it covers were deleted when it was written),
                            so the way forward is a backup of \(dir.path); to start an empty heap instead, move
                            the snapshot and journals aside.
                            """))
        }
        let magicRead = Array(bytes.prefix(8))
        let first: UInt64
        let payload: [UnsafeRawBufferPointer]
        if magicRead == legacyMagic, total >= 16 {
            first = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
            payload = [UnsafeRawBufferPointer(rebasing: bytes[16...])]
        } else if magicRead == magic {
            guard total >= 20 else { throw damaged("its header is cut short (\(total) bytes)") }
            first = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
            let crc = bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian
            guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<16])) == crc else {
                throw damaged("its header fails its checksum")
            }
            payload = try sections(of: bytes, from: 20, damaged)
        } else {
            throw Files.Failure(description: "\(path) is not a heapd snapshot (format 1 or 2)")
        }
        var r = BinaryReader(segments: payload)
        do {
            let heap = try Heap(snapshot: &r, limits: limits, both: Heap.onTwoThreads)
            return Loaded(heap: heap, firstUncoveredJournal: first, bytes: total)
        } catch {
            throw damaged("\(error)")
        }
    }

    /// Checks every section's checksum and the end mark; returns the sections' bytes, which the
    /// heap's snapshot reads as one stream (`BinaryReader(segments:)`), where they lie.
    static func sections(
        of raw: UnsafeRawBufferPointer, from start: Int,
        _ damaged: (String) -> Files.Failure
    ) throws -> [UnsafeRawBufferPointer] {
        var offset = start
        var found: [UnsafeRawBufferPointer] = []
        let count = raw.count
        while true {
            let section = UInt32(found.count)
            guard count - offset >= 16 else { throw damaged("it ends at byte \(count), inside section \(section)") }
            if raw[offset..<offset + 8].elementsEqual(endMagic) {
                let sections = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self).littleEndian
                let crc = raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self).littleEndian
                guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 12])) == crc,
                    sections == section
                else { throw damaged("its end mark at byte \(offset) is damaged") }
                guard offset + 16 == count else {
                    throw damaged("\(count - offset - 16) bytes follow its end mark")
                }
                return found
            }
            let length = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
            let crc = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self).littleEndian
            let body = offset + sectionHeaderSize
            guard length <= UInt64(count - body) else {
                throw damaged("section \(section) at byte \(offset) announces \(length) bytes, past the end")
            }
            let end = body + Int(length)
            let bytes = UnsafeRawBufferPointer(rebasing: raw[body..<end])
            guard CRC32C.checksum(bytes) == crc else {
                throw damaged("section \(section) (bytes \(body)..<\(end)) fails its checksum")
            }
            found.append(bytes)
            offset = end
        }
    }
}

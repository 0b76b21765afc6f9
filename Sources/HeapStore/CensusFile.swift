import Foundation
import HeapCore

#if canImport(Glibc)
import Glibc
#endif

/// A saved snapshot (`snapshot.save`) on disk: `HEAPDCS1`, then the name, the time it was taken,
/// the census (type names, totals, slot stream), then CRC-32C of everything before it. Written to
/// a temp file, fsynced, renamed into place and the directory fsynced, so a crash leaves the old
/// file or the new one. A flipped bit anywhere is found by the checksum before anything is used.
enum CensusFile {
    static let magic: [UInt8] = Array("HEAPDCS1".utf8)

    static func encode(_ saved: SavedCensus) -> [UInt8] {
        var w = BinaryWriter(capacity: saved.census.slots.count + 64)
        w.append(magic)
        w.string(saved.name)
        w.u64(saved.created.bitPattern)
        w.varint(UInt64(saved.census.objects))
        w.varint(saved.census.bytes)
        w.varint(UInt64(saved.census.slotCount))
        w.varint(UInt64(saved.census.typeNames.count))
        for name in saved.census.typeNames { w.string(name) }
        w.blob(saved.census.slots)
        w.u32(CRC32C.checksum(w.bytes))
        return w.takeBytes()
    }

    /// The saved census, or what is wrong with the bytes.
    static func decode(_ bytes: [UInt8]) -> Result<SavedCensus, CensusFileProblem> {
        guard bytes.count >= magic.count + 4, Array(bytes.prefix(magic.count)) == magic else {
            return .failure(CensusFileProblem(reason: "not a heapd snapshot file"))
        }
        let body = bytes.prefix(bytes.count - 4)
        let stored = bytes.suffix(4).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard CRC32C.checksum(Array(body)) == stored else { return .failure(CensusFileProblem(reason: "checksum mismatch")) }
        return body.withUnsafeBytes { raw -> Result<SavedCensus, CensusFileProblem> in
            var r = BinaryReader(raw)
            do {
                _ = try r.take(magic.count)
                let name = try r.string()
                let created = Double(bitPattern: try r.u64())
                let objects = try r.varint()
                let total = try r.varint()
                let slotCount = try r.varint()
                let typeCount = try r.varint()
                guard typeCount <= UInt64(raw.count), objects <= slotCount, slotCount <= UInt64(UInt32.max) else {
                    return .failure(CensusFileProblem(reason: "counts out of range"))
                }
                var names: [String] = []
                for _ in 0..<typeCount { names.append(try r.string()) }
                let slots = try r.blob()
                guard r.isAtEnd else { return .failure(CensusFileProblem(reason: "data after the slots")) }
                let census = HeapCensus(
                    typeNames: names, slots: slots, slotCount: Int(slotCount), objects: Int(objects), bytes: total)
                if let problem = census.problem() { return .failure(CensusFileProblem(reason: problem)) }
                return .success(SavedCensus(name: name, created: created, census: census))
            } catch {
                return .failure(CensusFileProblem(reason: "\(error)"))
            }
        }
    }
}

struct CensusFileProblem: Error {
    let reason: String
}

/// A census under a name, with the time (seconds since 1970) it was taken.
public struct SavedCensus: Sendable {
    public let name: String
    public let created: Double
    public let census: HeapCensus

    public init(name: String, created: Double, census: HeapCensus) {
        self.name = name
        self.created = created
        self.census = census
    }
}

/// Allocation origins (`AllocationOrigins`): recorded at allocation, forgotten at death, read by
/// `inspect`, `histogram {by: "site"}` and `objects {session}`.
extension Heap {
    /// `tick`: the daemon's clock in seconds since 1970. Journaled, so replay records the same
    /// allocation times.
    public mutating func setClock(_ seconds: UInt32) { clock = seconds }

    mutating func recordOrigin(_ slot: Slot, site: String?, session: SessionID) {
        origins.record(slot, site: site, session: session, sessionName: sessions[session]?.name, time: clock)
    }

    public func origin(of id: ObjectID) throws(HeapError) -> AllocationOrigin? {
        origins.origin(of: try resolveLive(id))
    }

    /// `histogram {by: "site"}`: live objects by allocation site (nil: allocated without one),
    /// most bytes first, then by site. O(objects).
    public func siteHistogram() -> [(site: String?, count: Int, bytes: UInt64)] {
        var rows: [String?: (count: Int, bytes: UInt64)] = [:]
        for s in table.objectSlots where table.isLive(s) {
            let site = origins.site(of: s)
            rows[site, default: (0, 0)].count += 1
            rows[site, default: (0, 0)].bytes += table.size(s)
        }
        return rows.map { (site: $0.key, count: $0.value.count, bytes: $0.value.bytes) }
            .sorted { a, b in
                if a.bytes != b.bytes { return a.bytes > b.bytes }
                if a.count != b.count { return a.count > b.count }
                return (a.site ?? "") < (b.site ?? "")
            }
    }

    /// Resident bytes of the origin tables and their per-object array (4 bytes per slot).
    public var originBytes: Int { origins.byteCount }
}

/// Each weakref's referent, and per referent its weakrefs oldest first (CPython's `tp_weaklist`,
/// which is newest-callback-first: read it reversed).
///
/// The lists are doubly linked through side tables, so a weakref that dies or is cleared leaves
/// its referent's list in O(1), as `clear_weakref` unlinks in 3.11; an array per referent made
/// dropping k weakrefs to one object O(k²). Slot 0 (a list sentinel, never a weakref) means none.
struct WeakrefLists: Sendable {
    /// Weakref → its referent (absent once cleared).
    private(set) var referent: [Slot: Slot] = [:]
    private var links: [Slot: Link] = [:]
    private var ends: [Slot: Ends] = [:]

    private struct Link: Sendable {
        var older: Slot
        var newer: Slot
    }
    private struct Ends: Sendable {
        var oldest: Slot
        var newest: Slot
    }

    /// Referents that have at least one weakref.
    var referents: [Slot] { Array(ends.keys) }

    /// `w` becomes the newest weakref to `r`.
    mutating func attach(_ w: Slot, to r: Slot) {
        referent[w] = r
        if let e = ends[r] {
            links[w] = Link(older: e.newest, newer: 0)
            links[e.newest]!.newer = w
            ends[r]!.newest = w
        } else {
            links[w] = Link(older: 0, newer: 0)
            ends[r] = Ends(oldest: w, newest: w)
        }
    }

    /// `w` leaves its referent's list; returns the referent and whether it has no weakref left.
    mutating func detach(_ w: Slot) -> (referent: Slot, emptied: Bool)? {
        guard let r = referent.removeValue(forKey: w), let link = links.removeValue(forKey: w) else { return nil }
        if link.older != 0 { links[link.older]!.newer = link.newer } else { ends[r]!.oldest = link.newer }
        if link.newer != 0 { links[link.newer]!.older = link.older } else { ends[r]!.newest = link.older }
        if ends[r]!.oldest == 0 {
            ends[r] = nil
            return (r, true)
        }
        return (r, false)
    }

    /// Every weakref to `r`, oldest first, each now cleared (pointing at nothing).
    mutating func clear(_ r: Slot) -> [Slot] {
        let all = weakrefs(to: r)
        for w in all {
            referent[w] = nil
            links[w] = nil
        }
        ends[r] = nil
        return all
    }

    /// The weakrefs to `r`, oldest first.
    func weakrefs(to r: Slot) -> [Slot] {
        var out: [Slot] = []
        var w = ends[r]?.oldest ?? 0
        while w != 0 {
            out.append(w)
            w = links[w]!.newer
        }
        return out
    }

    /// From a snapshot: each referent's list oldest first, and each weakref's referent. Refused
    /// unless every listed weakref points at the referent that lists it and appears once, and
    /// every weakref with a referent is listed (a damaged file must not leave broken links).
    mutating func restore(referents pairs: [Slot: Slot], lists: [(Slot, [Slot])]) -> Bool {
        self = WeakrefLists()
        for (r, list) in lists {
            guard !list.isEmpty, ends[r] == nil else { return false }
            for w in list {
                guard w != 0, pairs[w] == r, referent[w] == nil else { return false }
                attach(w, to: r)
            }
        }
        return referent.count == pairs.count
    }
}

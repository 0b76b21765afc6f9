/// Every method heapd answers: the one list to add a method to (after writing its file in
/// `Methods/`). `rpc.discover`'s document must describe exactly these (a test checks it).
public enum HeapMethods {
    public static let all: [any HeapMethod.Type] = [
        AllocateRequest.self, RefRequest.self, UnrefRequest.self, SetRequest.self, GetRequest.self,
        WeakrefRequest.self, ApplyRequest.self, CollectRequest.self, InspectRequest.self, StatsRequest.self,
        SubscribeRequest.self, UnsubscribeRequest.self,
        RootSetRequest.self, RootGetRequest.self, RootListRequest.self,
        SessionOpenRequest.self, SessionCloseRequest.self, SessionListRequest.self,
        ScopeEnterRequest.self, ScopeExitRequest.self,
        GCGetRequest.self, GCSetRequest.self, GCFreezeRequest.self, GCUnfreezeRequest.self, GCGarbageClearRequest.self,
        ReferrersRequest.self, ReferentsRequest.self, ObjectsRequest.self,
        PathRequest.self, CyclesRequest.self, DominatorsRequest.self, HistogramRequest.self, GraphRequest.self,
        SnapshotSaveRequest.self, SnapshotListRequest.self, SnapshotDeleteRequest.self, SnapshotDiffRequest.self,
        SnapshotLeaksRequest.self, LeaksRequest.self,
        ExportRequest.self,
        CheckRequest.self, PingRequest.self, ShutdownRequest.self, DiscoverRequest.self,
    ]

    /// The method names, sorted.
    public static var names: [String] { all.map { $0.name }.sorted() }
}

/// The version of heapd's daemon, CLI and protocol (the OpenRPC document's `info.version`).
public enum HeapdVersion {
    public static let string = "0.3.0"
}

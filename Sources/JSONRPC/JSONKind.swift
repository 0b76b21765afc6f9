/// The seven JSON types as Jansson distinguishes them (integers and reals are separate).
///
/// The raw value is the word used in error messages, so decoders can say
/// `"expected integer, got string"` with `"\(expected.rawValue)"` and stay consistent.
public enum JSONKind: String, Sendable {
    case object, array, string, integer, real, bool, null
}

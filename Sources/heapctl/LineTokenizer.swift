/// Splits a shell or script line into words as a POSIX shell does (so a line reads like the
/// command line it stands for): blanks separate words, '…' keeps blanks and backslashes, "…"
/// keeps blanks and lets `\` escape `"`, `\`, `$`; outside quotes `\` escapes any character.
/// Unlike sh, `$name` expands inside single quotes too, since JSON goes there
/// (`--data '{"owner": $p}'`); `\$` outside single quotes is a literal `$`, and `$` not followed
/// by a name (apply's `"$0"`) stays as it is.
struct LineTokenizer {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case undefinedVariable(String)
        case unterminatedQuote(Character)

        var description: String {
            switch self {
            case .undefinedVariable(let name): return "undefined variable $\(name)"
            case .unterminatedQuote(let q): return "unterminated \(q) quote"
            }
        }
    }

    /// Variable values; nil means "leave `$name` as it is" (completion reads half-typed lines).
    var variables: [String: String]?

    func words(_ line: String) throws(Failure) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                var closed = false
                while let d = chars.popFirst() {
                    if d == "'" {
                        closed = true
                        break
                    }
                    if d == "$" { word += try expand(&chars) } else { word.append(d) }
                }
                guard closed else { throw .unterminatedQuote("'") }
            case "\"":
                inWord = true
                var closed = false
                while let d = chars.popFirst() {
                    if d == "\"" {
                        closed = true
                        break
                    }
                    if d == "\\", let next = chars.first, "\"\\$".contains(next) {
                        word.append(chars.removeFirst())
                    } else if d == "$" {
                        word += try expand(&chars)
                    } else {
                        word.append(d)
                    }
                }
                guard closed else { throw .unterminatedQuote("\"") }
            case "\\":
                inWord = true
                if let next = chars.popFirst() { word.append(next) }
            case "$":
                inWord = true
                word += try expand(&chars)
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// The value of the variable whose name starts `chars` (consumed), after a `$`.
    private func expand(_ chars: inout ArraySlice<Character>) throws(Failure) -> String {
        let name = String(chars.prefix { Self.isNameCharacter($0) })
        guard let first = name.first, !first.isNumber else { return "$" }
        chars = chars.dropFirst(name.count)
        guard let variables else { return "$" + name }
        guard let value = variables[name] else { throw .undefinedVariable(name) }
        return value
    }

    static func isNameCharacter(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }

    /// Whether `s` can name a variable (`p`, `node_2`).
    static func isName<S: StringProtocol>(_ s: S) -> Bool {
        guard let first = s.first, !first.isNumber else { return false }
        return s.allSatisfy(isNameCharacter)
    }
}

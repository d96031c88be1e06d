/// GPT-2's pre-tokenization: it cuts text into the pieces that byte-pair
/// merges then work within, as GPT-2's pattern does,
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// written out as a scanner over UTF-8 (no regular-expression engine): the
/// lowercase contractions; an optional space and a run of letters, of numbers,
/// or of anything else that is not white space; white space up to (not
/// including) the last white space before a non-space character, and otherwise
/// a whole run of it. Letters are Unicode's general category L, numbers N, and
/// white space the White_Space property (as Hugging Face `tokenizers` reads `\s`).
enum GPT2PreTokenizer {
    /// The classes the pattern tells apart.
    enum CharClass: UInt8 { case letter, number, space, other }

    /// ASCII's classes, by byte.
    private static let asciiClasses: [CharClass] = (0..<128).map { b in
        let s = Unicode.Scalar(UInt8(b))
        if s.properties.isWhitespace { return .space }
        if ("a"..."z").contains(s) || ("A"..."Z").contains(s) { return .letter }
        if ("0"..."9").contains(s) { return .number }
        return .other
    }

    /// The class of a scalar outside ASCII.
    static func charClass(_ scalar: Unicode.Scalar) -> CharClass {
        let p = scalar.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The class and byte length of the character starting at `i` of `text`
    /// (valid UTF-8, as every Swift string is).
    @inline(__always)
    static func character(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> (CharClass, Int) {
        let b0 = text[i]
        if b0 < 0x80 { return (asciiClasses[Int(b0)], 1) }
        let length = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
        var value = UInt32(b0 & 0x7F >> length)                      // the lead byte's payload: 5, 4 or 3 bits
        for k in 1..<length { value = value << 6 | UInt32(text[i + k] & 0x3F) }
        return (charClass(Unicode.Scalar(value) ?? "\u{FFFD}"), length)
    }

    /// Calls `piece(start, end)` for the byte range of each piece of `text`, in order.
    static func split(_ text: UnsafeBufferPointer<UInt8>, _ piece: (Int, Int) -> Void) {
        let n = text.count
        let apostrophe = UInt8(ascii: "'"), space = UInt8(ascii: " ")
        var i = 0
        while i < n {
            // 's 't 'm 'd 're 've 'll
            if text[i] == apostrophe && i + 1 < n {
                let c1 = text[i + 1]
                if c1 == UInt8(ascii: "s") || c1 == UInt8(ascii: "t") || c1 == UInt8(ascii: "m") || c1 == UInt8(ascii: "d") {
                    piece(i, i + 2); i += 2; continue
                }
                if i + 2 < n {
                    let c2 = text[i + 2]
                    if (c1 == UInt8(ascii: "r") && c2 == UInt8(ascii: "e")) || (c1 == UInt8(ascii: "v") && c2 == UInt8(ascii: "e"))
                        || (c1 == UInt8(ascii: "l") && c2 == UInt8(ascii: "l")) {
                        piece(i, i + 3); i += 3; continue
                    }
                }
            }
            // An optional space, then a run of one class: letters, numbers, or other non-space.
            var k = i
            if text[i] == space && i + 1 < n && character(text, i + 1).0 != .space { k = i + 1 }
            let (runClass, length) = character(text, k)
            if runClass != .space {
                var end = k + length
                while end < n {
                    let (c, l) = character(text, end)
                    guard c == runClass else { break }
                    end += l
                }
                piece(i, end); i = end; continue
            }
            // White space: up to the last white-space character before a non-space one
            // (`\s+(?!\S)`), or, if that leaves nothing, the whole run (`\s+`).
            var end = i, last = i
            while end < n {
                let (c, l) = character(text, end)
                guard c == .space else { break }
                last = end
                end += l
            }
            if end < n && last > i { end = last }
            piece(i, end); i = end
        }
    }
}

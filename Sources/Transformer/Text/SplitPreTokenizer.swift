/// The pre-tokenization of Llama 3 and Qwen2 (a `Split` pre-tokenizer in
/// their `tokenizer.json`), which cuts text by the pattern
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// (Qwen2's has `\p{N}` where Llama 3's has `\p{N}{1,3}`), written out as a
/// scanner over UTF-8 like ``GPT2PreTokenizer``, trying the alternatives in
/// order at each position as the regular expression does: a contraction in
/// either case; one character that is not a letter, number or line break and
/// a run of letters; up to `digits` numbers; an optional space and a run of
/// other characters with the line breaks after them; white space up to its
/// last line break; white space up to (not including) the last white space
/// before a non-space character; a whole run of white space.
struct SplitPreTokenizer: Sendable {
    /// The most numbers one piece takes: 3 (Llama 3) or 1 (Qwen2).
    let digits: Int

    /// Calls `piece(start, end)` for the byte range of each piece of `text`, in order.
    func split(_ text: UnsafeBufferPointer<UInt8>, _ piece: (Int, Int) -> Void) {
        let n = text.count
        var i = 0
        while i < n {
            let end = contraction(text, i) ?? letters(text, i) ?? numbers(text, i) ?? others(text, i) ?? spaces(text, i)
            piece(i, end)
            i = end
        }
    }

    /// A character's class, length, and whether it is a line break (CR or LF).
    private func character(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> (GPT2PreTokenizer.CharClass, Int, Bool) {
        let (c, l) = GPT2PreTokenizer.character(text, i)
        return (c, l, text[i] == 0x0A || text[i] == 0x0D)
    }

    /// The end of the run of `kind` characters from `i`.
    private func run(_ text: UnsafeBufferPointer<UInt8>, from i: Int, of kind: GPT2PreTokenizer.CharClass, limit: Int = .max) -> Int {
        var end = i, count = 0
        while end < text.count && count < limit {
            let (c, l, _) = character(text, end)
            guard c == kind else { break }
            end += l
            count += 1
        }
        return end
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)`
    private func contraction(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        guard text[i] == UInt8(ascii: "'"), i + 1 < text.count else { return nil }
        let lower = { (k: Int) -> UInt8 in k < text.count ? text[k] | 0x20 : 0 }     // ASCII letters to lowercase
        if "stmd".utf8.contains(lower(i + 1)) { return i + 2 }
        for pair in ["re", "ve", "ll"] where Array(pair.utf8) == [lower(i + 1), lower(i + 2)] { return i + 3 }
        return nil
    }

    /// `[^\r\n\p{L}\p{N}]?\p{L}+`
    private func letters(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let (c, l, lineBreak) = character(text, i)
        if c == .letter { return run(text, from: i, of: .letter) }
        guard c != .number, !lineBreak, i + l < text.count, character(text, i + l).0 == .letter else { return nil }
        return run(text, from: i + l, of: .letter)
    }

    /// `\p{N}{1,digits}`
    private func numbers(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        character(text, i).0 == .number ? run(text, from: i, of: .number, limit: digits) : nil
    }

    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    private func others(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let k = text[i] == UInt8(ascii: " ") && i + 1 < text.count ? i + 1 : i
        guard character(text, k).0 == .other else { return nil }
        var end = run(text, from: k, of: .other)
        while end < text.count && (text[end] == 0x0A || text[end] == 0x0D) { end += 1 }
        return end
    }

    /// `\s*[\r\n]+|\s+(?!\S)|\s+`, from a white-space character.
    private func spaces(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var end = i, lastBreak: Int?, last = i
        while end < text.count {
            let (c, l, lineBreak) = character(text, end)
            guard c == .space else { break }
            if lineBreak { lastBreak = end + l }
            last = end
            end += l
        }
        if let lastBreak { return lastBreak }                        // \s*[\r\n]+
        if end < text.count && last > i { return last }              // \s+(?!\S)
        return max(end, i + character(text, i).1)                   // \s+ (and any character the others left)
    }
}

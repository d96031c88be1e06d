import Foundation

/// Byte-pair encoding as GPT-2 and the Llama family use it: GPT-2's
/// `vocab.json` + `merges.txt`, or Hugging Face `tokenizers`' `tokenizer.json`
/// (see ``init(directory:)``).
///
/// Text is first cut at its added tokens (`<|endoftext|>`, `<|begin_of_text|>`,
/// …: written literally, each becomes its one id); the rest is normalised (NFC
/// for Qwen2; SentencePiece's `▁` for spaces in Llama 2's), cut into pieces by a
/// pre-tokenizer (`GPT2PreTokenizer`, `SplitPreTokenizer` for Llama 3 and
/// Qwen2, digits one by one for SmolLM2, or none), and each piece starts as one
/// symbol per byte (byte-level: the vocabulary spells bytes as printable
/// characters, see ``byteCharacters``) or per character (SentencePiece-style,
/// a character the vocabulary lacks as its bytes' `<0xXX>` tokens); adjacent
/// symbols are then merged, lowest-ranked pair first, while a merge exists.
/// Pieces seen before in the same text come from a cache.
///
/// ```swift
/// let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: "gpt2"))
/// let ids = try tokenizer.encode("Hello, world")    // [15496, 11, 995]
/// let text = try tokenizer.decode(ids)               // "Hello, world"
/// ```
public struct BPETokenizer: Tokenizer {
    /// How the vocabulary spells text.
    enum Alphabet: Sendable, Equatable {
        /// GPT-2's: every byte is a token, spelled by ``byteCharacters``.
        case bytes
        /// SentencePiece's: characters are tokens (`▁` for a space); one the
        /// vocabulary lacks is its bytes' `<0xXX>` tokens, or `unknown`.
        case characters(unknown: Int32?)
    }

    /// How text is cut into pieces before merging.
    enum Splitting: Sendable {
        /// GPT-2's pattern (`ByteLevel` with its regex).
        case gpt2
        /// Llama 3's or Qwen2's pattern.
        case split(SplitPreTokenizer)
        /// Each number alone, GPT-2's pattern between (SmolLM2).
        case digitsThenGPT2
        /// None: each stretch between added tokens is one piece (SentencePiece).
        case none
    }

    /// What is done to text before it is cut.
    enum Normalization: Sendable {
        case none
        /// Unicode's canonical composition (Qwen2).
        case nfc
        /// Spaces become `▁`, and a `▁` starts the text (`everyStretch`: every
        /// stretch between added tokens; `unlessSpace`: unless it starts with
        /// one already, as the `Metaspace` pre-tokenizer does, where the
        /// `Prepend` normaliser always adds one), as SentencePiece does.
        case metaspace(everyStretch: Bool, unlessSpace: Bool)
    }

    /// Each token's bytes, by id.
    private let tokenBytes: [[UInt8]]
    /// The token of each single byte (byte-level), or of its `<0xXX>` (SentencePiece); -1 where none.
    private let byteTokens: [Int32]
    /// SentencePiece: the token of each single character.
    private let characterTokens: [UInt32: Int32]
    /// Merges by pair: `left << 32 | right` -> `rank << 32 | merged`.
    private let merges: [UInt64: UInt64]
    /// The added tokens by their first byte, matched literally in the text, longest first at a position.
    private let added: [[(bytes: [UInt8], id: Int)]]
    /// With `ignore_merges` (Llama 3): a piece that is a token is that token, unmerged.
    private let wholePieces: [[UInt8]: Int32]?
    let alphabet: Alphabet, splitting: Splitting, normalization: Normalization

    public var vocabularySize: Int { tokenBytes.count }
    public let endOfText: Int?
    /// The token ``encode(_:)`` starts every text with, if the tokenizer's
    /// configuration asks for one (`add_bos_token`, or a post-processor adding it).
    public let beginOfText: Int?

    /// The text of GPT-2's end-of-text token.
    public static let endOfTextText = "<|endoftext|>"

    /// The printable character GPT-2's vocabulary spells each byte with: the
    /// byte itself where it is a printable Latin-1 character other than space
    /// (`!`…`~`, `¡`…`¬`, `®`…`ÿ`), otherwise U+0100 onwards, in byte order.
    public static let byteCharacters: [Unicode.Scalar] = {
        let printable = Set(Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF))
        var next = 0x100
        return (0..<256).map { b in
            if printable.contains(b) { return Unicode.Scalar(UInt8(b)) }
            defer { next += 1 }
            return Unicode.Scalar(UInt32(next))!
        }
    }()

    /// GPT-2's tokenizer from its vocabulary (token text -> id, the ids
    /// `0..<count`) and its merges in rank order (each pair's concatenation
    /// must be a token); `<|endoftext|>`, where the vocabulary has it, is its
    /// added token.
    ///
    /// - Throws: ``ModelError/invalidValue(field:reason:)`` naming the entry at fault.
    public init(vocabulary: [String: Int], merges: [(String, String)]) throws {
        let special = vocabulary[BPETokenizer.endOfTextText].map { [(BPETokenizer.endOfTextText, $0)] } ?? []
        try self.init(vocabulary: vocabulary, merges: merges, added: special, alphabet: .bytes, splitting: .gpt2, normalization: .none,
                      endOfText: special.first?.1, beginOfText: nil, ignoreMerges: false)
    }

    /// A tokenizer of any of the supported kinds (see ``init(directory:)``).
    init(vocabulary: [String: Int], merges: [(String, String)], added: [(String, Int)], alphabet: Alphabet, splitting: Splitting,
         normalization: Normalization, endOfText: Int?, beginOfText: Int?, ignoreMerges: Bool) throws {
        // Ids are dense: as many as there are distinct tokens (a hostile id of 10¹² is refused, not allocated for).
        let count = vocabulary.count + added.filter { vocabulary[$0.0] != $0.1 }.count
        var bytes = [[UInt8]?](repeating: nil, count: count)
        let characterBytes = Dictionary(uniqueKeysWithValues: BPETokenizer.byteCharacters.enumerated().map { ($1, UInt8($0)) })
        var byteTokens = [Int32](repeating: -1, count: 256), characterTokens: [UInt32: Int32] = [:]
        for (text, id) in vocabulary {
            guard bytes.indices.contains(id), bytes[id] == nil else {
                throw ModelError.invalidValue(field: "vocabulary", reason: "ids must be 0…\(count - 1), each once; \"\(text)\" has \(id)")
            }
            switch alphabet {
            case .bytes:   // a character outside the byte table (a special token's) stands for its own UTF-8
                bytes[id] = text.unicodeScalars.flatMap { characterBytes[$0].map { [$0] } ?? Array(String($0).utf8) }
            case .characters:
                if let byte = BPETokenizer.fallbackByte(text) {
                    (bytes[id], byteTokens[Int(byte)]) = ([byte], Int32(id))
                } else {
                    bytes[id] = Array(text.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
                    if text.unicodeScalars.count == 1 { characterTokens[text.unicodeScalars.first!.value] = Int32(id) }
                }
            }
        }
        for (text, id) in added {
            guard bytes.indices.contains(id) else {
                throw ModelError.invalidValue(field: "added_tokens", reason: "\"\(text)\" has id \(id), outside 0…\(count - 1) (ids must be dense)")
            }
            guard bytes[id] == nil || vocabulary[text] == id else {
                throw ModelError.invalidValue(field: "added_tokens", reason: "\"\(text)\" has id \(id), which another token has")
            }
            bytes[id] = Array(text.utf8)
        }
        if let missing = bytes.firstIndex(where: { $0 == nil }) {
            throw ModelError.invalidValue(field: "vocabulary", reason: "no token has id \(missing) (ids must be 0…\(count - 1), each once)")
        }
        let tokens = bytes.map { $0! }
        tokenBytes = tokens
        if alphabet == .bytes {
            for (b, c) in BPETokenizer.byteCharacters.enumerated() {
                guard let id = vocabulary[String(c)] else { throw ModelError.invalidValue(field: "vocabulary", reason: "byte \(b) has no token \"\(c)\"") }
                byteTokens[b] = Int32(id)
            }
        }
        self.byteTokens = byteTokens
        self.characterTokens = characterTokens
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let l = vocabulary[left], let r = vocabulary[right], let merged = vocabulary[left + right] else {
                throw ModelError.invalidValue(field: "merges[\(rank)]", reason: "\"\(left) \(right)\": the vocabulary lacks \(vocabulary[left] == nil ? left : vocabulary[right] == nil ? right : left + right)")
            }
            let key = UInt64(l) << 32 | UInt64(r)
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(merged) }   // the first (lowest) rank wins
        }
        self.merges = table
        var byFirstByte = [[(bytes: [UInt8], id: Int)]](repeating: [], count: 256)
        for (text, id) in added.sorted(by: { $0.0.utf8.count > $1.0.utf8.count }) where !text.isEmpty {
            byFirstByte[Int(text.utf8.first!)].append((Array(text.utf8), id))
        }
        self.added = byFirstByte
        // A piece is looked up as it stands in the text: a byte-level token's bytes, a SentencePiece token's own spelling (with `▁`).
        wholePieces = ignoreMerges ? Dictionary(vocabulary.map { (alphabet == .bytes ? tokens[$0.value] : Array($0.key.utf8), Int32($0.value)) },
                                                uniquingKeysWith: { a, _ in a }) : nil
        (self.alphabet, self.splitting, self.normalization) = (alphabet, splitting, normalization)
        (self.endOfText, self.beginOfText) = (endOfText, beginOfText)
    }

    /// The byte of a SentencePiece byte token, `<0x0A>`.
    private static func fallbackByte(_ text: String) -> UInt8? {
        let u = Array(text.utf8)
        guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"), u[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }

    // MARK: - Encoding

    /// The token ids of `text`, after ``beginOfText`` when there is one.
    public func encode(_ text: String) -> [Int] {
        // The stretches between added tokens, normalised, side by side in one buffer; the added tokens' ids in their places.
        let original = Array(text.utf8)
        var buffer: [UInt8] = [], items: [(range: Range<Int>, id: Int?)] = []
        var start = 0, i = 0
        func stretch(_ end: Int) {
            guard start < end else { return }
            let from = buffer.count
            normalize(original[start..<end], atStart: start == 0, into: &buffer)
            if buffer.count > from { items.append((from..<buffer.count, nil)) }
        }
        while i < original.count {
            if let token = added[Int(original[i])].first(where: { original[i...].starts(with: $0.bytes) }) {
                stretch(i)
                items.append((0..<0, token.id))
                i += token.bytes.count
                start = i
            } else {
                i += 1
            }
        }
        stretch(original.count)
        return buffer.withUnsafeBufferPointer { bytes in
            var encoder = Encoder(self, bytes)
            if let beginOfText { encoder.out.append(beginOfText) }
            for item in items {
                if let id = item.id { encoder.out.append(id) } else { encoder.encode(item.range.lowerBound, item.range.upperBound) }
            }
            return encoder.out
        }
    }

    /// Appends the normalised `stretch` of the text to `buffer`; `atStart` when it begins the text.
    private func normalize(_ stretch: ArraySlice<UInt8>, atStart: Bool, into buffer: inout [UInt8]) {
        switch normalization {
        case .none: buffer += stretch
        case .nfc: buffer += String(decoding: stretch, as: UTF8.self).precomposedStringWithCanonicalMapping.utf8
        case .metaspace(let everyStretch, let unlessSpace):
            let metaspace: [UInt8] = [0xE2, 0x96, 0x81]                     // ▁, U+2581
            if (atStart || everyStretch) && !(unlessSpace && stretch.first == UInt8(ascii: " ")) { buffer += metaspace }
            for b in stretch { if b == UInt8(ascii: " ") { buffer += metaspace } else { buffer.append(b) } }
        }
    }

    /// One text's encoding: pieces, a cache of them, and the merge workspace,
    /// reused from piece to piece so a piece allocates nothing.
    private struct Encoder {
        let tokenizer: BPETokenizer
        let text: UnsafeBufferPointer<UInt8>
        var out: [Int] = []
        /// A piece's hash -> where it was first seen and where its tokens are in `out`.
        var cache: [UInt64: (start: Int32, length: Int32, outStart: Int32, outCount: Int32)] = [:]
        var merger = Merger()

        init(_ tokenizer: BPETokenizer, _ text: UnsafeBufferPointer<UInt8>) {
            self.tokenizer = tokenizer
            self.text = text
            out.reserveCapacity(text.count / 3)
        }

        /// Encodes `text[start..<end]`.
        mutating func encode(_ start: Int, _ end: Int) {
            guard start < end else { return }
            let stretch = UnsafeBufferPointer(rebasing: text[start..<end])
            switch tokenizer.splitting {
            case .gpt2: GPT2PreTokenizer.split(stretch) { a, b in piece(start + a, start + b) }
            case .split(let pattern): pattern.split(stretch) { a, b in piece(start + a, start + b) }
            case .none: piece(start, end)
            case .digitsThenGPT2:                                    // each number alone, GPT-2's pattern between
                var i = 0, from = 0
                while i < stretch.count {
                    let (kind, length) = GPT2PreTokenizer.character(stretch, i)
                    if kind == .number {
                        if from < i { GPT2PreTokenizer.split(UnsafeBufferPointer(rebasing: stretch[from..<i])) { a, b in piece(start + from + a, start + from + b) } }
                        piece(start + i, start + i + length)
                        from = i + length
                    }
                    i += length
                }
                if from < stretch.count { GPT2PreTokenizer.split(UnsafeBufferPointer(rebasing: stretch[from...])) { a, b in piece(start + from + a, start + from + b) } }
            }
        }

        /// Appends the tokens of the piece `text[start..<end]`.
        mutating func piece(_ start: Int, _ end: Int) {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325                 // FNV-1a
            for i in start..<end { hash = (hash ^ UInt64(text[i])) &* 0x100_0000_01b3 }
            if let hit = cache[hash], Int(hit.length) == end - start,
               memcmp(text.baseAddress! + Int(hit.start), text.baseAddress! + start, end - start) == 0 {
                for j in Int(hit.outStart) ..< Int(hit.outStart + hit.outCount) { out.append(out[j]) }   // no slice: it would copy `out`
                return
            }
            let outStart = out.count
            if let whole = tokenizer.wholePieces?[Array(text[start..<end])] {
                out.append(Int(whole))
            } else {
                merger.merge(text, start, end, tokenizer, into: &out)
            }
            if cache[hash] == nil {
                cache[hash] = (Int32(start), Int32(end - start), Int32(outStart), Int32(out.count - outStart))
            }
        }
    }

    /// Byte-pair merging of one piece, lowest-ranked pair first (leftmost among
    /// equals), over a linked list of symbols and a heap of candidate pairs.
    private struct Merger {
        var symbols: [Int32] = [], previous: [Int32] = [], next: [Int32] = []
        /// Candidate merges: rank, the left symbol's position, the token they make.
        var heap: [(rank: Int32, position: Int32, merged: Int32)] = []

        mutating func merge(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ tokenizer: BPETokenizer,
                            into out: inout [Int]) {
            if end - start == 1, tokenizer.alphabet == .bytes { out.append(Int(tokenizer.byteTokens[Int(text[start])])); return }
            symbols.removeAll(keepingCapacity: true)
            previous.removeAll(keepingCapacity: true)
            next.removeAll(keepingCapacity: true)
            heap.removeAll(keepingCapacity: true)
            tokenizer.appendSymbols(text, start, end, to: &symbols)
            let n = symbols.count
            for i in 0..<n {
                previous.append(Int32(i - 1))
                next.append(i + 1 < n ? Int32(i + 1) : -1)
            }
            guard n > 0 else { return }
            for i in 0..<n - 1 { push(i, tokenizer) }
            while let top = pop() {
                let p = Int(top.position), q = Int(next[p])
                // Skip an entry a merge made stale: its left symbol was merged away, or the pair now makes another token.
                guard symbols[p] >= 0, q >= 0, tokenizer.pair(symbols[p], symbols[q])?.merged == top.merged else { continue }
                symbols[p] = top.merged
                symbols[q] = -1
                next[p] = next[q]
                if next[q] >= 0 { previous[Int(next[q])] = Int32(p) }
                if previous[p] >= 0 { push(Int(previous[p]), tokenizer) }
                push(p, tokenizer)
            }
            var i = 0
            while i >= 0 { out.append(Int(symbols[i])); i = Int(next[i]) }
        }

        /// Adds the pair starting at `p` to the heap, if it merges.
        mutating func push(_ p: Int, _ tokenizer: BPETokenizer) {
            guard next[p] >= 0, let m = tokenizer.pair(symbols[p], symbols[Int(next[p])]) else { return }
            heap.append((m.rank, Int32(p), m.merged))
            var c = heap.count - 1
            while c > 0 {
                let parent = (c - 1) / 2
                guard Merger.before(heap[c], heap[parent]) else { break }
                heap.swapAt(c, parent)
                c = parent
            }
        }

        /// Removes and returns the lowest-ranked (then leftmost) pair.
        mutating func pop() -> (rank: Int32, position: Int32, merged: Int32)? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var c = 0
                while true {
                    let l = 2 * c + 1, r = l + 1
                    var m = c
                    if l < heap.count && Merger.before(heap[l], heap[m]) { m = l }
                    if r < heap.count && Merger.before(heap[r], heap[m]) { m = r }
                    guard m != c else { break }
                    heap.swapAt(c, m)
                    c = m
                }
            }
            return top
        }

        static func before(_ a: (rank: Int32, position: Int32, merged: Int32), _ b: (rank: Int32, position: Int32, merged: Int32)) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.position < b.position
        }
    }

    /// Appends the first symbols of the piece `text[start..<end]`: a token per
    /// byte (byte-level), or per character, a character the vocabulary lacks as
    /// its bytes' `<0xXX>` tokens (or the unknown token, or nothing, when those
    /// are missing too).
    private func appendSymbols(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, to symbols: inout [Int32]) {
        guard case .characters(let unknown) = alphabet else {
            for i in start..<end { symbols.append(byteTokens[Int(text[i])]) }
            return
        }
        var i = start
        while i < end {
            let b0 = text[i], length = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
            var value = b0 < 0x80 ? UInt32(b0) : UInt32(b0 & 0x7F >> length)
            for k in 1..<length { value = value << 6 | UInt32(text[i + k] & 0x3F) }
            if let token = characterTokens[value] {
                symbols.append(token)
            } else if (i..<i + length).allSatisfy({ byteTokens[Int(text[$0])] >= 0 }) {
                for k in i..<i + length { symbols.append(byteTokens[Int(text[k])]) }
            } else if let unknown {
                symbols.append(unknown)
            }
            i += length
        }
    }

    /// The merge of `left` then `right`, if there is one.
    @inline(__always)
    private func pair(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        guard let m = merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] else { return nil }
        return (Int32(m >> 32), Int32(truncatingIfNeeded: m))
    }

    // MARK: - Decoding

    /// The text of `tokens`; a SentencePiece-style tokenizer drops the space its
    /// `▁` put before the text (bytes that are not valid UTF-8 become U+FFFD).
    public func decode(_ tokens: [Int]) throws -> String {
        var bytes: [UInt8] = []
        for t in tokens { try appendBytes(of: t, to: &bytes) }
        if alphabet != .bytes, bytes.first == UInt8(ascii: " ") { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func appendBytes(of token: Int, to bytes: inout [UInt8]) throws {
        guard tokenBytes.indices.contains(token) else {
            throw InputError.tokenOutOfRange(token: token, vocabularySize: tokenBytes.count)
        }
        bytes.append(contentsOf: tokenBytes[token])
    }
}

import Foundation

/// GPT-2's byte-level byte-pair encoding.
///
/// Text is cut into pieces by ``GPT2PreTokenizer``; each piece's UTF-8 bytes
/// start as one token each (every byte has a token: the vocabulary spells bytes
/// as printable characters, see ``byteCharacters``), and adjacent tokens are
/// merged, lowest-ranked pair first, while `merges.txt` has a merge for them.
/// Pieces seen before in the same text come from a cache. `<|endoftext|>`, where
/// the vocabulary has it, is a special token: written literally in the text,
/// it becomes that one id.
///
/// ```swift
/// let tokenizer = try GPT2Tokenizer(directory: URL(fileURLWithPath: "gpt2"))
/// let ids = try tokenizer.encode("Hello, world")    // [15496, 11, 995]
/// let text = try tokenizer.decode(ids)               // "Hello, world"
/// ```
public struct GPT2Tokenizer: Tokenizer {
    /// Each token's bytes, by id.
    private let tokenBytes: [[UInt8]]
    /// The token of each single byte.
    private let byteTokens: [Int32]
    /// Merges by pair: `left << 32 | right` -> `rank << 32 | merged`.
    private let merges: [UInt64: UInt64]
    /// `<|endoftext|>` and its id, if the vocabulary has it.
    private let special: (bytes: [UInt8], id: Int)?

    public var vocabularySize: Int { tokenBytes.count }
    public var endOfText: Int? { special?.id }

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

    /// A tokenizer from its vocabulary (token text -> id, the ids `0..<count`)
    /// and its merges in rank order (each pair's concatenation must be a token).
    ///
    /// - Throws: ``ModelError/invalidValue(field:reason:)`` naming the entry at fault.
    public init(vocabulary: [String: Int], merges: [(String, String)]) throws {
        let characterBytes = Dictionary(uniqueKeysWithValues: GPT2Tokenizer.byteCharacters.enumerated().map { ($1, UInt8($0)) })
        var bytes = [[UInt8]?](repeating: nil, count: vocabulary.count)
        for (text, id) in vocabulary {
            guard bytes.indices.contains(id), bytes[id] == nil else {
                throw ModelError.invalidValue(field: "vocabulary", reason: "ids must be 0…\(vocabulary.count - 1), each once; \"\(text)\" has \(id)")
            }
            // A character outside the byte table (a special token's) stands for its own UTF-8.
            bytes[id] = text.unicodeScalars.flatMap { characterBytes[$0].map { [$0] } ?? Array(String($0).utf8) }
        }
        tokenBytes = bytes.map { $0! }
        var byteTokens = [Int32](repeating: -1, count: 256)
        for (b, c) in GPT2Tokenizer.byteCharacters.enumerated() {
            guard let id = vocabulary[String(c)] else {
                throw ModelError.invalidValue(field: "vocabulary", reason: "byte \(b) has no token \"\(c)\"")
            }
            byteTokens[b] = Int32(id)
        }
        self.byteTokens = byteTokens
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
        special = vocabulary[GPT2Tokenizer.endOfTextText].map { (Array(GPT2Tokenizer.endOfTextText.utf8), $0) }
    }

    // MARK: - Encoding

    /// The token ids of `text`.
    public func encode(_ text: String) -> [Int] {
        var utf8 = Array(text.utf8)
        return utf8.withUnsafeMutableBufferPointer { bytes in
            var encoder = Encoder(self, UnsafeBufferPointer(bytes))
            var start = 0
            if let special {                                   // literal <|endoftext|> -> its id
                var i = 0
                while let at = bytes[i...].firstRange(of: special.bytes)?.lowerBound {
                    encoder.encode(start, at)
                    encoder.out.append(special.id)
                    i = at + special.bytes.count
                    start = i
                }
            }
            encoder.encode(start, bytes.count)
            return encoder.out
        }
    }

    /// One text's encoding: pieces, a cache of them, and the merge workspace,
    /// reused from piece to piece so a piece allocates nothing.
    private struct Encoder {
        let tokenizer: GPT2Tokenizer
        let text: UnsafeBufferPointer<UInt8>
        var out: [Int] = []
        /// A piece's hash -> where it was first seen and where its tokens are in `out`.
        var cache: [UInt64: (start: Int32, length: Int32, outStart: Int32, outCount: Int32)] = [:]
        var merger = Merger()

        init(_ tokenizer: GPT2Tokenizer, _ text: UnsafeBufferPointer<UInt8>) {
            self.tokenizer = tokenizer
            self.text = text
            out.reserveCapacity(text.count / 3)
        }

        /// Encodes `text[start..<end]`.
        mutating func encode(_ start: Int, _ end: Int) {
            guard start < end else { return }
            GPT2PreTokenizer.split(UnsafeBufferPointer(rebasing: text[start..<end])) { a, b in
                piece(start + a, start + b)
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
            merger.merge(text, start, end, tokenizer, into: &out)
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

        mutating func merge(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ tokenizer: GPT2Tokenizer,
                            into out: inout [Int]) {
            let n = end - start
            if n == 1 { out.append(Int(tokenizer.byteTokens[Int(text[start])])); return }
            symbols.removeAll(keepingCapacity: true)
            previous.removeAll(keepingCapacity: true)
            next.removeAll(keepingCapacity: true)
            heap.removeAll(keepingCapacity: true)
            for i in 0..<n {
                symbols.append(tokenizer.byteTokens[Int(text[start + i])])
                previous.append(Int32(i - 1))
                next.append(i + 1 < n ? Int32(i + 1) : -1)
            }
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
        mutating func push(_ p: Int, _ tokenizer: GPT2Tokenizer) {
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

    /// The merge of `left` then `right`, if there is one.
    @inline(__always)
    private func pair(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        guard let m = merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] else { return nil }
        return (Int32(m >> 32), Int32(truncatingIfNeeded: m))
    }

    // MARK: - Decoding

    public func appendBytes(of token: Int, to bytes: inout [UInt8]) throws {
        guard tokenBytes.indices.contains(token) else {
            throw InputError.tokenOutOfRange(token: token, vocabularySize: tokenBytes.count)
        }
        bytes.append(contentsOf: tokenBytes[token])
    }
}

extension GPT2Tokenizer {
    /// The tokenizer files of a model directory: `vocab.json` and `merges.txt`
    /// (Hugging Face's names), or `encoder.json` and `vocab.bpe` (GPT-2's).
    ///
    /// - Throws: ``CheckpointError``: `.missing` naming the files when neither
    ///   pair is there, `.malformed` naming the file and entry at fault.
    public init(directory: URL) throws {
        try checkModelDirectory(directory)
        let names = [("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")]
        guard let (vocabName, mergesName) = names.first(where: { pair in
            [pair.0, pair.1].allSatisfy { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        }) else {
            throw CheckpointError(file: directory.path, "no tokenizer: vocab.json and merges.txt (or encoder.json and vocab.bpe) are missing",
                                  kind: .missing)
        }
        let vocabURL = directory.appendingPathComponent(vocabName), mergesURL = directory.appendingPathComponent(mergesName)
        let vocabData = try readRegularFile(vocabURL, limit: 1 << 28), mergesData = try readRegularFile(mergesURL, limit: 1 << 28)
        do { try refuseRepeatedKeys(vocabData) } catch { throw CheckpointError(file: vocabURL.path, "\(error)") }
        guard let entries = (try? JSONSerialization.jsonObject(with: vocabData)) as? [String: Any] else {
            throw CheckpointError(file: vocabURL.path, "is not a JSON object of token -> id")
        }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(entries.count)
        for (token, value) in entries {
            guard let id = (value as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }) else {
                throw CheckpointError(file: vocabURL.path, "token \"\(token)\" has an id that is not an integer")
            }
            vocabulary[token] = id
        }
        var merges: [(String, String)] = []                         // LF, CRLF and CR line ends alike
        for (number, line) in String(decoding: mergesData, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: { "\n\r\r\n".contains($0) }).enumerated() {
            if line.hasPrefix("#version") || line.isEmpty { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CheckpointError(file: mergesURL.path, "line \(number + 1) is not two tokens separated by a space")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        do {
            try self.init(vocabulary: vocabulary, merges: merges)
        } catch let error as ModelError {
            throw CheckpointError(file: directory.path, "tokenizer: \(error.description)")
        }
    }
}

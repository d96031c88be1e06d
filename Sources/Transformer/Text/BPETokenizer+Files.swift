import Foundation

extension BPETokenizer {
    /// The tokenizer files of a model directory: Hugging Face `tokenizers`'
    /// `tokenizer.json` (with `tokenizer_config.json` when there is one), else
    /// `vocab.json` and `merges.txt` (Hugging Face's GPT-2 names), or
    /// `encoder.json` and `vocab.bpe` (GPT-2's).
    ///
    /// A `tokenizer.json` must hold a BPE model of one of the kinds the Llama
    /// family and GPT-2 use: byte-level with GPT-2's pattern, with Llama 3's or
    /// Qwen2's `Split` pattern, or with numbers split one by one (SmolLM2); or
    /// SentencePiece-style (`Metaspace`, or the `Prepend`/`Replace` normaliser,
    /// with byte fallback) as Llama 2 and TinyLlama. `tokenizer_config.json`'s
    /// `add_bos_token` and `bos_token` say whether ``encode(_:)`` starts with
    /// the beginning-of-text token (without it, the post-processor says), and
    /// its `eos_token` names ``endOfText``.
    ///
    /// - Throws: ``CheckpointError``: `.missing` naming the files when none is
    ///   there, `.malformed` naming the file and entry at fault, or what is not implemented.
    public init(directory: URL) throws {
        try checkModelDirectory(directory)
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path) {
            try self.init(huggingFace: directory)
            return
        }
        let names = [("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")]
        guard let (vocabName, mergesName) = names.first(where: { pair in
            [pair.0, pair.1].allSatisfy { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        }) else {
            throw CheckpointError(file: directory.path, "no tokenizer: tokenizer.json, or vocab.json and merges.txt (or encoder.json and vocab.bpe), are missing",
                                  kind: .missing)
        }
        let vocabURL = directory.appendingPathComponent(vocabName), mergesURL = directory.appendingPathComponent(mergesName)
        let vocabData = try readRegularFile(vocabURL, limit: 1 << 28), mergesData = try readRegularFile(mergesURL, limit: 1 << 28)
        do { try refuseRepeatedKeys(vocabData) } catch { throw CheckpointError(file: vocabURL.path, "\(error)") }
        guard let entries = (try? JSONSerialization.jsonObject(with: vocabData)) as? [String: Any] else {
            throw CheckpointError(file: vocabURL.path, "is not a JSON object of token -> id")
        }
        let vocabulary = try tokenIds(entries) { CheckpointError(file: vocabURL.path, "token \"\($0)\" has an id that is not a non-negative integer") }
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

/// A JSON number that is a non-negative integer, as an `Int`.
private func nonNegativeInteger(_ value: Any?) -> Int? {
    (value as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }.flatMap { $0 >= 0 ? $0 : nil }
}

/// A JSON object of token -> id as a dictionary; `bad` makes the error for a
/// token whose id is not a non-negative integer.
private func tokenIds(_ entries: [String: Any], bad: (String) -> CheckpointError) throws -> [String: Int] {
    var ids: [String: Int] = [:]
    ids.reserveCapacity(entries.count)
    for (token, value) in entries {
        guard let id = nonNegativeInteger(value) else { throw bad(token) }
        ids[token] = id
    }
    return ids
}

/// Llama 3's and Qwen2's pre-tokenization patterns, as their `tokenizer.json` spells them.
private let splitPatterns = [
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: 3,
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: 1,
]

extension BPETokenizer {
    /// Reads `tokenizer.json` (and `tokenizer_config.json`, if any) in `directory`.
    private init(huggingFace directory: URL) throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        let data = try readRegularFile(url, limit: 1 << 28)
        func fail(_ reason: String) -> CheckpointError { CheckpointError(file: url.path, reason) }
        do { try refuseRepeatedKeys(data) } catch { throw fail("\(error)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let model = root["model"] as? [String: Any] else { throw fail("is not a JSON object with a \"model\" object") }
        guard model["type"] as? String == "BPE" else { throw fail("model.type \(model["type"] ?? "missing") is not implemented (BPE is)") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] where !((model[key] as? String) ?? "").isEmpty {
            throw fail("model.\(key) is not implemented")
        }
        guard let entries = model["vocab"] as? [String: Any] else { throw fail("model.vocab is not an object of token -> id") }
        let vocabulary = try tokenIds(entries) { fail("model.vocab: token \"\($0)\" has an id that is not a non-negative integer") }
        var merges: [(String, String)] = []                          // "a b", or ["a", "b"]
        for (i, entry) in ((model["merges"] as? [Any]) ?? []).enumerated() {
            let parts = (entry as? String).map { $0.split(separator: " ", omittingEmptySubsequences: false).map(String.init) } ?? (entry as? [String])
            guard let parts, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw fail("model.merges[\(i)] is not two tokens") }
            merges.append((parts[0], parts[1]))
        }
        var added: [(String, Int)] = []
        for (i, entry) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let content = entry["content"] as? String, let id = nonNegativeInteger(entry["id"]) else {
                throw fail("added_tokens[\(i)] needs a content string and a non-negative integer id")
            }
            added.append((content, id))
        }
        let (alphabet, splitting, normalization) = try BPETokenizer.kind(root, model: model, vocabulary: vocabulary, fail: fail)
        let config = try TokenizerConfig(directory)
        func id(_ token: String?) throws -> Int? {
            guard let token else { return nil }
            guard let id = vocabulary[token] ?? added.first(where: { $0.0 == token })?.1 else {
                throw CheckpointError(file: directory.appendingPathComponent("tokenizer_config.json").path, "\"\(token)\" is not a token")
            }
            return id
        }
        let template = BPETokenizer.templateStart(root)
        let beginOfText = try config.addsBeginOfText ?? (template != nil) ? id(config.beginOfText ?? template) : nil
        let endOfText = try id(config.endOfText) ?? vocabulary[BPETokenizer.endOfTextText]
        do {
            try self.init(vocabulary: vocabulary, merges: merges, added: added, alphabet: alphabet, splitting: splitting, normalization: normalization,
                          endOfText: endOfText, beginOfText: beginOfText, ignoreMerges: model["ignore_merges"] as? Bool ?? false)
        } catch let error as ModelError {
            throw fail(error.description)
        }
    }

    /// The special token a `TemplateProcessing` post-processor starts a single text with, if any.
    private static func templateStart(_ root: [String: Any]) -> String? {
        let processors = (root["post_processor"] as? [String: Any]).map { p in p["type"] as? String == "Sequence" ? (p["processors"] as? [[String: Any]] ?? []) : [p] } ?? []
        for p in processors where p["type"] as? String == "TemplateProcessing" {
            let first = (p["single"] as? [[String: Any]])?.first
            if let special = first?["SpecialToken"] as? [String: Any] { return special["id"] as? String }
        }
        return nil
    }

    /// The alphabet, splitting and normalisation a `tokenizer.json` describes,
    /// or an error naming what is not implemented.
    private static func kind(_ root: [String: Any], model: [String: Any], vocabulary: [String: Int],
                             fail: (String) -> CheckpointError) throws -> (Alphabet, Splitting, Normalization) {
        func steps(_ key: String, _ list: String) -> [[String: Any]] {
            guard let step = root[key] as? [String: Any] else { return [] }
            return step["type"] as? String == "Sequence" ? (step[list] as? [[String: Any]] ?? []) : [step]
        }
        let pre = steps("pre_tokenizer", "pretokenizers"), normalizers = steps("normalizer", "normalizers")
        let types = pre.map { $0["type"] as? String ?? "?" }, normalizerTypes = normalizers.map { $0["type"] as? String ?? "?" }
        if let byteLevel = pre.last, types.last == "ByteLevel" {
            guard byteLevel["add_prefix_space"] as? Bool != true else { throw fail("pre_tokenizer: ByteLevel's add_prefix_space is not implemented") }
            guard normalizerTypes.isEmpty || normalizerTypes == ["NFC"] else { throw fail("normalizer \(normalizerTypes) is not implemented (none or NFC is)") }
            let normalization: Normalization = normalizerTypes.isEmpty ? .none : .nfc
            let regex = byteLevel["use_regex"] as? Bool ?? true
            switch (types.count, regex) {
            case (1, true): return (.bytes, .gpt2, normalization)
            case (2, false) where types[0] == "Split":
                let pattern = (pre[0]["pattern"] as? [String: Any])?["Regex"] as? String ?? ""
                guard let digits = splitPatterns[pattern], pre[0]["behavior"] as? String == "Isolated", pre[0]["invert"] as? Bool != true else {
                    throw fail("pre_tokenizer: this Split pattern is not implemented (Llama 3's and Qwen2's patterns are)")
                }
                return (.bytes, .split(SplitPreTokenizer(digits: digits)), normalization)
            case (2, true) where types[0] == "Digits" && pre[0]["individual_digits"] as? Bool == true:
                return (.bytes, .digitsThenGPT2, normalization)
            default: throw fail("pre_tokenizer \(types) is not implemented")
            }
        }
        let unknown = (model["unk_token"] as? String).flatMap { vocabulary[$0] }.map(Int32.init)
        if types == ["Metaspace"], normalizerTypes.isEmpty {
            let scheme = pre[0]["prepend_scheme"] as? String ?? ((pre[0]["add_prefix_space"] as? Bool ?? true) ? "always" : "never")
            guard pre[0]["replacement"] as? String == "\u{2581}", pre[0]["split"] as? Bool == false, scheme != "never" else {
                throw fail("pre_tokenizer: Metaspace other than replacement ▁, split false and prepend_scheme first or always is not implemented")
            }
            return (.characters(unknown: unknown), .none, .metaspace(everyStretch: scheme == "always", unlessSpace: true))
        }
        if types.isEmpty, normalizerTypes == ["Prepend", "Replace"], normalizers[0]["prepend"] as? String == "\u{2581}",
           (normalizers[1]["pattern"] as? [String: Any])?["String"] as? String == " ", normalizers[1]["content"] as? String == "\u{2581}" {
            return (.characters(unknown: unknown), .none, .metaspace(everyStretch: true, unlessSpace: false))
        }
        throw fail("pre_tokenizer \(types) with normalizer \(normalizerTypes) is not implemented")
    }
}

/// What `tokenizer_config.json` says about the special tokens, when the directory has one.
private struct TokenizerConfig {
    var addsBeginOfText: Bool?, beginOfText: String?, endOfText: String?

    init(_ directory: URL) throws {
        let url = directory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let data = try readRegularFile(url, limit: 64 << 20)
        do { try refuseRepeatedKeys(data) } catch { throw CheckpointError(file: url.path, "\(error)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError(file: url.path, "is not a JSON object")
        }
        func token(_ key: String) -> String? { root[key] as? String ?? (root[key] as? [String: Any])?["content"] as? String }
        (addsBeginOfText, beginOfText, endOfText) = (root["add_bos_token"] as? Bool, token("bos_token"), token("eos_token"))
    }
}

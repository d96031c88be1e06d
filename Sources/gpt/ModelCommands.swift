import CommandSupport
import ArgumentParser
import Foundation
import SwiftAttention

/// Seconds elapsed while running `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// `--model DIR`, loaded with its timing.
struct ModelOptions: ParsableArguments {
    @Option(help: """
        A Hugging Face model directory of GPT-2 or of the Llama family (model_type llama, qwen2 or mistral): \
        config.json + model.safetensors, or the shards model.safetensors.index.json lists.
        """)
    var model: String

    @OptionGroup var precision: PrecisionOptions

    func load() throws -> (GPT, seconds: Double) {
        try timed { try precision.load(model) }
    }
}

/// `--dtype float32|float64` and `--weights …`: what a model computes in and how it keeps its weights.
struct PrecisionOptions: ParsableArguments {
    @Option(help: """
        What the model computes in: float64 (default; Double weights, activations and KV cache, agreeing \
        with a float64 reference to 1e-9) or float32 (Float throughout: about half the memory and faster \
        prompts and decoding; logits agree with a float64 reference to 1e-4 of the largest).
        """)
    var dtype: DType = .float64

    @Option(help: """
        How weight matrices are kept in memory. With --dtype float64: both (default: Double for the prompt's \
        matrix products, plus a Float copy for decoding's matrix-vector products wherever that is lossless, as \
        for every F32/F16/BF16 checkpoint; embeddings as Float only), float32 (Float alone where lossless: least \
        memory, slower prompts) or float64 (Double alone); the arithmetic is Double either way. \
        With --dtype float32: float32 (default), bf16 (bfloat16, 2 bytes per weight: exact for BF16 checkpoints, \
        others rounded) or int8 (8-bit with a Float scale per block of 32, as llama.cpp's Q8_0: 1.125 bytes \
        per weight, decoding about three times as fast as float32); GPT-2's position embeddings, norms and \
        biases stay wider.
        """)
    var weights: WeightMatrix.Precision?

    func validate() throws {
        guard let weights else { return }
        if dtype == .float32, !weights.isNarrow, weights != .float32 {
            throw ValidationError("--weights \(weights.rawValue) keeps Double weights, which --dtype float32 does not use: drop --weights, or use float32, bf16 or int8")
        }
        if dtype == .float64, weights.isNarrow {
            throw ValidationError("--weights \(weights.argument) is for a model computing in float32: add --dtype float32")
        }
    }

    /// The model in `directory`, in this precision.
    func load(_ directory: String) throws -> GPT {
        try GPT(directory: URL(fileURLWithPath: directory), weights: weights ?? .both, dtype: dtype)
    }

    /// `model` (already in memory) in this precision.
    func convert(_ model: GPT) -> GPT {
        let converted = model.converted(to: dtype)
        return weights.map { converted.storingWeights($0) } ?? converted
    }
}

/// Where a command's tokens come from: `--tokens` ids or `--prompt` text.
struct InputOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Comma-separated token ids, e.g. 15496,11,995.")
    var tokens: String?
    @Option(help: """
        Text, tokenized with the model directory's tokenizer (tokenizer.json, or vocab.json + merges.txt, or encoder.json + vocab.bpe); - reads it from standard input.
        """)
    var prompt: String?

    /// Throws unless exactly one of `--tokens` and `--prompt` is given.
    func requireOne() throws {
        guard (tokens == nil) != (prompt == nil) else { throw ValidationError("give exactly one of --tokens IDS and --prompt TEXT") }
    }

    /// The prompt's text (standard input for `-`), if the input is text.
    func text() throws -> String? {
        try prompt.map(textArgument)
    }

    /// The token ids: parsed from `--tokens`, or `text` encoded by the tokenizer.
    func ids(text: String?, tokenizer: () throws -> BPETokenizer) throws -> [Int] {
        if let text {
            let ids = try tokenizer().encode(text)
            if ids.isEmpty { throw InputError.empty }
            return ids
        }
        return try parseTokens(tokens ?? "")
    }
}

/// A text argument as given, or standard input for `-` (which must be readable UTF-8).
func textArgument(_ argument: String) throws -> String {
    argument == "-" ? try Console.readStandardInput() : argument
}

/// The tokenizer of the model directory `path`.
func loadTokenizer(_ path: String) throws -> BPETokenizer {
    try BPETokenizer(directory: URL(fileURLWithPath: path))
}

/// Throws unless `tokenizer` fits a model of `config` (so every id one produces,
/// the other knows): exactly its vocabulary size, or, for the Llama family, whose
/// checkpoints pad the vocabulary (Qwen2's), at most that (`generate` then
/// samples only the tokenizer's ids).
func checkTokenizer(_ tokenizer: BPETokenizer?, fits config: GPTConfig, in path: String) throws {
    guard let tokenizer else { return }
    let n = tokenizer.vocabularySize, padded = config.modelType.isLlamaFamily
    if n == config.nVocab || (padded && n < config.nVocab) { return }
    throw CheckpointError(file: path, "the tokenizer has \(n) tokens but the model \(config.nVocab)\(padded ? " (at most that many fit)" : ""): they do not belong together")
}

/// The vocabulary `tokenize` and `detokenize` hold ids to, as `generate` does: the
/// model's (`config.json`, which the tokenizer must match) when the directory has
/// one, else the tokenizer's own.
func vocabularySize(of tokenizer: BPETokenizer, in path: String) throws -> Int {
    let configURL = URL(fileURLWithPath: path).appendingPathComponent("config.json")
    guard FileManager.default.fileExists(atPath: configURL.path) else { return tokenizer.vocabularySize }
    let config = try GPTConfig(file: configURL)
    try checkTokenizer(tokenizer, fits: config, in: path)
    return config.nVocab
}

/// Parses `15496,11,995` into token ids.
func parseTokens(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    if parts.allSatisfy(\.isEmpty) { throw InputError.empty }
    return try parts.map { part in
        guard let id = Int(part) else {
            throw ValidationError("--tokens: '\(part.escapingControlCharacters)' is not a token id (expected comma-separated integers)")
        }
        return id
    }
}

/// The most memory this process has held resident so far, in bytes: `VmHWM` of
/// `/proc/self/status` (this program's own peak). `getrusage`'s `ru_maxrss` is
/// not used: a process started by `posix_spawn` (a `vfork`) inherits its
/// parent's peak through `exec`, so a small `gpt` started by a large program
/// reported that program's peak.
func peakResidentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
    let kilobytes = line.flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") }
    return (kilobytes ?? 0) * 1024
}

/// The weight matrices by storage (in `WeightMatrix.Precision`'s order): how
/// many and their bytes; and the vectors' (norms', biases') bytes.
func storageTally(_ gpt: GPT) -> (matrices: [(storage: WeightMatrix.Precision, count: Int, bytes: Int)], vectorBytes: Int) {
    let parameters = gpt.parameters, matrices = parameters.filter { $0.shape.count == 2 }
    let tally = WeightMatrix.Precision.allCases.compactMap { storage -> (WeightMatrix.Precision, Int, Int)? in
        let held = matrices.filter { $0.storage == storage }
        return held.isEmpty ? nil : (storage, held.count, held.reduce(0) { $0 + $1.byteCount })
    }
    return (tally, parameters.filter { $0.shape.count == 1 }.reduce(0) { $0 + $1.byteCount })
}

/// The matrices' storages in a few words: `8 both, 2 float32`.
func storageCounts(_ gpt: GPT) -> String {
    storageTally(gpt).matrices.map { "\($0.count) \($0.storage.argument)" }.joined(separator: ", ")
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print a checkpoint's configuration, parameter count and weight size.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var options: RunOptions

    func run() throws {
        options.apply()
        let (gpt, seconds) = try model.load()
        let c = gpt.config, params = gpt.parameterCount, tally = storageTally(gpt)
        let floatMatrices = tally.matrices.filter { $0.storage == .float32 || $0.storage == .both }.reduce(0) { $0 + $1.count }
        let directory = URL(fileURLWithPath: model.model)
        let fileBytes = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".safetensors") }
            .reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent($1).path)[.size] as? Int) ?? 0) }
        if options.json {
            try Console.print(JSON.object([
                ("model_type", .string(c.modelType.rawValue)),
                ("n_layer", .int(c.nLayer)), ("n_head", .int(c.nHead)), ("n_kv_head", .int(c.keyValueHeads)), ("head_dim", .int(c.headSize)),
                ("n_embd", .int(c.nEmbd)), ("n_inner", .int(c.hiddenSize)),
                ("n_ctx", .int(c.nCtx)), ("n_vocab", .int(c.nVocab)), ("layer_norm_epsilon", .number(c.layerNormEpsilon)),
                ("tied_head", .bool(c.tiedHead)),
                ("parameters", .int(params)), ("weight_bytes", .int(params * 8)), ("file_bytes", .int(fileBytes)),
                ("dtype", .string(gpt.dtype.rawValue)),
                ("stored_bytes", .int(gpt.byteCount)), ("float32_matrices", .int(floatMatrices)),
                ("matrices", .int(tally.matrices.reduce(0) { $0 + $1.count })),
                ("storage", .object(tally.matrices.map { ($0.storage.argument, .object([("matrices", .int($0.count)), ("bytes", .int($0.bytes))])) }
                    + [("vectors", .object([("bytes", .int(tally.vectorBytes))]))])),
                ("load_seconds", .number(seconds)),
                ("backend", .string(options.backend.rawValue)), ("threads", .int(LinearAlgebra.threadCount)),
                ("openblas_kernels", .string(OpenBLASKernels.name)),
                ("int8_kernel", .string(NarrowGEMV.int8Kernel.rawValue)),
            ]).text)
            return
        }
        let int8 = tally.matrices.contains { $0.storage == .int8 }
        try Console.print("""
            model       \(model.model)
            type        \(c.modelType.rawValue)\(c.modelType.isLlamaFamily ? String(format: " (rope θ %g%@, %@ head)", c.ropeTheta, c.ropeScaling == nil ? "" : ", llama3 scaling", c.tiedHead ? "tied" : "untied") : "")
            layers      \(c.nLayer)
            heads       \(c.nHead)\(c.keyValueHeads == c.nHead ? "" : " sharing \(c.keyValueHeads) key/value heads"), each of width \(c.headSize)
            width       \(c.nEmbd); MLP \(c.hiddenSize)
            context     \(c.nCtx)
            vocabulary  \(c.nVocab)
            epsilon     \(c.layerNormEpsilon)
            parameters  \(params) (\(String(format: "%.1f", Double(params) / 1e6)) M)
            dtype       \(gpt.dtype.rawValue)
            weights     \(params * 8) bytes as Double (\(String(format: "%.2f", Double(params * 8) / 1e9)) GB); file \(fileBytes) bytes
            stored      \(gpt.byteCount) bytes (\(String(format: "%.2f", Double(gpt.byteCount) / 1e9)) GB): \(tally.matrices.map { "\($0.count) \($0.storage.argument) matri\($0.count == 1 ? "x" : "ces") \($0.bytes) bytes" }.joined(separator: ", ")); vectors \(tally.vectorBytes) bytes
            loaded in   \(String(format: "%.2f", seconds)) s
            backend     \(options.backend.rawValue), \(LinearAlgebra.threadCount) threads; OpenBLAS kernels \(OpenBLASKernels.summary)
            """ + (int8 ? "\nint8        \(NarrowGEMV.int8Kernel == .vnni ? "products" : "products of up to \(WeightMatrix.rowwiseLimit) rows") by \(NarrowGEMV.int8Kernel.rawValue), activations quantized per block of 32" : ""))
    }
}

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "Print the next-token logits at every position of a token sequence or a text.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "In text output, how many of the largest logits to show per position, 1…1000.")
    var top: Int = 5
    @OptionGroup var options: RunOptions

    func validate() throws {
        try input.requireOne()
        try check(top, in: 1...1000, "--top")
    }

    func run() throws {
        options.apply()
        let text = try input.text()
        let tokenizer = text == nil ? nil : try loadTokenizer(model.model)
        let ids = try input.ids(text: text) { tokenizer! }
        let (gpt, _) = try model.load()
        try checkTokenizer(tokenizer, fits: gpt.config, in: model.model)
        let logits = try gpt(ids, backend: options.backend)                    // [n, n_vocab]
        if options.json {
            try Console.print(JSON.logits(tokens: ids, logits).text)
            return
        }
        let k = min(top, gpt.config.nVocab)
        /// A token as text, for the table (ids only without a tokenizer).
        func label(_ id: Int) -> String {
            guard let tokenizer, let t = try? tokenizer.decode([id]) else { return String(id) }
            return "\(id) \(t.debugDescription)"
        }
        let rows = (0..<logits.rows).map { i -> [String] in
            let row = logits[row: i]
            let best = Ranking.top(k, of: row)
            return [String(i), label(ids[i]), best.map { "\(label($0)):\(String(format: "%.4f", row[$0]))" }.joined(separator: " ")]
        }
        try Console.print(Table(header: ["pos", "token", "top \(k) next (token:logit)"], rows: rows).text)
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a text or a token sequence with a KV cache, printing what comes as it comes.",
        discussion: """
            With --prompt, prints the prompt and then the continuation as text, each character as soon as its last byte is generated; with --tokens, each new token id. Generation stops at the end-of-text token (<|endoftext|>, or the eos_token of tokenizer_config.json, where the model directory's tokenizer has one) unless --ignore-eos. Timings (load, prefill and decode tokens/s) go to stderr at the end. The model sees the last n_ctx tokens: past that, each new token re-runs the window (a note on stderr says so).
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var input: InputOptions
    @Option(parsing: .unconditional, help: "How many tokens to generate, 0…\(GenerateCommand.maxNewTokens).")
    var maxNewTokens: Int = 20
    @Option(parsing: .unconditional, help: "Sampling temperature, 0…100; 0 is greedy.")
    var temperature: Double = 0
    @Option(parsing: .unconditional, help: "Sample only among the K most likely tokens (K ≥ 1).")
    var topK: Int?
    @Option(parsing: .unconditional, help: "Sample only among the most likely tokens up to this cumulative probability, in (0, 1].")
    var topP: Double?
    @Option(parsing: .unconditional, help: "Seed for sampling, 0…\(UInt64.max) (the same seed gives the same tokens).")
    var seed: UInt64 = 0
    @Flag(help: "Keep generating past the end-of-text token.")
    var ignoreEos = false
    @OptionGroup var options: RunOptions

    /// The most tokens one run generates.
    static let maxNewTokens = 1_000_000

    func validate() throws {
        try input.requireOne()
        try check(maxNewTokens, in: 0...GenerateCommand.maxNewTokens, "--max-new-tokens")
        try check(temperature, in: 0...100, "--temperature")
        if let topK { try check(topK, in: 1...Int(Int32.max), "--top-k") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
    }

    func run() throws {
        options.apply()
        let text = try input.text()
        // With --tokens the tokenizer is optional (it only says where <|endoftext|> is).
        let tokenizer: BPETokenizer?
        do {
            tokenizer = try loadTokenizer(model.model)
        } catch let error as CheckpointError where error.kind == .missing && text == nil {
            tokenizer = nil
        }
        let prompt = try input.ids(text: text) { tokenizer! }
        var sampler = try Sampler(temperature: temperature, topK: topK, topP: topP)
        let (gpt, loadSeconds) = try model.load()
        try checkTokenizer(tokenizer, fits: gpt.config, in: model.model)
        if let tokenizer, tokenizer.vocabularySize < gpt.config.nVocab {     // a padded vocabulary: only the tokenizer's ids
            sampler = sampler.choosing(amongFirst: tokenizer.vocabularySize)
        }
        let json = options.json
        let stop = ignoreEos ? [] : Set([tokenizer?.endOfText].compactMap { $0 })
        var stream = tokenizer?.textStream()
        if let text, !json { try Console.print(text, terminator: "") }
        let result = try gpt.generate(prompt, maxNewTokens: maxNewTokens, sampler: sampler, seed: seed, backend: options.backend,
                                      stopTokens: stop) { token in
            guard !json else { return }
            if text != nil {
                if !stop.contains(token), let piece = try stream?.append(token) { try Console.print(piece, terminator: "") }
            } else {
                try Console.print("\(token) ", terminator: "")
            }
        }
        let completionTokens = Array(result.newTokens.prefix { !stop.contains($0) })
        let c = gpt.config, positions = min(prompt.count + maxNewTokens, c.nCtx)
        let cacheBytes = 2 * c.nLayer * positions * c.keyValueHeads * c.headSize * gpt.dtype.size
        if json {
            var fields: [(String, JSON)] = [("tokens", .ints(result.tokens)), ("new_tokens", .ints(result.newTokens))]
            if let text, let tokenizer {
                let completion = try tokenizer.decode(completionTokens)
                fields += [("text", .string(text + completion)), ("completion", .string(completion))]
            }
            fields += [("load_seconds", .number(loadSeconds)), ("prefill_seconds", .number(result.prefillSeconds)),
                       ("decode_seconds", .number(result.decodeSeconds)),
                       ("weights_bytes", .int(gpt.byteCount)), ("kv_cache_bytes", .int(cacheBytes)), ("peak_rss_bytes", .int(peakResidentBytes()))]
            try Console.print(JSON.object(fields).text)
        } else {
            try Console.print(stream?.finish() ?? "")
        }
        if completionTokens.count < result.newTokens.count {
            Console.note("gpt: note: stopped at the end-of-text token after \(result.newTokens.count) tokens (--ignore-eos goes on)")
        }
        if prompt.count > gpt.config.nCtx || result.windowRecomputations > 0 {
            Console.note("gpt: note: the text outgrew the model's context of \(gpt.config.nCtx) tokens: the model saw only the last \(gpt.config.nCtx), and \(result.windowRecomputations) steps re-ran them from scratch")
        }
        let decoded = max(result.newTokens.count - 1, 0), seen = min(prompt.count, gpt.config.nCtx)
        let stats = String(format: "load %.2f s · prefill %d tokens in %.3f s (%.1f tokens/s) · decode %d tokens in %.3f s (%.1f tokens/s) · backend %@, %d threads, dtype %@, weights %@ (matrices: %@) · peak RSS %.0f MB",
                           loadSeconds, seen, result.prefillSeconds, Double(seen) / max(result.prefillSeconds, 1e-9),
                           decoded, result.decodeSeconds, Double(decoded) / max(result.decodeSeconds, 1e-9),
                           options.backend.rawValue, LinearAlgebra.threadCount, gpt.dtype.rawValue,
                           (model.precision.weights ?? (gpt.dtype == .float32 ? .float32 : .both)).argument, storageCounts(gpt),
                           Double(peakResidentBytes()) / 1e6)
        var kernels = ""
        if options.backend == .blas {
            let unused = OpenBLASKernels.unusedAVX512Hint == nil ? "" : " (OPENBLAS_CORETYPE leaves AVX-512 unused: see gpt info)"
            kernels = " · OpenBLAS kernels \(OpenBLASKernels.name)\(unused)"
        }
        Console.note(stats + kernels)
    }
}

/// `gpt tokenize`: text to ids.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print the token ids of a text, comma-separated (as --tokens takes them).")

    @Option(help: "A model directory with tokenizer.json, or vocab.json + merges.txt (or encoder.json + vocab.bpe).")
    var model: String
    @Argument(help: "The text; - reads it from standard input.")
    var text: String
    @Flag(help: "Print {\"tokens\": [...]}.")
    var json = false

    func run() throws {
        let text = try textArgument(text), tokenizer = try loadTokenizer(model)
        _ = try vocabularySize(of: tokenizer, in: model)
        let ids = tokenizer.encode(text)
        try Console.print(json ? JSON.object([("tokens", .ints(ids))]).text : ids.map(String.init).joined(separator: ","))
    }
}

/// `gpt detokenize`: ids to text.
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize", abstract: "Print the text of comma-separated token ids.")

    @Option(help: "A model directory with tokenizer.json, or vocab.json + merges.txt (or encoder.json + vocab.bpe).")
    var model: String
    @Option(parsing: .unconditional, help: "Comma-separated token ids, e.g. 15496,11,995.")
    var tokens: String
    @Flag(help: "Print {\"text\": \"...\"}.")
    var json = false

    func run() throws {
        let ids = try parseTokens(tokens), tokenizer = try loadTokenizer(model)
        let size = try vocabularySize(of: tokenizer, in: model)
        if let bad = ids.first(where: { !(0..<size).contains($0) }) { throw InputError.tokenOutOfRange(token: bad, vocabularySize: size) }
        let text = try tokenizer.decode(ids)
        try Console.print(json ? JSON.object([("text", .string(text))]).text : text)
    }
}

/// The shapes `create-random` writes.
enum RandomShape: String, CaseIterable, ExpressibleByArgument {
    case gpt2, small, tiny, deep, smollm2135m = "smollm2-135m", llamaTiny = "llama-tiny"

    var config: GPTConfig {
        switch self {
        case .gpt2: return .gpt2
        case .small: return GPTConfig(nCtx: 256, nVocab: 1000, nEmbd: 256, nHead: 4, nLayer: 2)
        case .tiny: return GPTConfig(nCtx: 32, nVocab: 97, nEmbd: 64, nHead: 4, nLayer: 2)
        case .deep: return GPTConfig(nCtx: 128, nVocab: 2048, nEmbd: 96, nHead: 12, nLayer: 12)
        case .smollm2135m: return .smolLM2
        case .llamaTiny: return GPTConfig(llama: 256, nVocab: 97, nEmbd: 64, nHead: 4, nKVHead: 2, nLayer: 2, nInner: 128, tieWordEmbeddings: true)
        }
    }
}

struct CreateRandomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-random",
        abstract: "Write a GPT-2- or Llama-shaped model with random weights (for speed tests; it knows no language).")

    @Option(help: """
        The shape: gpt2 (124M: 12 layers, 12 heads, width 768, context 1024, 50257 tokens), \
        small (2 layers, 4 heads, width 256, context 256, 1000 tokens), tiny (2 layers, 4 heads, width 64, context 32, 97 tokens), \
        deep (GPT-2's 12 layers × 12 heads at width 96, context 128, 2048 tokens: the vocabulary size of Models/shakespeare-tiny); \
        of the Llama family: smollm2-135m (SmolLM2-135M: 30 layers, width 576, 9 heads sharing 3 key/value heads, MLP 1536, \
        context 8192, 49152 tokens, tied head) or llama-tiny (2 layers, width 64, 4 heads sharing 2, MLP 128, context 256, 97 tokens).
        """)
    var shape: RandomShape = .gpt2
    @Option(help: "The directory to write config.json and model.safetensors (F32) into; created if missing.")
    var output: String
    @Option(parsing: .unconditional, help: "Seed for the weights, 0…\(UInt64.max).")
    var seed: UInt64 = 0

    func validate() throws {
        if output.isEmpty { throw ValidationError("--output must name a directory") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("--output \(output) is a file, not a directory")
        }
    }

    func run() throws {
        let (_, seconds) = try timed { try GPT.random(config: shape.config, seed: seed).save(directory: URL(fileURLWithPath: output)) }
        Console.note(String(format: "wrote %@ in %.1f s", output, seconds))
    }
}

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
    @Option(help: "A Hugging Face GPT-2 directory: config.json + model.safetensors.")
    var model: String

    @Option(help: """
        How weight matrices are kept in memory: both (default: Double for the prompt's matrix products, \
        plus a Float copy for decoding's matrix-vector products wherever that is lossless, as for every \
        F32/F16/BF16 checkpoint; embeddings as Float only), float32 (Float alone where lossless: least memory, \
        slower prompts) or double (Double alone). All arithmetic is Double either way.
        """)
    var weights: WeightMatrix.Precision = .both

    func load() throws -> (GPT, seconds: Double) {
        try timed { try GPT(directory: URL(fileURLWithPath: model), weights: weights) }
    }
}

/// Parses `15496,11,995` into token ids.
func parseTokens(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    if parts.allSatisfy(\.isEmpty) { throw InputError.empty }
    return try parts.map { part in
        guard let id = Int(part) else { throw ValidationError("--tokens: '\(part)' is not a token id (expected comma-separated integers)") }
        return id
    }
}

/// The count of weight matrices and of those with a `Float` copy.
func matrixCounts(_ gpt: GPT) -> (float: Int, all: Int) {
    let matrices = gpt.parameters.filter { $0.shape.count == 2 }
    return (matrices.filter { $0.storage != .double }.count, matrices.count)
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print a checkpoint's configuration, parameter count and weight size.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var options: RunOptions

    func run() throws {
        options.apply()
        let (gpt, seconds) = try model.load()
        let c = gpt.config, params = gpt.parameterCount, counts = matrixCounts(gpt)
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: model.model)
            .appendingPathComponent("model.safetensors").path)[.size] as? Int) ?? 0
        if options.json {
            print(JSON.object([
                ("n_layer", .int(c.nLayer)), ("n_head", .int(c.nHead)), ("n_embd", .int(c.nEmbd)),
                ("n_ctx", .int(c.nCtx)), ("n_vocab", .int(c.nVocab)), ("layer_norm_epsilon", .number(c.layerNormEpsilon)),
                ("parameters", .int(params)), ("weight_bytes", .int(params * 8)), ("file_bytes", .int(fileBytes)),
                ("stored_bytes", .int(gpt.byteCount)), ("float32_matrices", .int(counts.float)),
                ("matrices", .int(counts.all)),
                ("load_seconds", .number(seconds)),
            ]).text)
            return
        }
        print("""
            model       \(model.model)
            layers      \(c.nLayer)
            heads       \(c.nHead)
            width       \(c.nEmbd)
            context     \(c.nCtx)
            vocabulary  \(c.nVocab)
            epsilon     \(c.layerNormEpsilon)
            parameters  \(params) (\(String(format: "%.1f", Double(params) / 1e6)) M)
            weights     \(params * 8) bytes as Double (\(String(format: "%.2f", Double(params * 8) / 1e9)) GB); file \(fileBytes) bytes
            stored      \(gpt.byteCount) bytes (\(String(format: "%.2f", Double(gpt.byteCount) / 1e9)) GB): \(counts.float) of \(counts.all) matrices with a Float32 copy
            loaded in   \(String(format: "%.2f", seconds)) s
            """)
    }
}

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "Print the next-token logits at every position of a token sequence.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Comma-separated token ids, e.g. 15496,11,995 (at most the model's context).")
    var tokens: String
    @Option(parsing: .unconditional, help: "In text output, how many of the largest logits to show per position, 1…1000.")
    var top: Int = 5
    @OptionGroup var options: RunOptions

    func validate() throws {
        try check(top, in: 1...1000, "--top")
    }

    func run() throws {
        options.apply()
        let ids = try parseTokens(tokens)
        let (gpt, _) = try model.load()
        let logits = try gpt(ids, backend: options.backend)                    // [n, n_vocab]
        if options.json {
            print(JSON.logits(tokens: ids, logits).text)
            return
        }
        let k = min(top, gpt.config.nVocab)
        let rows = (0..<logits.rows).map { i -> [String] in
            let row = logits[row: i]
            let best = row.indices.sorted { row[$0] > row[$1] }.prefix(k)
            return [String(i), String(ids[i]), best.map { "\($0):\(String(format: "%.4f", row[$0]))" }.joined(separator: " ")]
        }
        print(Table(header: ["pos", "token", "top \(k) next (id:logit)"], rows: rows).text)
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a token sequence with a KV cache, printing each new token id as it is produced.",
        discussion: """
            Timings (load, prefill and decode tokens/s) go to stderr at the end. The model sees the last \
            n_ctx tokens: past that, each new token re-runs the window (a note on stderr says so).
            """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Comma-separated prompt token ids, e.g. 15496,11.")
    var tokens: String
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
    @OptionGroup var options: RunOptions

    /// The most tokens one run generates.
    static let maxNewTokens = 1_000_000

    func validate() throws {
        try check(maxNewTokens, in: 0...GenerateCommand.maxNewTokens, "--max-new-tokens")
        try check(temperature, in: 0...100, "--temperature")
        if let topK { try check(topK, in: 1...Int(Int32.max), "--top-k") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
    }

    func run() throws {
        options.apply()
        let prompt = try parseTokens(tokens)
        let sampler = try Sampler(temperature: temperature, topK: topK, topP: topP)
        let (gpt, loadSeconds) = try model.load()
        let json = options.json
        let result = try gpt.generate(prompt, maxNewTokens: maxNewTokens, sampler: sampler, seed: seed, backend: options.backend) { token in
            if !json {
                FileHandle.standardOutput.write(Data("\(token) ".utf8))
            }
        }
        if json {
            print(JSON.object([
                ("tokens", .ints(result.tokens)), ("new_tokens", .ints(result.newTokens)),
                ("load_seconds", .number(loadSeconds)), ("prefill_seconds", .number(result.prefillSeconds)),
                ("decode_seconds", .number(result.decodeSeconds)),
            ]).text)
        } else {
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
        if prompt.count > gpt.config.nCtx || result.windowRecomputations > 0 {
            FileHandle.standardError.write(Data("gpt: note: the text outgrew the model's context of \(gpt.config.nCtx) tokens: the model saw only the last \(gpt.config.nCtx), and \(result.windowRecomputations) steps re-ran them from scratch\n".utf8))
        }
        let decoded = max(result.newTokens.count - 1, 0), counts = matrixCounts(gpt)
        let stats = String(format: "load %.2f s · prefill %d tokens in %.3f s (%.1f tokens/s) · decode %d tokens in %.3f s (%.1f tokens/s) · backend %@, %d threads, weights %@ (%d of %d matrices with Float32)",
                           loadSeconds, min(prompt.count, gpt.config.nCtx), result.prefillSeconds,
                           Double(min(prompt.count, gpt.config.nCtx)) / max(result.prefillSeconds, 1e-9),
                           decoded, result.decodeSeconds, Double(decoded) / max(result.decodeSeconds, 1e-9),
                           options.backend.rawValue, LinearAlgebra.threadCount, model.weights.rawValue, counts.float, counts.all)
        FileHandle.standardError.write(Data((stats + "\n").utf8))
    }
}

/// The shapes `create-random` writes.
enum RandomShape: String, CaseIterable, ExpressibleByArgument {
    case gpt2, small, tiny

    var config: GPTConfig {
        switch self {
        case .gpt2: return .gpt2
        case .small: return GPTConfig(nCtx: 256, nVocab: 1000, nEmbd: 256, nHead: 4, nLayer: 2)
        case .tiny: return GPTConfig(nCtx: 32, nVocab: 97, nEmbd: 64, nHead: 4, nLayer: 2)
        }
    }
}

struct CreateRandomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-random",
        abstract: "Write a GPT-2-shaped model with random weights (for speed tests; it knows no language).")

    @Option(help: """
        The shape: gpt2 (124M: 12 layers, 12 heads, width 768, context 1024, 50257 tokens), \
        small (2 layers, 4 heads, width 256, context 256, 1000 tokens) or tiny (2 layers, 4 heads, width 64, context 32, 97 tokens).
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
        FileHandle.standardError.write(Data(String(format: "wrote %@ in %.1f s\n", output, seconds).utf8))
    }
}

import ArgumentParser
import Foundation
import SwiftAttention

/// Runs `body`, rewording the library's errors as one-line validation errors.
func userFacing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CheckpointError {
        throw ValidationError(error.description)
    } catch let error as InputError {
        throw ValidationError(error.description)
    } catch let error as ModelError {
        throw ValidationError(error.description)
    }
}

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
        try userFacing { try timed { try GPT(directory: URL(fileURLWithPath: model), weights: weights) } }
    }
}

/// Parses `15496,11,995` into token ids.
func parseTokens(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    if parts.allSatisfy(\.isEmpty) { throw ValidationError(InputError.empty.description) }
    return try parts.map { part in
        guard let id = Int(part) else { throw ValidationError("--tokens: '\(part)' is not a token id (expected comma-separated integers)") }
        return id
    }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print a checkpoint's configuration, parameter count and weight size.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var options: RunOptions

    func run() throws {
        try options.apply()
        let (gpt, seconds) = try model.load()
        let c = gpt.config, params = gpt.parameterCount
        let matrices = gpt.parameters.filter { $0.shape.count == 2 }
        let compact = matrices.filter { $0.storage != .double }.count
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: model.model)
            .appendingPathComponent("model.safetensors").path)[.size] as? Int) ?? 0
        if options.json {
            print(JSON.object([
                ("n_layer", .int(c.nLayer)), ("n_head", .int(c.nHead)), ("n_embd", .int(c.nEmbd)),
                ("n_ctx", .int(c.nCtx)), ("n_vocab", .int(c.nVocab)), ("layer_norm_epsilon", .number(c.layerNormEpsilon)),
                ("parameters", .int(params)), ("weight_bytes", .int(params * 8)), ("file_bytes", .int(fileBytes)),
                ("stored_bytes", .int(gpt.byteCount)), ("float32_matrices", .int(compact)),
                ("matrices", .int(matrices.count)),
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
            stored      \(gpt.byteCount) bytes (\(String(format: "%.2f", Double(gpt.byteCount) / 1e9)) GB): \(compact) of \(matrices.count) matrices with a Float32 copy
            loaded in   \(String(format: "%.2f", seconds)) s
            """)
    }
}

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "Print the next-token logits at every position of a token sequence.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Comma-separated token ids, e.g. 15496,11,995.")
    var tokens: String
    @Option(help: "In text output, how many of the largest logits to show per position.")
    var top: Int = 5
    @OptionGroup var options: RunOptions

    func run() throws {
        try options.apply()
        let ids = try parseTokens(tokens)
        let (gpt, _) = try model.load()
        let logits = try userFacing { try gpt(ids, backend: options.backend) }     // [n, n_vocab]
        if options.json {
            print(JSON.logits(tokens: ids, logits).text)
            return
        }
        let k = max(1, min(top, gpt.config.nVocab))
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
        discussion: "Timings (load, prefill and decode tokens/s) go to stderr at the end.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Comma-separated prompt token ids, e.g. 15496,11.")
    var tokens: String
    @Option(parsing: .unconditional, help: "How many tokens to generate.")
    var maxNewTokens: Int = 20
    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.")
    var temperature: Double = 0
    @Option(parsing: .unconditional, help: "Sample only among the K most likely tokens.")
    var topK: Int?
    @Option(parsing: .unconditional, help: "Sample only among the most likely tokens up to this cumulative probability.")
    var topP: Double?
    @Option(help: "Seed for sampling (the same seed gives the same tokens).")
    var seed: UInt64 = 0
    @OptionGroup var options: RunOptions

    func run() throws {
        try options.apply()
        let prompt = try parseTokens(tokens)
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be 0 or more, got \(maxNewTokens)") }
        let sampler = try userFacing { try Sampler(temperature: temperature, topK: topK, topP: topP) }
        let (gpt, loadSeconds) = try model.load()
        let json = options.json
        let result = try userFacing {
            try gpt.generate(prompt, maxNewTokens: maxNewTokens, sampler: sampler, seed: seed, backend: options.backend) { token in
                if !json {
                    FileHandle.standardOutput.write(Data("\(token) ".utf8))
                }
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
        let decoded = max(result.newTokens.count - 1, 0)
        let stats = String(format: "load %.2f s · prefill %d tokens in %.3f s (%.1f tokens/s) · decode %d tokens in %.3f s (%.1f tokens/s) · backend %@, %d threads, weights %@ (%d of %d matrices with Float32)",
                           loadSeconds, prompt.count, result.prefillSeconds, Double(prompt.count) / max(result.prefillSeconds, 1e-9),
                           decoded, result.decodeSeconds, Double(decoded) / max(result.decodeSeconds, 1e-9),
                           options.backend.rawValue, LinearAlgebra.threadCount, model.weights.rawValue,
                           gpt.parameters.filter { $0.shape.count == 2 && $0.storage != .double }.count,
                           gpt.parameters.filter { $0.shape.count == 2 }.count)
        FileHandle.standardError.write(Data((stats + "\n").utf8))
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
    var shape: String = "gpt2"
    @Option(help: "The directory to write config.json and model.safetensors (F32) into.")
    var output: String
    @Option(help: "Seed for the weights.")
    var seed: UInt64 = 0

    func run() throws {
        let config: GPTConfig
        switch shape {
        case "gpt2": config = .gpt2
        case "small": config = GPTConfig(nCtx: 256, nVocab: 1000, nEmbd: 256, nHead: 4, nLayer: 2)
        case "tiny": config = GPTConfig(nCtx: 32, nVocab: 97, nEmbd: 64, nHead: 4, nLayer: 2)
        default: throw ValidationError("--shape must be gpt2, small or tiny, got '\(shape)'")
        }
        let (_, seconds) = try userFacing {
            try timed { try GPT.random(config: config, seed: seed).save(directory: URL(fileURLWithPath: output)) }
        }
        FileHandle.standardError.write(Data(String(format: "wrote %@ in %.1f s\n", output, seconds).utf8))
    }
}

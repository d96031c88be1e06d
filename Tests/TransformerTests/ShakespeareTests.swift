import Foundation
import SwiftAttention
import TestSupport
import Testing

/// The model that ships in the repo.
let shakespeareDirectory = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Models/shakespeare-tiny")

/// What `scripts/make_shakespeare_fixture.py` recorded from Hugging Face `transformers`.
struct ShakespeareExpected: Decodable {
    let prompt: String
    let ids: [Int]
    let logits: Matrix
    let logits_float32: Matrix
    let greedy: [Int]
    let greedy_text: String
}

@Suite("The shipped Shakespeare GPT-2 against Hugging Face transformers")
struct ShakespeareTests {
    let expected: ShakespeareExpected, model: GPT, tokenizer: BPETokenizer
    init() throws {
        expected = try loadFixture("shakespeare-tiny-expected.json")
        model = try GPT(directory: shakespeareDirectory, weights: .float64)
        tokenizer = try BPETokenizer(directory: shakespeareDirectory)
    }

    @Test func tokenizerMatches() {
        #expect(tokenizer.encode(expected.prompt) == expected.ids)
        #expect(tokenizer.vocabularySize == model.config.nVocab)
    }

    @Test(arguments: Backend.allCases, wideStorages)
    func logitsMatchTransformers(backend: Backend, weights: WeightMatrix.Precision) throws {
        let model = model.storingWeights(weights)
        expectClose(try model(expected.ids, backend: backend), expected.logits, relative: 1e-9,
                    "\(backend) \(weights)")
    }

    @Test(arguments: Backend.allCases)
    func greedyContinuationMatchesTransformers(backend: Backend) throws {
        let eos = tokenizer.endOfText.map { Set([$0]) } ?? []
        let g = try model.generate(expected.ids, maxNewTokens: 40, backend: backend, stopTokens: eos)
        #expect(g.newTokens == expected.greedy)
        #expect(try tokenizer.decode(g.newTokens) == expected.greedy_text)
    }

    @Test func shipsWithinItsBudget() throws {
        try expectShipped(shakespeareDirectory, with: ["config.json", "model.safetensors", "vocab.json", "merges.txt", "README.md"])
    }
}

/// The shipped Llama-family model.
let shakespeareLlamaDirectory = shakespeareDirectory.deletingLastPathComponent().appendingPathComponent("shakespeare-llama")

@Suite("The shipped Shakespeare Llama against Hugging Face tokenizers and a float64 reference")
struct ShakespeareLlamaTests {
    /// What `scripts/make_shakespeare_llama_fixture.py` recorded.
    struct Expected: Decodable {
        let prompt: String, ids: [Int], logits: Matrix, greedy: [Int], greedy_text: String
    }

    @Test func tokensLogitsAndGreedyText() throws {
        let expected: Expected = try loadFixture("shakespeare-llama-expected.json")
        let tokenizer = try BPETokenizer(directory: shakespeareLlamaDirectory)
        #expect(tokenizer.encode(expected.prompt) == expected.ids && tokenizer.endOfText == 0 && tokenizer.beginOfText == nil)
        let model = try GPT(directory: shakespeareLlamaDirectory, weights: .float64)
        #expect(tokenizer.vocabularySize == model.config.nVocab && model.config.keyValueHeads == 2)
        for backend in Backend.allCases {
            expectClose(try model(expected.ids, backend: backend), expected.logits, relative: 1e-9, "\(backend)")
        }
        let float32 = try GPT(directory: shakespeareLlamaDirectory, dtype: .float32)
        expectClose(try float32(expected.ids), expected.logits, relative: 1e-4, "float32")
        let g = try model.generate(expected.ids, maxNewTokens: 40, stopTokens: [0])
        #expect(g.newTokens == expected.greedy)
        #expect(try tokenizer.decode(g.newTokens) == expected.greedy_text)
    }

    @Test func shipsWithinItsBudget() throws {
        try expectShipped(shakespeareLlamaDirectory, with: ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md"])
    }
}

/// Expects a shipped model's directory to hold `files` and at most 10 MB in all.
func expectShipped(_ directory: URL, with files: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let present = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    for name in files { #expect(present.contains(name), "\(name) is missing", sourceLocation: sourceLocation) }
    let bytes = try present.reduce(0) { total, name in
        total + ((try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? Int) ?? 0)
    }
    #expect(bytes <= 10_000_000, "\(bytes) bytes", sourceLocation: sourceLocation)
}

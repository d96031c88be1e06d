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
    static let expected: ShakespeareExpected = try! loadFixture("shakespeare-tiny-expected.json")
    static let model = try! GPT(directory: shakespeareDirectory, weights: .float64)
    static let tokenizer = try! BPETokenizer(directory: shakespeareDirectory)

    @Test func tokenizerMatches() {
        #expect(ShakespeareTests.tokenizer.encode(ShakespeareTests.expected.prompt) == ShakespeareTests.expected.ids)
        #expect(ShakespeareTests.tokenizer.vocabularySize == ShakespeareTests.model.config.nVocab)
    }

    @Test(arguments: Backend.allCases, WeightMatrix.Precision.allCases)
    func logitsMatchTransformers(backend: Backend, weights: WeightMatrix.Precision) throws {
        let model = ShakespeareTests.model.storingWeights(weights)
        expectClose(try model(ShakespeareTests.expected.ids, backend: backend), ShakespeareTests.expected.logits, relative: 1e-9,
                    "\(backend) \(weights)")
    }

    @Test(arguments: Backend.allCases)
    func greedyContinuationMatchesTransformers(backend: Backend) throws {
        let eos = ShakespeareTests.tokenizer.endOfText.map { Set([$0]) } ?? []
        let g = try ShakespeareTests.model.generate(ShakespeareTests.expected.ids, maxNewTokens: 40, backend: backend, stopTokens: eos)
        #expect(g.newTokens == ShakespeareTests.expected.greedy)
        #expect(try ShakespeareTests.tokenizer.decode(g.newTokens) == ShakespeareTests.expected.greedy_text)
    }

    @Test func shipsWithinItsBudget() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: shakespeareDirectory.path)
        for name in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "README.md"] {
            #expect(files.contains(name), "\(name) is missing")
        }
        let bytes = try files.reduce(0) { total, name in
            total + ((try FileManager.default.attributesOfItem(atPath: shakespeareDirectory.appendingPathComponent(name).path)[.size] as? Int) ?? 0)
        }
        #expect(bytes <= 10_000_000, "\(bytes) bytes")
    }
}

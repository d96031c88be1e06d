import Foundation
import SwiftAttention
import TestSupport
import Testing

@Suite("Corrupted values are refused by the library: line ends, repeated keys, non-finite weights")
struct DataReliabilityTests {
    /// merges.txt with CRLF or CR line ends reads as with LF (it used to lose every merge).
    @Test(arguments: ["\r\n", "\r"])
    func mergesLineEnds(lineEnd: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = fixturesDirectory.appendingPathComponent("gpt2-tokenizer")
        try FileManager.default.copyItem(at: source.appendingPathComponent("encoder.json"), to: dir.appendingPathComponent("encoder.json"))
        let merges = try String(contentsOf: source.appendingPathComponent("vocab.bpe"), encoding: .utf8)
        try merges.replacingOccurrences(of: "\n", with: lineEnd).write(to: dir.appendingPathComponent("vocab.bpe"), atomically: true, encoding: .utf8)
        let text = "Hello, world: the tokenizer keeps its merges"
        #expect(try BPETokenizer(directory: dir).encode(text) == BPETokenizer(directory: source).encode(text))
        #expect(try BPETokenizer(directory: dir).encode("Hello, world") == [15496, 11, 995])
    }

    @Test func repeatedKeysInAJSONModel() throws {
        let json = try String(decoding: JSONEncoder().encode(GPT.handmade), as: UTF8.self)
        #expect(throws: ModelError.invalidJSON("key \"wte\" appears twice in one object")) {
            try GPT(json: Data(("{\"wte\": [[1]], " + json.dropFirst()).utf8))
        }
        #expect(throws: ModelError.invalidJSON("key \"n_ctx\" appears twice in one object")) {
            try GPT(json: Data(json.replacingOccurrences(of: "\"n_ctx\"", with: "\"n_ctx\":5,\"n_ctx\"").utf8))
        }
        // The same key in two objects, keys inside strings, escapes: all fine.
        #expect(try GPT(json: Data(json.utf8)) == GPT.handmade)
        let escaped = json.replacingOccurrences(of: "\"wpe\"", with: "\"w\\u0070e\"")
        #expect(try GPT(json: Data(escaped.utf8)) == GPT.handmade)
        #expect(throws: ModelError.invalidJSON("key \"wpe\" appears twice in one object")) {
            try GPT(json: Data(("{\"wpe\": 1, " + escaped.dropFirst()).utf8))
        }
    }

    @Test func nonFiniteWeightsFromTheAPI() throws {
        #expect(throws: ModelError.invalidValue(field: "g", reason: "nan at [0, 1] (tensor weight in a checkpoint): weights must be finite")) {
            try LayerNorm(g: Matrix(row: [1, .nan]), b: Matrix(row: [0, 0]))
        }
        #expect(throws: ModelError.invalidValue(field: "w", reason: "inf at [1, 0] (tensor weight in a checkpoint): weights must be finite")) {
            try Linear(w: Matrix([[1], [.infinity]]), b: Matrix(row: [0]))
        }
        // JSON cannot spell a NaN; a number too large for a Double is refused by the decoder.
        let json = String(decoding: try JSONEncoder().encode(GPT.handmade), as: UTF8.self)
        #expect(throws: ModelError.self) { try GPT(json: Data(json.replacingOccurrences(of: "1024", with: "1e999").utf8)) }
    }

    /// A NaN in a checkpoint is refused when it loads, naming the tensor and the place, in every storage.
    @Test(arguments: [WeightMatrix.Precision.float64, .float32, .both])
    func nonFiniteWeightsInACheckpoint(weights: WeightMatrix.Precision) throws {
        for (name, index, field, place) in [("ln_f.weight", 3, "ln_f.g", "[0, 3]"), ("h.1.mlp.c_fc.weight", 256 * 2 + 5, "blocks[1].mlp.c_fc.w", "[2, 5]")] {
            let message = try loadMessage(tensors: { $0[$0.firstIndex { $0.name == name }!].values[index] = -.infinity }, weights: weights)
            #expect(message == "\(field): -inf at \(place) (tensor \(name) in a checkpoint): weights must be finite", "\(weights)")
        }
    }
}

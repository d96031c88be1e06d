import Foundation
import SwiftAttention
import TestSupport
import Testing

/// Decodes `json` as a GPT and returns the error's message, or nil if it decoded.
func decodeError(_ json: String) -> String? {
    do {
        _ = try GPT(json: Data(json.utf8))
        return nil
    } catch {
        return "\(error)"
    }
}

/// The hand-set model's JSON (the reference file in Tests/Fixtures) with one edit applied to the parsed object.
func editedHandmade(_ edit: (inout [String: Any]) -> Void) throws -> String {
    let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent("handmade-model.json"))
    var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    edit(&object)
    return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}

@Suite("Decoding models from JSON")
struct DecodingTests {
    let smallModel: GPT
    init() throws {
        smallModel = try smallModelLoad.get()
    }

    @Test func operationsDecodeWithDefaults() throws {
        let norm = try JSONDecoder().decode(LayerNorm.self, from: Data(#"{"g": [1, 2], "b": [0, 1]}"#.utf8))
        #expect(norm.eps == 1e-5)
        #expect(norm.g == Matrix([[1, 2]]))
        let linear = try JSONDecoder().decode(Linear.self, from: Data(#"{"w": [[1, 2, 3], [4, 5, 6]], "b": [0, 0, 1]}"#.utf8))
        #expect(linear(Matrix([[1, 1]])) == Matrix([[5, 7, 10]]))
        _ = try JSONDecoder().decode(GELU.self, from: Data("{}".utf8))
        let config = try JSONDecoder().decode(GPTConfig.self, from: Data(#"{"n_positions": 4, "vocab_size": 3, "n_embd": 2, "n_head": 2, "n_layer": 3}"#.utf8))
        #expect(config == GPTConfig(nCtx: 4, nVocab: 3, nEmbd: 2, nHead: 2, nLayer: 3, layerNormEpsilon: 1e-5))
    }

    @Test func roundTrip() throws {
        let data = try JSONEncoder().encode(smallModel)
        #expect(try GPT(json: data) == smallModel)
    }

    @Test func malformedModelsAreRejectedWithTheField() throws {
        #expect(decodeError("{ not json")?.hasPrefix("not valid JSON") == true)
        #expect(decodeError(try editedHandmade { $0["wte"] = nil }) == "missing field wte")
        #expect(decodeError(try editedHandmade { m in
            var blocks = m["blocks"] as! [[String: Any]]
            var attn = blocks[0]["attn"] as! [String: Any]
            var cAttn = attn["c_attn"] as! [String: Any]
            cAttn["b"] = Array(repeating: 0.0, count: 23)
            attn["c_attn"] = cAttn; blocks[0]["attn"] = attn; m["blocks"] = blocks
        }) == "blocks[0].attn.c_attn.b: expected shape [24], found [23]")
        #expect(decodeError(try editedHandmade { m in
            m["wpe"] = (m["wpe"] as! [[Double]]).dropLast().map { $0 }
        }) == "wpe: expected shape [5, 8], found [4, 8]")
        #expect(decodeError(try editedHandmade { m in
            var rows = m["wte"] as! [[Double]]
            rows[1].removeLast()
            m["wte"] = rows
        }) == "wte: ragged matrix: row 1 has 7 columns, row 0 has 8")
        #expect(decodeError(try editedHandmade { m in
            var c = m["config"] as! [String: Any]; c["n_head"] = 3; m["config"] = c
        }) == "config.n_embd: 8 is not a multiple of n_head 3")
        #expect(decodeError(try editedHandmade { m in
            var c = m["config"] as! [String: Any]; c["n_layer"] = 2; m["config"] = c
        }) == "blocks: config.n_layer is 2, found 1 blocks")
        #expect(decodeError(try editedHandmade { m in m["wte"] = "zeros" }) == "wte: expected an array")
    }
}

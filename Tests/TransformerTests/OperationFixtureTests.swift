import Foundation
import SwiftAttention
import TestSupport
import Testing

/// Inputs and outputs written by `scripts/make_fixtures.py` (NumPy).
struct OpsFixture: Decodable {
    let x, linear, gelu, softmax_input, softmax, layer_norm, attention, mlp, block, logits, logits_prefix3: Matrix
    let tokens: [Int]
    let handmade_aab_logits: Matrix
}

let smallModelLoad = Result { try GPT(json: Data(contentsOf: fixturesDirectory.appendingPathComponent("small-model.json"))) }
let opsLoad = Result { try loadFixture("small-model-ops.json", as: OpsFixture.self) }

@Suite("Operation models against the NumPy reference")
struct OperationFixtureTests {
    let ops: OpsFixture
    let smallModel: GPT
    init() throws {
        ops = try opsLoad.get()
        smallModel = try smallModelLoad.get()
    }

    var block: TransformerBlock { smallModel.blocks[0] }

    @Test(arguments: Backend.allCases)
    func operations(backend: Backend) {
        expectClose(block.attn.cAttn!(ops.x, backend: backend), ops.linear, relative: 1e-9, "Linear")
        expectClose(GELU()(ops.x, backend: backend), ops.gelu, relative: 1e-9, "GELU")
        expectClose(Softmax()(ops.softmax_input, backend: backend), ops.softmax, relative: 1e-9, "Softmax")
        expectClose(block.ln1!(ops.x, backend: backend), ops.layer_norm, relative: 1e-9, "LayerNorm")
        expectClose(block.attn(ops.x, backend: backend), ops.attention, relative: 1e-9, "CausalSelfAttention")
        expectClose(block.mlp!(ops.x, backend: backend), ops.mlp, relative: 1e-9, "MLP")
        expectClose(block(ops.x, backend: backend), ops.block, relative: 1e-9, "TransformerBlock")
    }

    @Test(arguments: Backend.allCases)
    func wholeModel(backend: Backend) throws {
        expectClose(try smallModel(ops.tokens, backend: backend), ops.logits, relative: 1e-9, "GPT logits")
        expectClose(try smallModel(Array(ops.tokens.prefix(3)), backend: backend), ops.logits_prefix3, relative: 1e-9, "GPT logits, 3 tokens")
    }

    @Test func backendsAgree() throws {
        expectClose(try smallModel(ops.tokens, backend: .swift), try smallModel(ops.tokens, backend: .blas), relative: 1e-12)
        var perModel = smallModel
        perModel.backend = .swift
        expectClose(try perModel(ops.tokens), try smallModel(ops.tokens, backend: .swift), relative: 0)
    }

    @Test func softmaxRowsSumToOneAndAreStable() {
        let p = Softmax()(Matrix([[1000, 1001, 999], [-1e300, 0, 1]]))
        #expect(p.elements.allSatisfy { $0.isFinite })
        expectClose(p.rowSum(), Matrix([[1], [1]]), relative: 1e-15)
    }

    @Test func inputErrors() {
        #expect(throws: InputError.empty) { try smallModel([]) }
        #expect(throws: InputError.tokenOutOfRange(token: 11, vocabularySize: 11)) { try smallModel([1, 11]) }
        #expect(throws: InputError.tokenOutOfRange(token: -1, vocabularySize: 11)) { try smallModel([-1]) }
        #expect(throws: InputError.contextOverflow(count: 9, context: 8)) { try smallModel(Array(repeating: 0, count: 9)) }
        #expect(InputError.tokenOutOfRange(token: 11, vocabularySize: 11).description == "token id 11 is outside the vocabulary (valid ids are 0…10)")
    }
}

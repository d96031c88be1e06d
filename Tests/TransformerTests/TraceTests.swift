import Foundation
import SwiftAttention
import TestSupport
import Testing

@Suite("Tracing a forward pass")
struct TraceTests {
    let tiny: GPT
    let tinyExpected: TinyGPT2Expected
    init() throws {
        tiny = try tinyLoad.get()
        tinyExpected = try tinyExpectedLoad.get()
    }

    /// The models and inputs traced below.
    var cases: [(String, GPT, [Int])] { [
        ("tiny", tiny, tinyExpected.prompt),
        ("handmade", GPT.handmade, [0, 0, 1, 0, 0]),
        ("wide", wideModel, (0..<70).map { ($0 * 37) % 300 }),
    ] }

    @Test(arguments: Backend.allCases)
    func logitsEqualThePlainForwardPassExactly(backend: Backend) throws {
        for (name, model, tokens) in cases {
            let trace = try model.trace(tokens, backend: backend)
            #expect(trace.logits == (try model(tokens, backend: backend)), "\(name)")
            #expect(trace.tokens == tokens)
        }
    }

    @Test func patternsAreCausalAndNormalised() throws {
        for (name, model, tokens) in cases {
            let trace = try model.trace(tokens)
            let n = tokens.count
            #expect(trace.attention.count == model.config.nLayer && trace.attention.allSatisfy { $0.count == model.config.nHead })
            for (l, heads) in trace.attention.enumerated() {
                for (h, pattern) in heads.enumerated() {
                    let w = pattern.weights
                    #expect(w.rows == n && w.cols == n)
                    for q in 0..<n {
                        #expect((q + 1..<n).allSatisfy { w[q, $0] == 0 }, "\(name) layer \(l) head \(h) row \(q): weight above the diagonal")
                        #expect((0...q).allSatisfy { w[q, $0] >= 0 })
                        #expect(abs(w[row: q].reduce(0, +) - 1) < 1e-12, "\(name) layer \(l) head \(h) row \(q)")
                    }
                }
            }
        }
    }

    /// The residual stream is the embeddings plus every update, layer by layer.
    @Test func updatesAddUpToTheStream() throws {
        for (name, model, tokens) in cases {
            let trace = try model.trace(tokens)
            #expect(trace.residual.count == model.config.nLayer + 1)
            var sum = trace.residual[0].values
            for l in 0..<model.config.nLayer {
                sum += trace.attentionUpdates[l].values
                if let mlp = trace.mlpUpdates[l] { sum += mlp.values }
                #expect((trace.mlpUpdates[l] == nil) == (model.blocks[l].mlp == nil))
                // Layer by layer the additions are the forward pass's own, in its order: exact.
                var step = trace.residual[l].values
                step += trace.attentionUpdates[l].values
                if let mlp = trace.mlpUpdates[l] { step += mlp.values }
                #expect(step == trace.residual[l + 1].values, "\(name) layer \(l)")
            }
            expectClose(sum, trace.residual.last!.values, relative: 1e-12, "\(name): embeddings + all updates")
        }
    }

    /// The logit lens after the last block is the model's own prediction.
    @Test func lastLensIsTheFinalLogits() throws {
        for (name, model, tokens) in cases {
            let trace = try model.trace(tokens, top: 3)
            #expect(trace.logitLens.count == model.config.nLayer)
            let last = trace.logitLens.last!.top
            for q in 0..<tokens.count {
                let row = trace.logits[row: q]
                let best = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(3)
                #expect(last[q].map(\.token) == Array(best), "\(name) position \(q)")
                #expect(last[q].map(\.logit) == best.map { row[$0] })
                #expect(last[q].allSatisfy { $0.probability >= 0 && $0.probability <= 1 })   // 0 where e^(logit - max) underflows
            }
        }
    }

    /// The documented JSON form.
    @Test func jsonShape() throws {
        let trace = try tiny.trace(Array(tinyExpected.prompt.prefix(4)), top: 2)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(trace)) as! [String: Any]
        #expect(Set(object.keys) == ["tokens", "residual", "attention", "attention_updates", "mlp_updates", "logit_lens", "logits"])
        let residual = try #require(object["residual"] as? [[[Double]]])
        #expect(residual.count == 3 && residual[0].count == 4 && residual[0][0].count == 64)
        let attention = try #require(object["attention"] as? [[[[Double]]]])
        #expect(attention.count == 2 && attention[0].count == 4 && attention[0][0].count == 4 && attention[0][0][0].count == 4)
        #expect((object["mlp_updates"] as? [[[Double]]])?.count == 2)
        let lens = try #require(object["logit_lens"] as? [[[[String: Double]]]])
        #expect(lens.count == 2 && lens[0].count == 4 && lens[0][0].count == 2 && Set(lens[0][0][0].keys) == ["token", "logit", "probability"])
        #expect((object["logits"] as? [[Double]])?.count == 4)
        #expect(try JSONDecoder().decode(Trace.self, from: JSONEncoder().encode(trace)) == trace)
        // The hand-set model has no MLP: its updates are null.
        let handmade = try JSONSerialization.jsonObject(with: JSONEncoder().encode(GPT.handmade.trace([0, 1]))) as! [String: Any]
        #expect((handmade["mlp_updates"] as? [Any])?.first is NSNull)
    }
}

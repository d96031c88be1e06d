import Foundation
import TestSupport
import Testing
@testable import Transformer

/// A Llama-family fixture's directory and reference (see TransformerTests' LlamaFamilyTests).
private func llamaFixture(_ name: String) throws -> (path: String, tokens: [Int], logits: [[Double]], prompt: [Int], greedy: [Int]) {
    let directory = fixturesDirectory.appendingPathComponent(name)
    let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("reference.json"))) as! [String: Any]
    return (directory.path, reference["tokens"] as! [Int], reference["logits"] as! [[Double]], reference["prompt"] as! [Int], reference["greedy"] as! [Int])
}

@Suite("The gpt command: Llama-family models", slowSuite)
struct LlamaCLITests {
    @Test func infoLogitsGenerateInspect() throws {
        let gqa = try llamaFixture("llama-gqa")
        let info = try runGPT(["info", "--model", gqa.path, "--json"])
        #expect(info.status == 0, "stderr: \(info.err)")
        let object = try JSONSerialization.jsonObject(with: Data(info.out.utf8)) as! [String: Any]
        #expect(object["model_type"] as? String == "llama" && object["n_kv_head"] as? Int == 2 && object["head_dim"] as? Int == 16)
        #expect(object["tied_head"] as? Bool == false)
        let text = try runGPT(["info", "--model", gqa.path])
        #expect(text.out.contains("4 sharing 2 key/value heads, each of width 16") && text.out.contains("llama3 scaling, untied head"), "\(text.out)")

        let logits = try runGPT(["logits", "--model", gqa.path, "--tokens", gqa.tokens.map(String.init).joined(separator: ","), "--json"])
        #expect(logits.status == 0, "stderr: \(logits.err)")
        let rows = (try JSONSerialization.jsonObject(with: Data(logits.out.utf8)) as! [String: Any])["logits"] as! [[Double]]
        let scale = gqa.logits.joined().map(abs).max()!
        #expect(zip(rows.joined(), gqa.logits.joined()).allSatisfy { abs($0 - $1) <= 1e-9 * scale })

        for name in ["llama-gqa", "qwen2-bias", "llama-bias"] {
            let fixture = try llamaFixture(name)
            let r = try runGPT(["generate", "--model", fixture.path, "--tokens", fixture.prompt.map(String.init).joined(separator: ","),
                                "--max-new-tokens", "\(fixture.greedy.count)", "--json"])
            #expect(r.status == 0, "stderr: \(r.err)")
            #expect((try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any])["new_tokens"] as? [Int] == fixture.greedy, "\(name)")
        }

        let page = FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: page) }
        let inspect = try runGPT(["inspect", "--model", gqa.path, "--tokens", "1,2,3,4,5", "--html", page.path])
        #expect(inspect.status == 0, "stderr: \(inspect.err)")
        #expect(try String(contentsOf: page, encoding: .utf8).contains("<html"))
    }

    /// create-random writes the Llama shapes; tokenize and detokenize read tokenizer.json.
    @Test func createRandomAndTokenizer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llama-tiny-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let created = try runGPT(["create-random", "--shape", "llama-tiny", "--output", directory.path])
        #expect(created.status == 0, "stderr: \(created.err)")
        let info = try JSONSerialization.jsonObject(with: Data(try runGPT(["info", "--model", directory.path, "--json"]).out.utf8)) as! [String: Any]
        #expect(info["model_type"] as? String == "llama" && info["n_kv_head"] as? Int == 2 && info["tied_head"] as? Bool == true)
        let generated = try runGPT(["generate", "--model", directory.path, "--tokens", "1,2,3", "--max-new-tokens", "5", "--dtype", "float32"])
        #expect(generated.status == 0, "stderr: \(generated.err)")

        let tokenizer = fixturesDirectory.appendingPathComponent("hf-tokenizers/llama3").path
        let ids = try runGPT(["tokenize", "--model", tokenizer, "To be, or not to be"])
        #expect(ids.status == 0 && ids.out.hasPrefix("0,"), "\(ids)")                // <|begin_of_text|> first
        let back = try runGPT(["detokenize", "--model", tokenizer, "--tokens", ids.out.trimmingCharacters(in: .whitespacesAndNewlines)])
        #expect(back.out == "<|begin_of_text|>To be, or not to be\n")
    }

    /// A config variant not implemented is bad data (exit 65); a missing shard is a missing file (66).
    @Test func exitCodes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llama-exit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: fixturesDirectory.appendingPathComponent("qwen2-bias"), to: dir)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model-00003-of-00003.safetensors"))
        expectFailure(try runGPT(["info", "--model", dir.path]), code: 66, "model-00003-of-00003.safetensors: missing")
        let config = dir.appendingPathComponent("config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "\"silu\"", with: "\"gelu\"")
        try text.write(to: config, atomically: true, encoding: .utf8)
        expectFailure(try runGPT(["info", "--model", dir.path]), code: 65, "hidden_act: \"gelu\" is not implemented")
    }

    /// A Llama-family vocabulary padded past its tokenizer's (as Qwen2's is) loads
    /// with the tokenizer, and generation picks only the tokenizer's ids: here the
    /// padded ids' logits are ten times the greedy token's, and are never chosen.
    @Test func paddedVocabulary() throws {
        let source = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Models/shakespeare-llama")
        let arguments = ["--prompt", "ROMEO:", "--max-new-tokens", "8", "--json"]
        let original = try runGPT(["generate", "--model", source.path] + arguments)
        #expect(original.status == 0, "stderr: \(original.err)")
        let greedy = (try JSONSerialization.jsonObject(with: Data(original.out.utf8)) as! [String: Any])["new_tokens"] as! [Int]

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("padded-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        config["vocab_size"] = 2050
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        let file = try SafetensorsFile(url: source.appendingPathComponent("model.safetensors"))
        let tensors = try file.tensors.keys.sorted().map { name -> (name: String, shape: [Int], values: [Double]) in
            var (shape, values) = (file.tensors[name]!.shape, try file.doubles(name))
            if name == "model.embed_tokens.weight" {                  // two more rows: 10 × the greedy token's
                let row = Array(values[(greedy[0] * shape[1])..<((greedy[0] + 1) * shape[1])]).map { 10 * $0 }
                (shape, values) = ([shape[0] + 2, shape[1]], values + row + row)
            }
            return (name, shape, values)
        }
        try SafetensorsFile.write(tensors, dtype: .float32, to: dir.appendingPathComponent("model.safetensors"))
        let padded = try runGPT(["generate", "--model", dir.path] + arguments)
        #expect(padded.status == 0, "stderr: \(padded.err)")
        #expect((try JSONSerialization.jsonObject(with: Data(padded.out.utf8)) as! [String: Any])["new_tokens"] as? [Int] == greedy)
        let logits = try runGPT(["logits", "--model", dir.path, "--prompt", "ROMEO:", "--top", "1"])
        #expect(logits.status == 0 && logits.out.contains(" 2048:"), "\(logits)")   // the raw logits still show the padded id, by number
    }
}

import Foundation
import SwiftAttention
import TestSupport
import Testing

/// GPT-2's tokenizer files in the fixtures.
let gpt2TokenizerPath = fixturesDirectory.appendingPathComponent("gpt2-tokenizer").path

/// A small random model with a small byte-level BPE tokenizer of its own (the 256
/// byte tokens, a few merges, `<|endoftext|>` last), written to a fresh directory.
/// With `endOfTextWins`, every position's most likely next token is `<|endoftext|>`;
/// with `nonFinite`, `ln_f.weight[3]` is a NaN in the file.
func textModel(endOfTextWins: Bool = false, nonFinite: Bool = false) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftattention-text-\(UUID().uuidString)")
    var vocabulary = Dictionary(uniqueKeysWithValues: BPETokenizer.byteCharacters.enumerated().map { (String($1), $0) })
    let merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a")]
    for (left, right) in merges { vocabulary[left + right] = vocabulary.count }
    vocabulary["<|endoftext|>"] = vocabulary.count
    var gpt = try GPT.random(config: GPTConfig(nCtx: 32, nVocab: vocabulary.count, nEmbd: 32, nHead: 2, nLayer: 1), seed: 4)
    if endOfTextWins {
        // Every h = ln_f(x) is the end-of-text embedding (gain 0, bias = that row), and no other
        // token's embedding is like it.
        var wte = Matrix.zeros(rows: vocabulary.count, cols: 32)
        let row = (0..<32).map { Double(Float(sin(Double($0)))) }
        wte[row: vocabulary.count - 1] = row
        gpt = try GPT(config: gpt.config, wte: WeightMatrix(wte), wpe: gpt.wpe, blocks: gpt.blocks,
                      lnF: .layerNorm(LayerNorm(g: .zeros(rows: 1, cols: 32), b: Matrix(row: row))))
    }
    try gpt.save(directory: dir)
    if nonFinite {
        var tensors = try gpt.checkpointTensors()
        tensors[tensors.firstIndex { $0.name == "ln_f.weight" }!].values[3] = .nan
        try SafetensorsFile.write(tensors, dtype: .float32, to: dir.appendingPathComponent("model.safetensors"))
    }
    try JSONSerialization.data(withJSONObject: vocabulary).write(to: dir.appendingPathComponent("vocab.json"))
    try Data((["#version: 0.2"] + merges.map { "\($0.0) \($0.1)" }).joined(separator: "\n").utf8)
        .write(to: dir.appendingPathComponent("merges.txt"))
    return dir
}

/// Runs `gpt` with `input` on standard input.
func runGPT(_ arguments: [String], stdin input: String) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = executable("gpt")
    process.arguments = arguments
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    process.standardInput = inPipe
    process.standardOutput = outPipe
    process.standardError = errPipe
    try process.run()
    inPipe.fileHandleForWriting.write(Data(input.utf8))
    try inPipe.fileHandleForWriting.close()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile(), err = errPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

@Suite("The gpt command: text in, text out", slowSuite)
struct TextCLITests {
    @Test func tokenizeAndDetokenize() throws {
        let t = try runGPT(["tokenize", "--model", gpt2TokenizerPath, "Hello, world"])
        #expect(t.status == 0 && t.out == "15496,11,995\n", "\(t)")
        let j = try runGPT(["tokenize", "--model", gpt2TokenizerPath, "Hello, world", "--json"])
        #expect(j.out == "{\"tokens\":[15496,11,995]}\n")
        let s = try runGPT(["tokenize", "--model", gpt2TokenizerPath, "-"], stdin: "Ünïcödé 😀\n")
        let ids = s.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let back = try runGPT(["detokenize", "--model", gpt2TokenizerPath, "--tokens", ids])
        #expect(back.status == 0 && back.out == "Ünïcödé 😀\n\n", "\(back)")
        let bj = try runGPT(["detokenize", "--model", gpt2TokenizerPath, "--tokens", "15496,11,995", "--json"])
        #expect(bj.out == "{\"text\":\"Hello, world\"}\n")
        expectFailure(try runGPT(["detokenize", "--model", gpt2TokenizerPath, "--tokens", "50257"]), code: 65,
                      "token id 50257 is outside the vocabulary")
        expectFailure(try runGPT(["tokenize", "--model", tinyModel, "hi"]), code: 66,
                      "no tokenizer: tokenizer.json, or vocab.json and merges.txt (or encoder.json and vocab.bpe), are missing")
    }

    @Test func generateFromAPrompt() throws {
        let dir = try textModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["generate", "--model", dir.path, "--prompt", "the cat", "--max-new-tokens", "12", "--ignore-eos"]
        let j = try runGPT(args + ["--json"])
        #expect(j.status == 0, "stderr: \(j.err)")
        let object = try JSONSerialization.jsonObject(with: Data(j.out.utf8)) as! [String: Any]
        let completion = try #require(object["completion"] as? String)
        #expect(object["text"] as? String == "the cat" + completion)
        let tokenizer = try BPETokenizer(directory: dir)
        let newTokens = try #require(object["new_tokens"] as? [Int])
        #expect(newTokens.count == 12)
        #expect(try tokenizer.decode(newTokens) == completion)
        #expect(object["tokens"] as? [Int] == tokenizer.encode("the cat") + newTokens)
        // As text: the prompt, then the completion as it streams, then a newline.
        let t = try runGPT(args)
        #expect(t.status == 0 && t.out == "the cat" + completion + "\n", "\(t)")
        // The prompt from standard input.
        let s = try runGPT(["generate", "--model", dir.path, "--prompt", "-", "--max-new-tokens", "12", "--ignore-eos"], stdin: "the cat")
        #expect(s.out == t.out)
        // logits on text: the same ids as tokenize gives.
        let l = try runGPT(["logits", "--model", dir.path, "--prompt", "the cat", "--json"])
        let lo = try JSONSerialization.jsonObject(with: Data(l.out.utf8)) as! [String: Any]
        #expect(lo["tokens"] as? [Int] == tokenizer.encode("the cat"))
        let table = try runGPT(["logits", "--model", dir.path, "--prompt", "the cat"])
        // Tokens shown as text: "the" is t + he here (this vocabulary has no merge for t + he).
        #expect(table.status == 0 && table.out.contains("257 \"he\"") && table.out.contains("32 \" \""), "\(table.out)")
    }

    @Test func stopsAtEndOfText() throws {
        let dir = try textModel(endOfTextWins: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runGPT(["generate", "--model", dir.path, "--prompt", "in the", "--max-new-tokens", "5", "--json"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let eot = try BPETokenizer(directory: dir).endOfText!
        #expect(object["new_tokens"] as? [Int] == [eot] && object["completion"] as? String == "")
        #expect(r.err.contains("stopped at the end-of-text token after 1 tokens"), "stderr: \(r.err)")
        let all = try runGPT(["generate", "--model", dir.path, "--prompt", "in the", "--max-new-tokens", "3", "--ignore-eos"])
        #expect(all.out == "in the<|endoftext|><|endoftext|><|endoftext|>\n", "\(all)")
        // With --tokens, the directory's tokenizer still marks the end of text.
        let ids = try runGPT(["generate", "--model", dir.path, "--tokens", "1,2", "--max-new-tokens", "5", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(ids.out.utf8)) as! [String: Any])["new_tokens"] as? [Int] == [eot])
    }

    @Test func inputErrors() throws {
        let dir = try textModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        expectFailure(try runGPT(["generate", "--model", dir.path]), code: 64, "give exactly one of --tokens IDS and --prompt TEXT")
        expectFailure(try runGPT(["generate", "--model", dir.path, "--tokens", "1", "--prompt", "a"]), code: 64, "give exactly one of")
        expectFailure(try runGPT(["generate", "--model", dir.path, "--prompt", ""]), code: 65, "no input tokens")
        expectFailure(try runGPT(["generate", "--model", tinyModel, "--prompt", "hi"]), code: 66,
                      "no tokenizer: tokenizer.json, or vocab.json and merges.txt (or encoder.json and vocab.bpe), are missing")
        // A tokenizer from another model.
        let mixed = FileManager.default.temporaryDirectory.appendingPathComponent("swiftattention-mixed-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: tinyDirectory, to: mixed)
        defer { try? FileManager.default.removeItem(at: mixed) }
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(at: dir.appendingPathComponent(name), to: mixed.appendingPathComponent(name))
        }
        expectFailure(try runGPT(["logits", "--model", mixed.path, "--prompt", "hi"]), code: 65, "the tokenizer has 262 tokens but the model 97")
    }
}

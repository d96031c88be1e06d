import Foundation
import SwiftAttention
import Testing

/// The README's code, verbatim, so a change that breaks it breaks the build.
/// `readmeMatricesMatch` checks the README still holds exactly this text.
func readmeMatricesExample() throws {
    // README example: matrices begin
let a = Matrix([[1, 2, 3],
                [4, 5, 6]])                         // [2, 3]
let w = Matrix.random(rows: 3, cols: 4, seed: 42)   // [3, 4], standard normal, reproducible
let y = a.matmul(w)                                 // [2, 4] on Backend.default (OpenBLAS)
let ySwift = a.matmul(w, backend: .swift)           // the same product in pure Swift

// The general form: c = alpha · a·w + beta · c, into a reused buffer.
var c = Matrix.zeros(rows: 2, cols: 4)
Matrix.multiply(a, w, alpha: 2, beta: 0, into: &c)

let x = try solve(Matrix([[2, 1], [5, 3]]), Matrix([[3], [8]]))   // [[1], [1]]
let det = try Matrix([[2, 1], [5, 3]]).determinant()             // 1
print(y, ySwift, c, x, det)
    // README example: matrices end
}

func readmeModelsExample() throws {
    // README example: models begin
let x = Matrix.random(rows: 4, cols: 8, seed: 1)         // [n_seq, n_embd] = [4, 8]
let norm = try LayerNorm(width: 8)                        // gain 1, bias 0, eps 1e-5
let attention = GPT.handmade.blocks[0].attn               // c_attn [8, 24], c_proj [8, 8], 1 head
let y = attention(norm(x))                                // [4, 8] on Backend.default
let p = Softmax()(y, backend: .swift)                     // [4, 8], rows sum to 1

let gpt = GPT.handmade                                    // the built-in "aab" preset
let tokenizer = CharacterTokenizer.handmade               // a = 0, b = 1
let logits = try gpt(tokenizer.encode("aab"))             // [3, 2]
let next = try gpt.greedyContinuation(of: tokenizer.encode("aab"), count: 10)
print(try tokenizer.decode(next))                         // aabaabaaba

let json = try JSONEncoder().encode(gpt)                  // picoGPT's layout
let decoded = try GPT(json: json)                         // shapes checked, errors name the field
print(p, logits, decoded == gpt)
    // README example: models end
}

/// Compiled, not run: it needs a real checkpoint directory.
func readmeCheckpointExample() throws {
    // README example: checkpoints begin
let gpt = try GPT(directory: URL(fileURLWithPath: "/path/to/gpt2"))  // weights: .both (see --weights)
let logits = try gpt([15496, 11, 995])                             // [3, 50257]
let result = try gpt.generate([15496, 11], maxNewTokens: 20, sampler: .greedy)
for p in gpt.parameters.prefix(3) { print(p.name, p.shape, p.storage) }   // wte.weight [50257, 768] float32, …
try gpt.save(directory: URL(fileURLWithPath: "/tmp/copy"))         // config.json + model.safetensors
print(logits.rows, result.newTokens, result.decodeSeconds, gpt.byteCount)
    // README example: checkpoints end
}

/// The lines between `// README example: NAME begin` and `end` in this file.
func exampleSource(_ name: String, in file: String) throws -> String {
    let text = try String(contentsOfFile: file, encoding: .utf8)
    let lines = text.components(separatedBy: "\n")
    let start = lines.firstIndex { $0.contains("// README example: \(name) begin") }!
    let end = lines.firstIndex { $0.contains("// README example: \(name) end") }!
    return lines[(start + 1)..<end].joined(separator: "\n")
}

/// The README.md at the repo root.
let readmePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md").path

@Suite("README examples")
struct ReadmeExampleTests {
    @Test func readmeMatricesMatchAndRun() throws {
        let source = try exampleSource("matrices", in: #filePath)
        let readme = try String(contentsOfFile: readmePath, encoding: .utf8)
        #expect(readme.contains("import SwiftAttention\n\n" + source + "\n```"), "README's matrix example differs from the compiled copy")
        try readmeMatricesExample()
    }

    @Test func readmeCheckpointExampleMatches() throws {
        let source = try exampleSource("checkpoints", in: #filePath)
        let readme = try String(contentsOfFile: readmePath, encoding: .utf8)
        #expect(readme.contains("```swift\n" + source + "\n```"), "README's checkpoint example differs from the compiled copy")
    }

    @Test func readmeModelsMatchAndRun() throws {
        let source = try exampleSource("models", in: #filePath)
        let readme = try String(contentsOfFile: readmePath, encoding: .utf8)
        #expect(readme.contains("import SwiftAttention\n\n" + source + "\n```"), "README's model example differs from the compiled copy")
        try readmeModelsExample()
    }
}

import Foundation
import SwiftAttention
import Testing

/// The README's and the DocC articles' code, verbatim, so a change that breaks
/// it breaks the build; each test checks its document still holds exactly this text.
func libraryExample() throws {
    // Documentation example: library begin
let a = Matrix([[1, 2, 3], [4, 5, 6]])                       // [2, 3], Double
let w = Matrix.random(rows: 3, cols: 4, seed: 42)            // [3, 4], reproducible
let y = a.matmul(w)                                          // [2, 4] on OpenBLAS
let z = a.matmul(w, backend: .swift)                         // the same product in pure Swift

let norm = try RMSNorm(width: 4)                             // an operation: typed, Codable, callable on x
print(norm(y), z)                                            // [2, 4]

let directory = URL(fileURLWithPath: "Models/shakespeare-llama")
let model = try GPT(directory: directory, dtype: .float32)   // config.json + model.safetensors
let tokenizer = try BPETokenizer(directory: directory)       // tokenizer.json
let sampler = try Sampler(temperature: 0.8, topK: 40)
let result = try model.generate(tokenizer.encode("ROMEO:"), maxNewTokens: 40, sampler: sampler, seed: 1)
print(try tokenizer.decode(result.tokens))                   // ROMEO: …
    // Documentation example: library end
}

func matricesExample() throws {
    // Documentation example: matrices begin
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
    // Documentation example: matrices end
}

func modelsExample() throws {
    // Documentation example: models begin
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
    // Documentation example: models end
}

/// Compiled, not run: it needs a real checkpoint directory.
func checkpointExample() throws {
    // Documentation example: checkpoints begin
let gpt = try GPT(directory: URL(fileURLWithPath: "/path/to/gpt2"))  // weights: .both (see --weights)
let logits = try gpt([15496, 11, 995])                             // [3, 50257]
let result = try gpt.generate([15496, 11], maxNewTokens: 20, sampler: .greedy)
for p in gpt.parameters.prefix(3) { print(p.name, p.shape, p.storage) }   // wte.weight [50257, 768] float32, …
try gpt.save(directory: URL(fileURLWithPath: "/tmp/copy"))         // config.json + model.safetensors
print(logits.rows, result.newTokens, result.decodeSeconds, gpt.byteCount)
    // Documentation example: checkpoints end
}

/// The lines between `// README example: NAME begin` and `end` in this file.
func exampleSource(_ name: String, in file: String) throws -> String {
    let text = try String(contentsOfFile: file, encoding: .utf8)
    let lines = text.components(separatedBy: "\n")
    let start = lines.firstIndex { $0.contains("// Documentation example: \(name) begin") }!
    let end = lines.firstIndex { $0.contains("// Documentation example: \(name) end") }!
    return lines[(start + 1)..<end].joined(separator: "\n")
}

/// A file of the repository, by its path from the root.
func repositoryFile(_ path: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
}

@Suite("The documentation's examples compile, run, and are the documents' text")
struct DocumentationExampleTests {
    /// Runs from the repository root (as `swift test` and `scripts/test` do): the example loads a shipped model.
    @Test func readmeLibraryExample() throws {
        let source = try exampleSource("library", in: #filePath)
        #expect(try repositoryFile("README.md").contains("import Foundation\nimport SwiftAttention\n\n" + source + "\n```"),
                "README's library example differs from the compiled copy")
        try #require(FileManager.default.fileExists(atPath: "Models/shakespeare-llama/config.json"), "run from the repository root")
        try libraryExample()
    }

    @Test func matricesArticleExample() throws {
        let source = try exampleSource("matrices", in: #filePath)
        #expect(try repositoryFile("Sources/LinearAlgebra/LinearAlgebra.docc/GettingStarted.md").contains("import SwiftAttention\n\n" + source + "\n```"),
                "the LinearAlgebra article's example differs from the compiled copy")
        try matricesExample()
    }

    @Test func modelsArticleExamples() throws {
        let article = try repositoryFile("Sources/Transformer/Transformer.docc/GettingStarted.md")
        #expect(article.contains("import SwiftAttention\n\n" + (try exampleSource("models", in: #filePath)) + "\n```"),
                "the Transformer article's model example differs from the compiled copy")
        #expect(article.contains("```swift\n" + (try exampleSource("checkpoints", in: #filePath)) + "\n```"),
                "the Transformer article's checkpoint example differs from the compiled copy")
        try modelsExample()
    }
}

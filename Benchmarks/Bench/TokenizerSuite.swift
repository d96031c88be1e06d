import CommandSupport
import Foundation
import SwiftAttention

/// The repo's root, from this file's place in it.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// GPT-2's byte-level BPE encoding 1 MB of English (Benchmarks/Data/english-1mb.txt),
/// one call on one thread; `tiny` encodes its first 20 kB.
func tokenizerSuite(_ ctx: Context) throws -> [Row] {
    progress("tokenizer: loading GPT-2's vocabulary")
    let tokenizer = try BPETokenizer(directory: repoRoot.appendingPathComponent("Tests/Fixtures/gpt2-tokenizer"))
    var text = try String(contentsOf: repoRoot.appendingPathComponent("Benchmarks/Data/english-1mb.txt"), encoding: .utf8)
    if ctx.scale == .tiny { text = String(text.utf8.prefix(20_000))! }
    let bytes = text.utf8.count
    var count = 0
    progress("tokenizer: encoding \(bytes) bytes")
    let time = measure(ctx.effort) { count = tokenizer.encode(text).count }
    return [Row(suite: "tokenizer", name: "encode", backend: "-", threads: 1,
                shape: "\(bytes / 1000) kB English, \(count) tokens", median: time.median, min: time.min,
                gbytesPerSecond: Double(bytes) / time.median / 1e9)]
}

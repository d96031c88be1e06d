import Foundation
import SwiftAttention
import TestSupport
import Testing

/// The tiny checkpoint with every weight as `Double`, loaded once on first use:
/// a missing or broken fixture fails the suites that use it, not the run.
let tinyLoad = Result { try GPT(directory: tinyDirectory, weights: .float64) }

/// A fresh temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftattention-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("GPT-2 checkpoints: loading, KV cache, generation")
struct CheckpointTests {
    let tiny: GPT
    let tinyExpected: TinyGPT2Expected
    init() throws {
        tiny = try tinyLoad.get()
        tinyExpected = try tinyExpectedLoad.get()
    }

    @Test func config() {
        #expect(tiny.config == GPTConfig(nCtx: 32, nVocab: 97, nEmbd: 64, nHead: 4, nLayer: 2))
        #expect(tiny.parameterCount == tinyExpected.parameter_count)
    }

    @Test(arguments: Backend.allCases)
    func logitsMatchNumPy(backend: Backend) throws {
        expectClose(try tiny(tinyExpected.prompt, backend: backend), tinyExpected.logits, relative: 1e-9, "full forward")
        var logits = Matrix.zeros(rows: 1, cols: 1)
        try tiny.forward(tinyExpected.prompt, cache: try KVCache(config: tiny.config), logits: &logits, allPositions: true, backend: backend)
        expectClose(logits, tinyExpected.logits, relative: 1e-9, "cached forward")
    }

    @Test(arguments: Backend.allCases)
    func greedyTokensExact(backend: Backend) throws {
        var streamed: [Int] = []
        let g = try tiny.generate(tinyExpected.prompt, maxNewTokens: tinyExpected.greedy.count, backend: backend) { streamed.append($0) }
        #expect(g.newTokens == tinyExpected.greedy)
        #expect(streamed == tinyExpected.greedy)
        #expect(g.tokens == tinyExpected.prompt + tinyExpected.greedy)
    }

    @Test(arguments: Backend.allCases)
    func cachedDecodeEqualsRecompute(backend: Backend) throws {
        let cache = try KVCache(config: tiny.config)
        var logits = Matrix.zeros(rows: 1, cols: tiny.config.nVocab)
        var tokens = Array(tinyExpected.prompt.prefix(3))
        try tiny.forward(tokens, cache: cache, logits: &logits, backend: backend)
        for next in [5, 17, 96, 0, 42, 8, 8, 8] {
            let full = try tiny(tokens, backend: backend)
            expectClose(logits, full.slicingRows(full.rows - 1 ..< full.rows), relative: 1e-9, "after \(tokens.count) tokens")
            tokens.append(next)
            try tiny.forward([next], cache: cache, logits: &logits, backend: backend)
        }
        #expect(cache.count == tokens.count)
        // Past the context: a clear error, and the cache is left as it was.
        let filled = try KVCache(config: tiny.config)
        try tiny.forward(Array(repeating: 1, count: 32), cache: filled, logits: &logits, backend: backend)
        #expect(throws: InputError.contextOverflow(count: 33, context: 32)) {
            try tiny.forward([1], cache: filled, logits: &logits, backend: backend)
        }
        #expect(filled.count == 32)
    }

    /// The context policy: the model sees the last n_ctx tokens, whether the prompt
    /// is longer than the context or the generation outgrows it.
    @Test(arguments: Backend.allCases)
    func slidingWindowPastTheContext(backend: Backend) throws {
        func reference(_ prompt: [Int], _ count: Int) throws -> [Int] {
            var text = prompt
            for _ in 0..<count {
                let logits = try tiny(Array(text.suffix(32)), backend: backend)
                text.append(logits[row: logits.rows - 1].indices.max { logits[logits.rows - 1, $0] < logits[logits.rows - 1, $1] }!)
            }
            return Array(text.dropFirst(prompt.count))
        }
        let g = try tiny.generate(tinyExpected.prompt, maxNewTokens: 40, backend: backend)
        #expect(g.newTokens == (try reference(tinyExpected.prompt, 40)))
        #expect(g.windowRecomputations == tinyExpected.prompt.count + 39 - 32)
        let long = (0..<45).map { ($0 * 13) % 97 }
        let h = try tiny.generate(long, maxNewTokens: 3, backend: backend)
        #expect(h.newTokens == (try reference(long, 3)))
        #expect(h.tokens.count == 48)
        #expect(try tiny.greedyContinuation(of: long, count: 3, backend: backend) == h.newTokens)
    }

    @Test func generationChecksItsInputFirst() throws {
        #expect(throws: InputError.empty) { try tiny.generate([], maxNewTokens: 3) }
        #expect(throws: InputError.tokenOutOfRange(token: 97, vocabularySize: 97)) { try tiny.generate([97], maxNewTokens: 3) }
        #expect(throws: InputError.tokenOutOfRange(token: -1, vocabularySize: 97)) { try tiny.generate([-1] + Array(repeating: 1, count: 40), maxNewTokens: 3) }
        #expect(throws: ModelError.self) { try tiny.generate([1], maxNewTokens: -1) }
        #expect(throws: ModelError.self) { try tiny.generate([1, 2, 3], maxNewTokens: 5, cache: KVCache(config: tiny.config, capacity: 4)) }
        // No overflow, no huge allocation: the work is bounded by what is generated, not by the request.
        #expect(try tiny.generate([1], maxNewTokens: 0).newTokens.isEmpty)
        let stop = tinyExpected.greedy[2], upToStop = Array(tinyExpected.greedy.prefix { $0 != stop }) + [stop]
        #expect(try tiny.generate(tinyExpected.prompt, maxNewTokens: Int.max, stopTokens: [stop]).newTokens == upToStop)
    }

    @Test func samplingIsReproducibleFromTheSeed() throws {
        let warm = try Sampler(temperature: 1.5, topK: 20, topP: 0.95)
        let a = try tiny.generate(tinyExpected.prompt, maxNewTokens: 15, sampler: warm, seed: 7)
        let b = try tiny.generate(tinyExpected.prompt, maxNewTokens: 15, sampler: warm, seed: 7)
        let c = try tiny.generate(tinyExpected.prompt, maxNewTokens: 15, sampler: warm, seed: 8)
        #expect(a.newTokens == b.newTokens)
        #expect(a.newTokens != c.newTokens)
        let topOne = try tiny.generate(tinyExpected.prompt, maxNewTokens: 12, sampler: Sampler(temperature: 2, topK: 1), seed: 3)
        #expect(topOne.newTokens == tinyExpected.greedy)
        let narrow = try tiny.generate(tinyExpected.prompt, maxNewTokens: 12, sampler: Sampler(temperature: 1, topP: 1e-9), seed: 3)
        #expect(narrow.newTokens == tinyExpected.greedy)
    }

    @Test func samplerFollowsTheDistribution() throws {
        // logits ln(1), ln(3): the second token should come up about 3/4 of the time.
        let logits = [0.0, Foundation.log(3.0)]
        var g = SeededGenerator(seed: 1)
        let sampler = try Sampler(temperature: 1)
        let hits = try (0..<20_000).filter { _ in try logits.withUnsafeBufferPointer { try sampler.sample($0, using: &g) } == 1 }.count
        #expect(abs(Double(hits) / 20_000 - 0.75) < 0.02)
        #expect(throws: ModelError.self) { try Sampler(temperature: -1) }
        #expect(throws: ModelError.self) { try Sampler(topK: 0) }
        #expect(throws: ModelError.self) { try Sampler(topP: 1.5) }
        // A sampler limited to the first ids never picks past them, greedy or not (a padded vocabulary).
        let padded = [0.0, 1, 2, 50, 60]
        for limited in [Sampler.greedy, try Sampler(temperature: 1), try Sampler(temperature: 5, topK: 4)].map({ $0.choosing(amongFirst: 3) }) {
            let picks = try (0..<500).map { _ in try padded.withUnsafeBufferPointer { try limited.sample($0, using: &g) } }
            #expect(picks.allSatisfy { $0 < 3 } && (limited.temperature > 0 || picks.allSatisfy { $0 == 2 }))
        }
        // No value to choose from, or a NaN that would pick a token silently: an error, not a trap or a guess.
        for bad in [[], [0.5, .nan, 1], [1, .infinity]] as [[Double]] {
            #expect(throws: ModelError.self) { try bad.withUnsafeBufferPointer { try Sampler.greedy.sample($0, using: &g) } }
        }
    }

    @Test func saveAndLoadRoundTrip() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try tiny.save(directory: dir.appendingPathComponent("f64"), dtype: .float64)
        #expect(try GPT(directory: dir.appendingPathComponent("f64"), weights: .float64) == tiny)
        // The fixture's weights are float32 values, so F32 round-trips exactly too.
        try tiny.save(directory: dir.appendingPathComponent("f32"), dtype: .float32)
        #expect(try GPT(directory: dir.appendingPathComponent("f32"), weights: .float64) == tiny)
        // Hugging Face's other naming: every tensor under `transformer.`, plus a tied lm_head.
        let prefixed = dir.appendingPathComponent("prefixed")
        try FileManager.default.createDirectory(at: prefixed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: tinyDirectory.appendingPathComponent("config.json"), to: prefixed.appendingPathComponent("config.json"))
        var tensors = try tiny.checkpointTensors().map { (name: "transformer." + $0.name, shape: $0.shape, values: $0.values) }
        tensors.append((name: "lm_head.weight", shape: [97, 64], values: tiny.wte.matrix.elements))
        try SafetensorsFile.write(tensors, dtype: .float32, to: prefixed.appendingPathComponent("model.safetensors"))
        #expect(try GPT(directory: prefixed, weights: .float64) == tiny)
    }

    @Test func halfPrecisionDTypes() throws {
        // 1.0, -2.5, 65504 and the smallest subnormal in F16; 1.0, -2.5, 3.140625 in BF16.
        let f16: [UInt16] = [0x3C00, 0xC100, 0x7BFF, 0x0001]
        let bf16: [UInt16] = [0x3F80, 0xC020, 0x4049]
        let file = try SafetensorsFile(data: rawFile(
            #"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]}}"#,
            bytes: (f16 + bf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }), name: "half.safetensors")
        #expect(try file.doubles("a") == [1, -2.5, 65504, 0x1p-24])
        #expect(try file.doubles("b") == [1, -2.5, 3.140625])
    }

    /// A linear layer's weights are read straight into their transposed layout:
    /// the same matrices as a row-major read, for every dtype and precision, also
    /// when a file is read in chunks that end mid-row ([1100, 1001] F32 is more
    /// than one 4 MiB chunk).
    @Test func transposedReadsEqualRowMajorReads() throws {
        var g = SeededGenerator(seed: 7)
        let floats = (0..<1100 * 1001).map { _ in Double(Float.random(in: -1...1, using: &g)) }
        let inexact = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors"), wide = dir.appendingPathComponent("wide.safetensors")
        try SafetensorsFile.write([("big", [1100, 1001], floats)], dtype: .float32, to: url)
        try SafetensorsFile.write([("exact", [2, 3], [1, -2, 0.5, 3, 4, -0.25]), ("inexact", [3, 2], inexact)], dtype: .float64, to: wide)
        let half = try SafetensorsFile(data: rawFile(
            #"{"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[3,2],"data_offsets":[12,24]}}"#,
            bytes: ([0x3C00, 0xC100, 0x7BFF, 0x0001, 0x3800, 0] + [0x3F80, 0xC020, 0x4049, 0, 0x3F00, 0xBF80] as [UInt16])
                .flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }), name: "half.safetensors")
        let cases = [(try SafetensorsFile(url: url), "big"), (try SafetensorsFile(url: wide), "exact"),
                     (try SafetensorsFile(url: wide), "inexact"), (half, "h"), (half, "b")]
        for (file, name) in cases {
            let shape = file.tensors[name]!.shape, values = try file.doubles(name)
            for precision in wideStorages {
                let rowMajor = try file.weightMatrix(name, shape: shape, precision: precision)
                let transposed = try file.weightMatrix(name, shape: shape, precision: precision, floatsTransposed: true)
                #expect(transposed.floatsTransposed && !rowMajor.floatsTransposed, "\(name) \(precision)")
                #expect(transposed == rowMajor && transposed.precision == rowMajor.precision, "\(name) \(precision)")
                #expect(transposed.matrix.elements == values, "\(name) \(precision)")
            }
            // Narrow storages, read a chunk of lines at a time (rows, or columns of the file),
            // equal the file's values narrowed in the layout kept.
            let reference = WeightMatrix(Matrix(rows: shape[0], cols: shape[1], elements: values), precision: .float64)
            for precision in [WeightMatrix.Precision.bfloat16, .int8] {
                #expect(try file.weightMatrix(name, shape: shape, precision: precision) == reference.stored(as: precision), "\(name) \(precision)")
                #expect(try file.weightMatrix(name, shape: shape, precision: precision, floatsTransposed: true)
                        == reference.transposingFloats().stored(as: precision), "\(name) \(precision) transposed")
            }
        }
        #expect(try SafetensorsFile(url: wide).weightMatrix("inexact", shape: [3, 2], precision: .float32).precision == .float64)
    }
}

/// A safetensors file from a header string and data bytes.
func rawFile(_ header: String, bytes: [UInt8], headerLength: UInt64? = nil) -> Data {
    var data = Data()
    withUnsafeBytes(of: (headerLength ?? UInt64(header.utf8.count)).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: Array(header.utf8))
    data.append(contentsOf: bytes)
    return data
}

/// The error message from opening `data` as a safetensors file.
func openError(_ data: Data) -> String? {
    do {
        _ = try SafetensorsFile(data: data, name: "m.safetensors")
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite("Malformed checkpoints are rejected with a message")
struct MalformedCheckpointTests {
    let tiny: GPT
    init() throws {
        tiny = try tinyLoad.get()
    }

    let ok = #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    @Test func wellFormedControl() throws {
        #expect(openError(rawFile(ok, bytes: Array(repeating: 0, count: 8))) == nil)
    }

    @Test func headerProblems() {
        #expect(openError(Data([1, 2, 3])) == "m.safetensors: file is 3 bytes, too short for the 8-byte header length")
        #expect(openError(rawFile(ok, bytes: [], headerLength: 5000)) == "m.safetensors: header length 5000 runs past the end of the 62-byte file (truncated?)")
        #expect(openError(rawFile(ok, bytes: [], headerLength: 200_000_000)) == "m.safetensors: header length 200000000 exceeds the 100000000-byte limit")
        #expect(openError(rawFile("{not json", bytes: [])) == "m.safetensors: header is not a JSON object")
        #expect(openError(rawFile("[1, 2]", bytes: [])) == "m.safetensors: header is not a JSON object")
    }

    @Test func tensorProblems() {
        #expect(openError(rawFile(#"{"t":{"dtype":"F128","shape":[2],"data_offsets":[0,8]}}"#, bytes: Array(repeating: 0, count: 8)))
                == #"m.safetensors: tensor t: unknown dtype "F128""#)
        #expect(openError(rawFile(#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, bytes: Array(repeating: 0, count: 8)))
                == "m.safetensors: tensor t: shape [3] of F32 needs 12 bytes, but data_offsets span 8")
        #expect(openError(rawFile(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, bytes: Array(repeating: 0, count: 8)))
                == "m.safetensors: tensor t: data_offsets [0, 16] are out of range for a 8-byte data buffer")
        #expect(openError(rawFile(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, bytes: Array(repeating: 0, count: 8)))
                == "m.safetensors: tensor t: data_offsets [8, 0] are out of range for a 8-byte data buffer")
        #expect(openError(rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, bytes: Array(repeating: 0, count: 12)))
                == "m.safetensors: tensor b: data_offsets overlap another tensor's bytes")
        #expect(openError(rawFile(ok, bytes: Array(repeating: 0, count: 12)))
                == "m.safetensors: bytes 8..<12 of the data buffer belong to no tensor")
        #expect(openError(rawFile(#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, bytes: Array(repeating: 0, count: 8)))
                == "m.safetensors: tensor t: bytes 0..<4 of the data buffer belong to no tensor")
        #expect(openError(rawFile(#"{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, bytes: Array(repeating: 0, count: 8)))
                == "m.safetensors: tensor t: shape must be an array of non-negative integers")
        #expect(openError(rawFile(#"{"t":{"dtype":"F32","shape":[4611686018427387904, 4],"data_offsets":[0,8]}}"#, bytes: Array(repeating: 0, count: 8)))?
                .contains("needs too many bytes") == true)
    }

    @Test func truncatedRealFile() throws {
        let full = try Data(contentsOf: tinyDirectory.appendingPathComponent("model.safetensors"))
        for cut in [7, 100, full.count / 2, full.count - 1] {
            #expect(openError(full.prefix(cut)) != nil, "a file cut to \(cut) bytes was accepted")
        }
    }

    /// A copy of the tiny model directory with `edit` applied to its tensors.
    func brokenModel(_ edit: (inout [(name: String, shape: [Int], values: [Double])]) -> Void) throws -> String? {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var tensors = try tiny.checkpointTensors()
        edit(&tensors)
        try FileManager.default.copyItem(at: tinyDirectory.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        try SafetensorsFile.write(tensors, dtype: .float32, to: dir.appendingPathComponent("model.safetensors"))
        func loadError(_ load: () throws -> Void) -> String? {
            do {
                try load()
                return nil
            } catch {
                return "\(error)"
            }
        }
        // Every loader, into every storage, must refuse the file with the same message.
        let messages = WeightMatrix.Precision.allCases.map { p in loadError { _ = try GPT(directory: dir, weights: p, dtype: p.isNarrow ? .float32 : .float64) } }
        #expect(Set(messages).count == 1, "the loaders disagree: \(messages)")
        return messages[0]
    }

    @Test func missingAndMisshapenTensors() throws {
        #expect(try brokenModel { $0.removeAll { $0.name == "h.1.mlp.c_fc.bias" } } == "model.safetensors: tensor h.1.mlp.c_fc.bias: missing")
        #expect(try brokenModel { t in
            let i = t.firstIndex { $0.name == "h.0.attn.c_attn.weight" }!
            t[i] = (name: t[i].name, shape: [64, 191], values: Array(t[i].values.prefix(64 * 191)))
        } == "model.safetensors: tensor h.0.attn.c_attn.weight: expected shape [64, 192], found [64, 191]")
    }

    @Test func brokenDirectories() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: CheckpointError(file: dir.appendingPathComponent("nope").path, "no such model directory", kind: .missing)) {
            try GPT(directory: dir.appendingPathComponent("nope"))
        }
        #expect(throws: CheckpointError(file: dir.appendingPathComponent("config.json").path, "missing", kind: .missing)) {
            try GPT(directory: dir)
        }
        try Data(#"{"n_embd": 64}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        do {
            _ = try GPT(directory: dir)
            Issue.record("a config without n_ctx loaded")
        } catch {
            #expect("\(error)".hasSuffix("config.json: missing field n_ctx (or n_positions)"))
        }
        try FileManager.default.copyItem(at: tinyDirectory.appendingPathComponent("config.json"), to: dir.appendingPathComponent("c.json"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
        try FileManager.default.moveItem(at: dir.appendingPathComponent("c.json"), to: dir.appendingPathComponent("config.json"))
        #expect(throws: CheckpointError(file: dir.appendingPathComponent("model.safetensors").path, "missing", kind: .missing)) {
            try GPT(directory: dir)
        }
    }
}

@Suite("Corrupted checkpoints never crash")
struct CorruptionTests {
    @Test func randomByteFlipsInTheHeaderAndData() throws {
        let original = try Data(contentsOf: tinyDirectory.appendingPathComponent("model.safetensors"))
        let headerEnd = 8 + Int(original.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var g = SeededGenerator(seed: 2026)
        var rejected = 0, accepted = 0
        for trial in 0..<400 {
            var data = original
            // Mostly the header (where a flip changes meaning), sometimes the length or the data.
            let flips = 1 + Int(g.next() % 4)
            for _ in 0..<flips {
                let at = trial % 10 == 0 ? Int(g.next() % 8) : (trial % 10 == 1 ? headerEnd + Int(g.next() % UInt64(data.count - headerEnd)) : 8 + Int(g.next() % UInt64(headerEnd - 8)))
                data[at] = UInt8(truncatingIfNeeded: g.next())
            }
            do {
                let file = try SafetensorsFile(data: data, name: "fuzz.safetensors")
                // Whatever passed validation must read without trapping.
                for (name, info) in file.tensors where info.dtype.isFloatingPoint {
                    _ = try file.doubles(name)
                    if info.shape.count == 2 { _ = try file.weightMatrix(name, shape: info.shape, precision: .float32) }
                }
                accepted += 1
            } catch is CheckpointError {
                rejected += 1
            }
        }
        #expect(rejected > 0 && accepted + rejected == 400)
    }
}

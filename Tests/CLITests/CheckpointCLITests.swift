import Foundation
import LinearAlgebra
import TestSupport
import Testing

let tinyModel = tinyDirectory.path

@Suite("The gpt command: checkpoints", slowSuite)
struct CheckpointCLITests {
    let tinyExpected: TinyGPT2Expected
    init() throws {
        tinyExpected = try tinyExpectedLoad.get()
    }

    var expected: TinyGPT2Expected { tinyExpected }
    var promptArgument: String { expected.prompt.map(String.init).joined(separator: ",") }

    @Test func info() throws {
        let r = try runGPT(["info", "--model", tinyModel, "--json"])
        #expect(r.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(object["parameters"] as? Int == expected.parameter_count)
        #expect(object["weight_bytes"] as? Int == expected.parameter_count * 8)
        #expect(object["n_layer"] as? Int == 2 && object["n_head"] as? Int == 4)
        // Default storage (both): block matrices as Double and Float, embeddings as Float only.
        let blockWeights = 2 * (64 * 192 + 64 * 64 + 64 * 256 + 256 * 64), embeddings = 97 * 64 + 32 * 64
        let small = expected.parameter_count - blockWeights - embeddings
        #expect(object["stored_bytes"] as? Int == 12 * blockWeights + 4 * embeddings + 8 * small)
        #expect(object["float32_matrices"] as? Int == 10 && object["matrices"] as? Int == 10)
        let double = try runGPT(["info", "--model", tinyModel, "--json", "--weights", "float64"])
        let doubleObject = try JSONSerialization.jsonObject(with: Data(double.out.utf8)) as! [String: Any]
        #expect(doubleObject["stored_bytes"] as? Int == expected.parameter_count * 8)
        #expect(doubleObject["float32_matrices"] as? Int == 0)
        let text = try runGPT(["info", "--model", tinyModel])
        #expect(text.out.contains("parameters  \(expected.parameter_count)"))
        #expect(text.out.contains(": 2 float32 matrices \(4 * embeddings) bytes, 8 both matrices \(12 * blockWeights) bytes; vectors \(8 * small) bytes"))
        #expect(text.out.contains("; OpenBLAS kernels "))
        expectFailure(try runGPT(["info", "--model", tinyModel, "--weights", "half"]), code: 64, "--weights")
    }

    /// `--weights int8|bf16` with `--dtype float32`: sizes per storage, and
    /// usage errors for a combination a model cannot take.
    @Test func narrowWeights() throws {
        let blockWeights = 2 * (64 * 192 + 64 * 64 + 64 * 256 + 256 * 64), tokens = 97 * 64
        for (weights, bytes) in [("int8", (blockWeights + tokens) * 9 / 8), ("bf16", (blockWeights + tokens) * 2)] {
            let r = try runGPT(["info", "--model", tinyModel, "--json", "--dtype", "float32", "--weights", weights])
            #expect(r.status == 0, "stderr: \(r.err)")
            let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            let storage = try #require(object["storage"] as? [String: [String: Int]])
            #expect(storage[weights] == ["matrices": 9, "bytes": bytes] && storage["float32"] == ["matrices": 1, "bytes": 32 * 64 * 4])
            let generate = try runGPT(["generate", "--model", tinyModel, "--tokens", promptArgument, "--max-new-tokens", "4",
                                       "--dtype", "float32", "--weights", weights])
            #expect(generate.status == 0 && generate.err.contains("weights \(weights) (matrices: 1 float32, 9 \(weights))"), "stderr: \(generate.err)")
            expectFailure(try runGPT(["generate", "--model", tinyModel, "--tokens", "1", "--weights", weights]), code: 64,
                          "--weights \(weights) is for a model computing in float32: add --dtype float32")
            let inspect = try runGPT(["inspect", "--model", tinyModel, "--tokens", "1,2,3", "--dtype", "float32", "--weights", weights])
            #expect(inspect.status == 0 && inspect.out.contains("layer 1:"), "stderr: \(inspect.err)")
        }
        expectFailure(try runGPT(["info", "--model", tinyModel, "--dtype", "float32", "--weights", "both"]), code: 64,
                      "--weights both keeps Double weights, which --dtype float32 does not use")
        // The int8 kernel is named, and SWIFTATTENTION_INT8_KERNEL=swift picks the Swift one on any CPU.
        let info = try runGPT(["info", "--model", tinyModel, "--dtype", "float32", "--weights", "int8"])
        #expect(info.out.contains("int8        products") && (info.out.contains("AVX-512 VNNI") || info.out.contains("Swift SIMD")), "\(info.out)")
        let swift = try runGPT(["info", "--model", tinyModel, "--json", "--dtype", "float32", "--weights", "int8"],
                               environment: ProcessInfo.processInfo.environment.merging(["SWIFTATTENTION_INT8_KERNEL": "swift"]) { $1 })
        let kernel = (try JSONSerialization.jsonObject(with: Data(swift.out.utf8)) as? [String: Any])?["int8_kernel"] as? String
        #expect(kernel == "Swift SIMD", "\(swift.out)")
    }

    /// Generating with int8 weights on GPT-2 124M's shapes holds at most
    /// 1.15 × (int8 weights + scales + KV cache) + 50 MB resident at its peak: the
    /// loader narrows each tensor a chunk of lines at a time, never holding the
    /// model (0.5 GB) or a whole tensor (the embeddings: 154 MB) as Floats.
    @Test func int8PeakMemory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftattention-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try runGPT(["create-random", "--shape", "gpt2", "--output", dir.path, "--seed", "4"], timeout: 300)
        #expect(made.status == 0, "stderr: \(made.err)")
        let r = try runGPT(["generate", "--model", dir.path, "--tokens", "1,2,3", "--max-new-tokens", "16", "--dtype", "float32",
                            "--weights", "int8", "--json"], timeout: 300)
        #expect(r.status == 0, "stderr: \(r.err)")
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let weights = try #require(object["weights_bytes"] as? Int), cache = try #require(object["kv_cache_bytes"] as? Int)
        let peak = try #require(object["peak_rss_bytes"] as? Int)
        #expect(weights > 140_000_000 && weights < 145_000_000, "int8 GPT-2 124M: \(weights) bytes")
        #expect(Double(peak) <= 1.15 * Double(weights + cache) + 50e6, "peak RSS \(peak) bytes, weights \(weights), KV cache \(cache)")
    }

    /// Where OpenBLAS does not know the CPU and picks kernels without AVX, gpt
    /// re-runs itself with better ones; a user's OPENBLAS_CORETYPE is kept.
    @Test func openBLASKernels() throws {
        func kernels(_ environment: [String: String]) throws -> String {
            let r = try runGPT(["info", "--model", tinyModel, "--json"], environment: environment)
            #expect(r.status == 0, "stderr: \(r.err)")
            let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            return object["openblas_kernels"] as? String ?? ""
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = nil
        let chosen = try kernels(environment)
        #expect(OpenBLASKernels.suggestion(forKernels: chosen, cpuFlags: OpenBLASKernels.cpuFlags()) == nil,
                "gpt ran OpenBLAS's \(chosen) kernels on a CPU with AVX2")
        environment["OPENBLAS_CORETYPE"] = "Nehalem"
        #expect(try kernels(environment).lowercased() == "nehalem")
        // A user's Haswell on a CPU with AVX-512 is kept, and gpt says it leaves AVX-512 unused.
        environment["OPENBLAS_CORETYPE"] = "Haswell"
        let hasAVX512 = OpenBLASKernels.cpuFlags().isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])
        let info = try runGPT(["info", "--model", tinyModel], environment: environment)
        #expect(info.out.contains("OpenBLAS kernels Haswell (OPENBLAS_CORETYPE"))
        #expect(info.out.contains("unset OPENBLAS_CORETYPE or set it to SkylakeX") == hasAVX512)
        let generate = try runGPT(["generate", "--model", tinyModel, "--tokens", "1,2", "--max-new-tokens", "2"], environment: environment)
        #expect(generate.err.contains("OpenBLAS kernels Haswell (OPENBLAS_CORETYPE leaves AVX-512 unused") == hasAVX512, "stderr: \(generate.err)")
    }

    @Test(arguments: ["blas", "swift"], ["both", "float32", "float64"])
    func logitsJSON(backend: String, weights: String) throws {
        let r = try runGPT(["logits", "--model", tinyModel, "--tokens", promptArgument, "--json", "--backend", backend,
                            "--threads", "1", "--weights", weights])
        #expect(r.status == 0, "stderr: \(r.err)")
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["tokens", "logits"])
        #expect(object["tokens"] as? [Int] == expected.prompt)
        let logits = try #require(object["logits"] as? [[Double]])
        #expect(logits.count == expected.logits.rows)
        for (i, row) in logits.enumerated() {
            let want = expected.logits[row: i]
            for (a, b) in zip(row, want) { #expect(abs(a - b) <= 1e-9 * max(abs(b), 1)) }
        }
    }

    @Test(arguments: ["blas", "swift"])
    func float32(backend: String) throws {
        let logits = try runGPT(["logits", "--model", tinyModel, "--tokens", promptArgument, "--json", "--backend", backend, "--dtype", "float32"])
        #expect(logits.status == 0, "stderr: \(logits.err)")
        let object = try JSONSerialization.jsonObject(with: Data(logits.out.utf8)) as! [String: Any]
        let rows = try #require(object["logits"] as? [[Double]])
        let scale = expected.logits.elements.map(abs).max()!
        for (i, row) in rows.enumerated() {
            for (a, b) in zip(row, expected.logits[row: i]) { #expect(abs(a - b) <= 1e-4 * scale) }
        }
        let text = try runGPT(["generate", "--model", tinyModel, "--tokens", promptArgument, "--max-new-tokens",
                               "\(expected.greedy.count)", "--backend", backend, "--dtype", "float32"])
        #expect(text.out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } == expected.greedy)
        #expect(text.err.contains("dtype float32"))
        let info = try runGPT(["info", "--model", tinyModel, "--dtype", "float32", "--json"])
        let fields = try JSONSerialization.jsonObject(with: Data(info.out.utf8)) as! [String: Any]
        #expect(fields["dtype"] as? String == "float32")
        #expect(fields["float32_matrices"] as? Int == fields["matrices"] as? Int)
    }

    @Test(arguments: ["blas", "swift"], ["both", "float32", "float64"])
    func generateGreedy(backend: String, weights: String) throws {
        let args = ["generate", "--model", tinyModel, "--tokens", promptArgument, "--max-new-tokens", "\(expected.greedy.count)",
                    "--backend", backend, "--weights", weights]
        let text = try runGPT(args)
        #expect(text.status == 0, "stderr: \(text.err)")
        #expect(text.out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } == expected.greedy)
        #expect(text.err.contains("prefill") && text.err.contains("decode") && text.err.contains("tokens/s"))
        #expect(text.err.contains("weights \(weights) (matrices: \(["both": "2 float32, 8 both", "float32": "10 float32", "float64": "10 float64"][weights]!))"), "stderr: \(text.err)")
        let json = try runGPT(args + ["--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as! [String: Any]
        #expect(object["new_tokens"] as? [Int] == expected.greedy)
        #expect(object["tokens"] as? [Int] == expected.prompt + expected.greedy)
        for key in ["load_seconds", "prefill_seconds", "decode_seconds"] {
            #expect((object[key] as? Double ?? -1) >= 0, "\(key)")
        }
    }

    @Test(arguments: ["tiny", "small"])
    func createRandom(shape: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftattention-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try runGPT(["create-random", "--shape", shape, "--output", dir.path, "--seed", "2"])
        #expect(made.status == 0, "stderr: \(made.err)")
        let info = try runGPT(["info", "--model", dir.path, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(info.out.utf8)) as! [String: Any]
        #expect(object["n_embd"] as? Int == (shape == "tiny" ? 64 : 256))
        #expect(object["float32_matrices"] as? Int == object["matrices"] as? Int)   // random weights are Float values
        let bad = try runGPT(["create-random", "--shape", "huge", "--output", dir.path])
        expectFailure(bad, code: 64, "'huge' is invalid for '--shape")
    }

    @Test func samplingIsReproducible() throws {
        let args = ["generate", "--model", tinyModel, "--tokens", "1,2", "--max-new-tokens", "10",
                    "--temperature", "1.2", "--top-k", "40", "--top-p", "0.9", "--seed", "11", "--json"]
        let a = try runGPT(args), b = try runGPT(args)
        #expect(a.status == 0 && b.status == 0)
        func newTokens(_ out: String) throws -> [Int]? {
            (try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["new_tokens"] as? [Int]
        }
        #expect(try newTokens(a.out) == newTokens(b.out))
        #expect(try newTokens(a.out)?.count == 10)
    }

    @Test(arguments: [
        (["generate", "--model", tinyModel, "--tokens", "1,97"], 65, "token id 97 is outside the vocabulary"),
        (["generate", "--model", tinyModel, "--tokens", ""], 65, "no input tokens"),
        (["generate", "--model", tinyModel, "--tokens", "1,x"], 64, "'x' is not a token id"),
        (["generate", "--model", tinyModel, "--tokens", "1,99999999999999999999"], 64, "'99999999999999999999' is not a token id"),
        (["generate", "--model", tinyModel, "--tokens", "1", "--max-new-tokens", "-2"], 64, "--max-new-tokens must be in 0…1000000, got -2"),
        (["generate", "--model", tinyModel, "--tokens", "1", "--max-new-tokens", "9223372036854775807"], 64, "--max-new-tokens must be in 0…1000000"),
        (["generate", "--model", tinyModel, "--tokens", "1", "--top-p", "2"], 64, "--top-p must be in (0, 1], got 2.0"),
        (["generate", "--model", tinyModel, "--tokens", "1", "--top-k", "0"], 64, "--top-k must be in 1…"),
        (["generate", "--model", tinyModel, "--tokens", "1", "--temperature", "-1"], 64, "--temperature must be in 0.0…100.0, got -1.0"),
        (["generate", "--model", tinyModel, "--tokens", "1", "--temperature", "nan"], 64, "--temperature must be in 0.0…100.0, got nan"),
        (["generate", "--model", tinyModel, "--tokens", "1", "--seed", "-1"], 64, "'-1' is invalid for '--seed"),
        (["logits", "--model", "/no/such/model", "--tokens", "1"], 66, "/no/such/model: no such model directory"),
        (["logits", "--model", tinyModel, "--tokens", Array(repeating: "1", count: 33).joined(separator: ",")], 65,
         "33 tokens do not fit the model's context of 32 positions"),
        (["logits", "--model", tinyModel, "--tokens", "1", "--top", "0"], 64, "--top must be in 1…1000, got 0"),
        (["info", "--model", fixturesDirectory.path], 66, "config.json: missing"),
        (["info", "--model", tinyDirectory.appendingPathComponent("config.json").path], 74, "config.json: is not a directory"),
        (["logits", "--model", tinyModel, "--tokens", "1", "--threads", "0"], 64, "--threads must be in 1…"),
        (["logits", "--model", tinyModel, "--tokens", "1", "--dtype", "float32", "--weights", "float64"], 64, "which --dtype float32 does not use"),
        (["logits", "--model", tinyModel, "--tokens", "1", "--dtype", "float16"], 64, "'float16' is invalid for '--dtype"),
        (["info", "--model", tinyModel, "--threads", "2147483648"], 64, "--threads must be in 1…"),
        (["create-random", "--shape", "tiny", "--output", ""], 64, "--output must name a directory"),
        (["create-random", "--shape", "tiny", "--output", tinyDirectory.appendingPathComponent("config.json").path], 64, "is a file, not a directory"),
        (["create-random", "--shape", "tiny", "--output", "/proc/swiftattention-test"], 74, "/proc/swiftattention-test: cannot write"),
    ] as [([String], Int32, String)])
    func badInput(arguments: [String], code: Int32, message: String) throws {
        expectFailure(try runGPT(arguments), code: code, message)
    }

    /// A broken model file is bad data (65); a FIFO in its place is refused at once, not waited on (74).
    @Test func brokenAndSpecialModelFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftattention-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: tinyDirectory.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        let weights = dir.appendingPathComponent("model.safetensors")
        try Data("not a safetensors file".utf8).write(to: weights)
        expectFailure(try runGPT(["info", "--model", dir.path]), code: 65, "model.safetensors: header length")
        try FileManager.default.removeItem(at: weights)
        #expect(mkfifo(weights.path, 0o600) == 0)
        expectFailure(try runGPT(["info", "--model", dir.path], timeout: 20), code: 74, "model.safetensors: is not a regular file")
    }

    /// Past the context the window slides (the model sees the last n_ctx tokens), with a note on stderr.
    @Test func generatePastTheContext() throws {
        let r = try runGPT(["generate", "--model", tinyModel, "--tokens", "1,2,3", "--max-new-tokens", "40", "--json"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect((object["new_tokens"] as? [Int])?.count == 40)
        #expect(r.err.contains("outgrew the model's context of 32 tokens") && r.err.contains("10 steps re-ran"), "stderr: \(r.err)")
    }

    @Test func threadsFromTheEnvironment() throws {
        var env = ProcessInfo.processInfo.environment
        env["SWIFTATTENTION_NUM_THREADS"] = "1"
        let r = try runGPT(["generate", "--model", tinyModel, "--tokens", "1", "--max-new-tokens", "2"], environment: env)
        #expect(r.err.contains("1 threads"), "stderr: \(r.err)")
    }
}

@Suite("The bench executable", slowSuite)
struct BenchCLITests {
    @Test func tinyQuickJSON() throws {
        let r = try run(executable("bench"), ["--quick", "--tiny", "--json"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["suite"] as? String }) == ["gemm", "sgemm", "gemv", "sgemv", "ops", "model", "tokenizer"])
        for row in rows {
            for key in ["suite", "name", "backend", "shape"] { #expect(row[key] is String, "\(key) in \(row)") }
            #expect((row["threads"] as? Int ?? 0) > 0)
            for key in ["median_seconds", "min_seconds", "gflops", "gbytes_per_second", "tokens_per_second"] where row[key] != nil {
                #expect((row[key] as? Double ?? -1) > 0, "\(key) in \(row)")
            }
        }
        #expect(rows.contains { $0["gflops"] != nil } && rows.contains { $0["tokens_per_second"] != nil })
        #expect(rows.contains { $0["gbytes_per_second"] != nil })
        #expect(rows.contains { $0["backend"] as? String == "raw" })
        let bad = try run(executable("bench"), ["--filter", "nope"])
        #expect(bad.status != 0)
    }
}

@Suite("Fuzzing checkpoint loading", slowSuite)
struct FuzzTests {
    /// A fixed-seed slice of scripts/fuzz: 2,000 mutated checkpoints, each a model
    /// or a library error; a crash, a hang or a runaway allocation fails it.
    /// (scripts/test-sanitizers sets SWIFTATTENTION_SANITIZED: 200 cases there, each some 20 times slower.)
    @Test func fixedSeedSlice() throws {
        let cases = ProcessInfo.processInfo.environment["SWIFTATTENTION_SANITIZED"] == nil ? 2000 : 200
        let r = try run(executable("Fuzz"), ["--cases", "\(cases)", "--seed", "1"], timeout: 300)
        #expect(r.status == 0, "stderr: \(r.err)")
        #expect(r.out.hasPrefix("Fuzz: \(cases) cases"), "stdout: \(r.out)")
        #expect(r.out.contains("CheckpointError") && r.out.contains("loaded"), "stdout: \(r.out)")
    }
}

import CommandSupport
import COpenBLAS
import Foundation
import SwiftAttention

/// How big the problems are: `full` for reports, `quick` for a run under a
/// minute, `tiny` for the test suite (seconds, even in a debug build).
enum Scale: String, CaseIterable {
    case full, quick, tiny
}

/// Everything a suite needs to know about this run.
struct Context {
    var scale: Scale
    var effort: Effort
    var threadCounts: [Int]
    var backends: [Backend]
}

/// The [m, k] · [k, n] (or · [n, k]ᵀ) products the GEMM suite times.
func gemmShapes(_ scale: Scale) -> [(name: String, m: Int, k: Int, n: Int, transposeB: Bool)] {
    switch scale {
    case .full:
        return [64, 128, 256, 512, 1024].map { ("square", $0, $0, $0, false) } + [
            ("c_attn", 256, 768, 2304, false), ("c_fc", 256, 768, 3072, false),
            ("mlp.c_proj", 256, 3072, 768, false), ("logits", 1, 768, 50257, true),
        ]
    case .quick:
        return [64, 128, 256, 512].map { ("square", $0, $0, $0, false) } + [
            ("c_attn", 64, 768, 2304, false), ("c_fc", 64, 768, 3072, false),
            ("mlp.c_proj", 64, 3072, 768, false), ("logits", 1, 768, 50257, true),
        ]
    case .tiny:
        return [("square", 16, 16, 16, false), ("c_attn", 4, 48, 144, false), ("logits", 1, 48, 97, true)]
    }
}

/// Suite `gemm` (`Double`, raw `cblas_dgemm`) or `sgemm` (`Float`, raw `cblas_sgemm`):
/// the same shapes through `DenseMatrix.multiply` on each backend, beside the raw call.
func gemmSuite<S: MatrixScalar>(_ ctx: Context, _: S.Type) -> [Row] {
    let suite = S.self == Float.self ? "sgemm" : "gemm"
    var rows: [Row] = []
    for shape in gemmShapes(ctx.scale) {
        let (m, k, n) = (shape.m, shape.k, shape.n)
        let a = DenseMatrix<S>.random(rows: m, cols: k, seed: 1)
        let b = shape.transposeB ? DenseMatrix<S>.random(rows: n, cols: k, seed: 2) : DenseMatrix<S>.random(rows: k, cols: n, seed: 2)
        var c = DenseMatrix<S>.zeros(rows: m, cols: n)
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let label = "[\(m), \(k)]·[\(shape.transposeB ? "\(n), \(k)]ᵀ" : "\(k), \(n)]")"
        for t in ctx.threadCounts {
            try? LinearAlgebra.setThreadCount(t)   // in range: main checked --threads
            progress("\(suite) \(shape.name) \(label) threads \(t)")
            let peak = nominalPeakGFLOPS(threads: t).map { S.self == Float.self ? 2 * $0 : $0 }
            func row(_ backend: String, _ time: (median: Double, min: Double)) -> Row {
                var r = Row(suite: suite, name: shape.name, backend: backend, threads: t, shape: label,
                            median: time.median, min: time.min, gflops: flops / time.median / 1e9)
                if let peak { r.notes.append(String(format: "%.0f%% of peak", 100 * r.gflops! / peak)) }
                return r
            }
            // The raw row: cblas_dgemm or cblas_sgemm on the same buffers, no wrapper, no GEMV routing.
            let raw = {
                a.elements.withUnsafeBufferPointer { pa in
                    b.elements.withUnsafeBufferPointer { pb in
                        c.elements.withUnsafeMutableBufferPointer { pc in
                            rawGEMM(pa.baseAddress!, pb.baseAddress!, transposeB: shape.transposeB, ldb: b.cols,
                                    pc.baseAddress!, m: m, n: n, k: k)
                        }
                    }
                }
            }
            func ours(_ backend: Backend) { DenseMatrix<S>.multiply(a, b, transposeB: shape.transposeB, into: &c, backend: backend) }
            // raw and blas interleaved, so the wrapper's cost is measured like with like. The
            // swift runs go separately: OpenBLAS's threads spin for a while after each call and
            // would steal the core a following pure-Swift run wants.
            var blasTime: Double?
            if ctx.backends.contains(.blas) {
                let times = measureInterleaved(ctx.effort, [raw, { ours(.blas) }])
                rows.append(row("raw", times[0]))
                var r = row("blas", times[1])
                r.notes.append(String(format: "%.0f%% of raw", 100 * times[0].median / times[1].median))
                rows.append(r)
                blasTime = times[1].median
            } else {
                rows.append(row("raw", measure(ctx.effort, raw)))
            }
            if ctx.backends.contains(.swift) {
                var r = row("swift", measure(ctx.effort) { ours(.swift) })
                if let blasTime { r.notes.append(String(format: "swift/blas %.2f", blasTime / r.median)) }
                rows.append(r)
            }
        }
    }
    return rows
}

/// `C = A · op(B)` straight through `cblas_sgemm` or `cblas_dgemm`, row-major, contiguous.
func rawGEMM<S: MatrixScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, transposeB: Bool, ldb: Int,
                              _ c: UnsafeMutablePointer<S>, m: Int, n: Int, k: Int) {
    let tb = transposeB ? CblasTrans : CblasNoTrans
    if S.self == Float.self {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, Int32(m), Int32(n), Int32(k), 1,
                    UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(k),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int32(ldb), 0,
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int32(n))
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, tb, Int32(m), Int32(n), Int32(k), 1,
                    UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(k),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int32(ldb), 0,
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int32(n))
    }
}

/// The reference for products that stream weights: reading a large array
/// once (summing it), split across `LinearAlgebra.threadCount` threads.
struct StreamingRead {
    let values: [Double]
    init(_ ctx: Context) { values = [Double](repeating: 1, count: ctx.scale == .tiny ? 1 << 16 : 1 << 25) }
    var bytes: Int { values.count * 8 }

    /// One read of the whole array.
    func run() {
        let count = values.count, parts = KernelThreads.current
        var partial = [Double](repeating: 0, count: parts)
        values.withUnsafeBufferPointer { p in
            partial.withUnsafeMutableBufferPointer { out in
                parallelRanges(count, minimum: 1 << 12) { range in
                    // Four independent sums, so the adds overlap and the loads set the pace.
                    let raw = UnsafeRawPointer(p.baseAddress! + range.lowerBound)
                    var s0 = SIMD4<Double>(), s1 = s0, s2 = s0, s3 = s0
                    var offset = 0
                    let end = (range.count / 16) * 128
                    while offset < end {
                        s0 += raw.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
                        s1 += raw.loadUnaligned(fromByteOffset: offset + 32, as: SIMD4<Double>.self)
                        s2 += raw.loadUnaligned(fromByteOffset: offset + 64, as: SIMD4<Double>.self)
                        s3 += raw.loadUnaligned(fromByteOffset: offset + 96, as: SIMD4<Double>.self)
                        offset += 128
                    }
                    out[range.lowerBound * parts / count] += (s0 + s1 + s2 + s3).sum()
                }
            }
        }
        precondition(partial.reduce(0, +) > 0)
    }

    /// A table row for a read that took `median` seconds (`min` at best).
    func row(suite: String, name: String = "memory read", threads t: Int, median: Double, min: Double) -> Row {
        Row(suite: suite, name: name, backend: "-", threads: t, shape: "\(bytes / 1_000_000) MB",
            median: median, min: min, gbytesPerSecond: Double(bytes) / median / 1e9)
    }
}

/// The streaming read timed on its own, at `t` threads (the current `LinearAlgebra.threadCount`).
func memoryReadRow(_ ctx: Context, suite: String, threads t: Int) -> Row {
    let read = StreamingRead(ctx)
    progress("\(suite): memory read bandwidth, threads \(t)")
    let time = measure(ctx.effort) { read.run() }
    return read.row(suite: suite, threads: t, median: time.median, min: time.min)
}

/// The `gemv` shapes: a decode step's products.
func gemvShapes(_ scale: Scale) -> [(String, Int, Int, Bool)] {
    scale == .tiny
        ? [("x·W", 48, 144, false), ("W·x", 97, 48, true)]
        : [("x·W c_attn", 768, 2304, false), ("x·W c_fc", 768, 3072, false),
           ("x·W mlp.c_proj", 3072, 768, false), ("W·x logits", 50257, 768, true)]
}

/// Suite `sgemv`: `Float` matrix–vector products through `DenseMatrix.multiply`
/// on each backend, beside a raw `cblas_sgemv`, and the same products with the
/// weights held as bfloat16 and int8 (laid out as a model keeps them: one
/// line per output), against the memory's read bandwidth.
func sgemvSuite(_ ctx: Context) -> [Row] {
    var rows: [Row] = []
    for t in ctx.threadCounts {
        try? LinearAlgebra.setThreadCount(t)   // in range: main checked --threads
        let read = memoryReadRow(ctx, suite: "sgemv", threads: t)
        rows.append(read)
        for (name, r, c, transposed) in gemvShapes(ctx.scale) {
            // As in `gemv`: enough matrices to overflow the caches, time per product reported.
            let copies = ctx.scale == .tiny ? 2 : max(1, (1 << 28) / (r * c * 4))
            let weights = (0..<copies).map { i in
                FloatMatrix.random(rows: r, cols: c, seed: 3 + UInt64(i), distribution: .normal(mean: 0, standardDeviation: 0.02))
            }
            let x = FloatMatrix.random(rows: 1, cols: transposed ? c : r, seed: 4)
            var y = FloatMatrix.zeros(rows: 1, cols: transposed ? r : c)
            let raw = {
                x.elements.withUnsafeBufferPointer { xp in
                    y.elements.withUnsafeMutableBufferPointer { yp in
                        for w in weights {
                            w.elements.withUnsafeBufferPointer { wp in
                                cblas_sgemv(CblasRowMajor, transposed ? CblasNoTrans : CblasTrans, Int32(r), Int32(c), 1,
                                            wp.baseAddress, Int32(c), xp.baseAddress, 1, 0, yp.baseAddress, 1)
                            }
                        }
                    }
                }
            }
            let narrow = [WeightMatrix.Precision.bfloat16, .int8].map { precision in
                (precision, weights.map { w -> WeightMatrix in
                    let floats = WeightMatrix(rows: r, cols: c, floats: w.elements)
                    return (transposed ? floats : floats.transposingFloats()).stored(as: precision)
                })
            }
            /// The products with one narrow set of weights, int8's through `kernel`.
            func narrowProducts(_ set: [WeightMatrix], kernel: NarrowGEMV.Int8Kernel) -> () -> Void {
                {
                    NarrowGEMV.int8Kernel = kernel
                    defer { NarrowGEMV.int8Kernel = .best }
                    x.elements.withUnsafeBufferPointer { xp in
                        y.elements.withUnsafeMutableBufferPointer { yp in
                            for w in set { w.multiply(xp.baseAddress!, rows: 1, transposed: transposed, into: yp.baseAddress!) }
                        }
                    }
                }
            }
            // int8 through the kernel it runs (AVX-512 VNNI where the CPU has it) and, beside that, the Swift one.
            let int8Kernels: [(String, NarrowGEMV.Int8Kernel)] = NarrowGEMV.Int8Kernel.best == .swift ? [("int8", .swift)] : [("int8", .vnni), ("int8 swift", .swift)]
            let narrowVariants: [(String, () -> Void)] = narrow.flatMap { precision, set in
                precision == .int8 ? int8Kernels.map { ($0.0, narrowProducts(set, kernel: $0.1)) } : [(precision.argument, narrowProducts(set, kernel: .best))]
            }
            // Eight rows at once, as a decode step of eight sequences runs them (`gpt serve`):
            // Float weights laid out as a model keeps them, each line read once for all rows.
            let kept = weights.map { w -> WeightMatrix in
                let floats = WeightMatrix(rows: r, cols: c, floats: w.elements)
                return transposed ? floats : floats.transposingFloats()
            }
            let x8 = FloatMatrix.random(rows: 8, cols: transposed ? c : r, seed: 5)
            var y8 = FloatMatrix.zeros(rows: 8, cols: transposed ? r : c)
            let eightRows: (String, () -> Void) = ("f32 8 rows", {
                x8.elements.withUnsafeBufferPointer { xp in
                    y8.elements.withUnsafeMutableBufferPointer { yp in
                        for w in kept { w.multiply(xp.baseAddress!, rows: 8, transposed: transposed, into: yp.baseAddress!) }
                    }
                }
            })
            let variants: [(String, () -> Void)] = [("raw", raw)] + ctx.backends.map { backend in
                (backend.rawValue, { for w in weights { FloatMatrix.multiply(x, w, transposeB: transposed, into: &y, backend: backend) } })
            } + narrowVariants + [eightRows]
            for (label, body) in variants {
                progress("sgemv \(name) [\(r), \(c)] \(label) threads \(t)")
                let time = measure(ctx.effort, body)
                let perProduct = (median: time.median / Double(copies), min: time.min / Double(copies))
                let bytes = narrow.first { label.hasPrefix($0.0.argument) }.map { $0.1[0].byteCount } ?? r * c * 4
                let gbps = Double(bytes) / perProduct.median / 1e9
                let flops = label == eightRows.0 ? [String(format: "%.1f GFLOP/s", 16 * Double(r * c) / perProduct.median / 1e9)] : []
                rows.append(Row(suite: "sgemv", name: name, backend: label, threads: t, shape: "[\(r), \(c)] ×\(copies)",
                                median: perProduct.median, min: perProduct.min, gbytesPerSecond: gbps,
                                notes: [String(format: "%.0f%% of memory read", 100 * gbps / read.gbytesPerSecond!)] + flops))
            }
        }
    }
    return rows
}

func gemvSuite(_ ctx: Context) -> [Row] {
    var rows: [Row] = []
    for t in ctx.threadCounts {
        try? LinearAlgebra.setThreadCount(t)   // in range: main checked --threads
        let read = memoryReadRow(ctx, suite: "gemv", threads: t)
        rows.append(read)
        let bandwidth = read.gbytesPerSecond!
        for (name, r, c, transposed) in gemvShapes(ctx.scale) {
            // Enough different matrices to overflow the caches, as a decode step's weights do:
            // each timed run multiplies by all of them, and the time per product is reported.
            let copies = ctx.scale == .tiny ? 2 : max(1, (1 << 28) / (r * c * 8))
            let weights = (0..<copies).map { i in
                WeightMatrix(Matrix.random(rows: r, cols: c, seed: 3 + UInt64(i), distribution: .normal(mean: 0, standardDeviation: 0.02)))
            }
            let compact = weights.map { WeightMatrix(compacting: $0.matrix.map { Double(Float($0)) }) }
            let x = Matrix.random(rows: 1, cols: transposed ? c : r, seed: 4)
            var y = [Double](repeating: 0, count: transposed ? r : c)
            let variants: [(String, Backend, [WeightMatrix])] = ctx.backends.map { ($0.rawValue, $0, weights) }
                + [("f32", .swift, compact)]
            for (label, backend, set) in variants {
                progress("gemv \(name) [\(r), \(c)] \(label) threads \(t)")
                let time = measure(ctx.effort) {
                    x.elements.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            for w in set { w.multiply(xp.baseAddress!, rows: 1, transposed: transposed, into: yp.baseAddress!, backend: backend) }
                        }
                    }
                }
                let perProduct = (median: time.median / Double(copies), min: time.min / Double(copies))
                let gbps = Double(r * c * (label == "f32" ? 4 : 8)) / perProduct.median / 1e9
                rows.append(Row(suite: "gemv", name: name, backend: label, threads: t, shape: "[\(r), \(c)] ×\(copies)",
                                median: perProduct.median, min: perProduct.min, gbytesPerSecond: gbps,
                                notes: [String(format: "%.0f%% of memory read", 100 * gbps / bandwidth)]))
            }
        }
    }
    return rows
}

func opsSuite(_ ctx: Context) -> [Row] {
    var rows: [Row] = []
    let lengths = ctx.scale == .full ? [1, 16, 64, 256, 1024] : (ctx.scale == .quick ? [1, 16, 256] : [1, 4])
    let d = ctx.scale == .tiny ? 48 : 768, heads = ctx.scale == .tiny ? 4 : 12
    let attention = try! CausalSelfAttention(                                   // shapes fixed here: cannot throw
        cAttn: Linear(w: .random(rows: d, cols: 3 * d, seed: 5, distribution: .normal(mean: 0, standardDeviation: 0.02)), b: .zeros(rows: 1, cols: 3 * d)),
        cProj: Linear(w: .random(rows: d, cols: d, seed: 6, distribution: .normal(mean: 0, standardDeviation: 0.02)), b: .zeros(rows: 1, cols: d)),
        nHead: heads)
    let ops: [(String, any OperationModel, (Int) -> Matrix)] = [
        ("softmax", Softmax(), { Matrix.random(rows: $0, cols: max($0, 16), seed: 7) }),
        ("layer norm", try! LayerNorm(width: d), { Matrix.random(rows: $0, cols: d, seed: 8) }),
        ("gelu", GELU(), { Matrix.random(rows: $0, cols: 4 * d, seed: 9) }),
        ("attention", attention, { Matrix.random(rows: $0, cols: d, seed: 10) }),
    ]
    for t in ctx.threadCounts {
        try? LinearAlgebra.setThreadCount(t)   // in range: main checked --threads
        for (name, op, input) in ops {
            for n in lengths {
                let x = input(n)
                for backend in ctx.backends {
                    progress("ops \(name) n_seq \(n) \(backend) threads \(t)")
                    let time = measure(ctx.effort) { _ = op(x, backend: backend) }
                    rows.append(Row(suite: "ops", name: name, backend: backend.rawValue, threads: t,
                                    shape: "n_seq \(n), \(x.shapeDescription)", median: time.median, min: time.min))
                }
            }
        }
    }
    return rows
}

/// GPT-2 124M's shapes, with every way of holding the weights, then SmolLM2-135M's
/// (the Llama family: grouped-query attention, a gated MLP, rotary positions) in the
/// default storage and in Float with each Float storage; at `--scale tiny`,
/// two-layer models of each family.
func modelSuite(_ ctx: Context) throws -> [Row] {
    let tiny = ctx.scale == .tiny
    let gpt2 = tiny ? GPTConfig(nCtx: 64, nVocab: 97, nEmbd: 48, nHead: 4, nLayer: 2) : GPTConfig.gpt2
    let smol = tiny ? GPTConfig(llama: 64, nVocab: 97, nEmbd: 48, nHead: 6, nKVHead: 2, nLayer: 2, nInner: 128, tieWordEmbeddings: true) : GPTConfig.smolLM2
    return try modelRows(ctx, config: gpt2, shape: tiny ? "tiny GPT-2 (2 layers, width 48)" : "GPT-2 124M", precisions: WeightMatrix.Precision.allCases.filter { !$0.isNarrow })
        + modelRows(ctx, config: smol, shape: tiny ? "tiny Llama (2 layers, width 48)" : "SmolLM2-135M", precisions: [.both])
}

/// Prefill and decode rows of a random model of `config`'s shape, computed in
/// Double with the weights held in each of `precisions`, and computed in Float
/// with `Float`, bfloat16 and int8 weights.
func modelRows(_ ctx: Context, config: GPTConfig, shape: String, precisions: [WeightMatrix.Precision]) throws -> [Row] {
    var rows: [Row] = []
    progress("model: building \(shape) shapes with random (Float-valued) weights")
    let gpt = try GPT.random(config: config, seed: 1)
    // The same weights computed in Double, held three ways (8 bytes each, 4 as they are Float
    // values, or both), and computed in Float.
    let float32 = gpt.converted(to: .float32), narrow: [WeightMatrix.Precision] = [.bfloat16, .int8]
    let models = precisions.map { gpt.storingWeights($0) } + [float32] + narrow.map { float32.storingWeights($0) }
    let names = precisions.map { "f64-\($0.rawValue)" } + ["f32"] + narrow.map { "f32-\($0.argument)" }
    let caches = try models.map { try KVCache(config: config, dtype: $0.dtype) }
    // Decode streams every weight matrix once per token (wpe: one row) as it is stored (of
    // `both`, the Float copy; int8 with its scales): that many bytes at the memory's read
    // bandwidth is the bound a decode step can approach. The read is timed in turn with
    // the decode runs, so that a slow spell of the machine moves both alike.
    let read = StreamingRead(ctx)
    func decodeBytes(_ model: GPT) -> Double {
        Double(model.parameters.filter { $0.shape.count == 2 && $0.name != "wpe.weight" }
            .reduce(0) { $0 + ($1.storage == .both ? $1.count * 4 : $1.byteCount) })
    }
    let lengths = ctx.scale == .tiny ? [1, 16] : (ctx.scale == .quick ? [1, 64, 256] : [1, 16, 64, 256])
    let decodeSteps = ctx.scale == .full ? 32 : 8
    let effort = Effort(minRuns: ctx.scale == .full ? 3 : 1, maxRuns: 10, minSeconds: 0)
    let decodeRounds = ctx.scale == .full ? 5 : 3
    var logits = Matrix.zeros(rows: 1, cols: config.nVocab)
    let variants = ctx.backends.flatMap { backend in models.indices.map { (backend, $0) } }   // (backend, model index)
    func label(_ v: (Backend, Int)) -> String { "\(v.0.rawValue)/\(names[v.1])" }
    func note(_ model: GPT) -> String {
        String(format: "weights %.2f GB as stored", Double(model.byteCount) / 1e9)
    }
    /// How many times faster than the row it is measured against, on the same backend, same
    /// run: f32 against f64-both (the default), f32-bf16 and f32-int8 against f32.
    func ratio(_ v: (Backend, Int), _ rates: [Double]) -> [String] {
        let against = names[v.1] == "f32" ? "f64-both" : (names[v.1].hasPrefix("f32-") ? "f32" : "")
        guard let base = variants.firstIndex(where: { $0.0 == v.0 && names[$0.1] == against }),
              let me = variants.firstIndex(where: { $0 == v }) else { return [] }
        return [String(format: "%.2f× \(against)", rates[me] / rates[base])]
    }
    for t in ctx.threadCounts {
        try? LinearAlgebra.setThreadCount(t)   // in range: main checked --threads
        for n in lengths {
            progress("model prefill n_seq \(n), \(variants.map(label).joined(separator: ", ")) interleaved, threads \(t)")
            let tokens = (0..<n).map { ($0 * 7919) % config.nVocab }
            let times = measureInterleaved(effort, variants.map { (backend, m) in {
                caches[m].reset()
                try! models[m].forward(tokens, cache: caches[m], logits: &logits, backend: backend)
            } })
            let rates = times.map { Double(n) / $0.median }
            for (v, time) in zip(variants, times) {
                rows.append(Row(suite: "model", name: "prefill", backend: label(v), threads: t,
                                shape: "\(shape), n_seq \(n)", median: time.median, min: time.min,
                                tokensPerSecond: Double(n) / time.median, notes: [note(models[v.1])] + ratio(v, rates)))
            }
        }
        // Time per decoded token: the steps alone, after an 8-token prefill; variants and the
        // streaming read take turns (the read is the last entry of `stepTimes`).
        progress("model decode, \(variants.map(label).joined(separator: ", ")) and a memory read interleaved, threads \(t)")
        var stepTimes = [[Double]](repeating: [], count: variants.count + 1)
        read.run()
        for round in 0..<decodeRounds {
            for j in 0...variants.count {
                let i = (j + round) % (variants.count + 1)
                if i == variants.count {
                    stepTimes[i].append(elapsedSeconds(read.run))
                    continue
                }
                let (backend, m) = variants[i], model = models[m], cache = caches[m]
                cache.reset()
                try model.forward([1, 2, 3, 4, 5, 6, 7, 8], cache: cache, logits: &logits, backend: backend)
                let time = try elapsedSeconds {
                    for s in 0..<decodeSteps { try model.forward([s % config.nVocab], cache: cache, logits: &logits, backend: backend) }
                }
                stepTimes[i].append(time / Double(decodeSteps))
            }
        }
        let sortedTimes = stepTimes.map { $0.sorted() }
        let medians = sortedTimes.map { $0[$0.count / 2] }
        let readRow = read.row(suite: "model", name: "memory read (between decode runs)", threads: t,
                               median: medians[variants.count], min: sortedTimes[variants.count][0])
        rows.append(readRow)
        for (i, v) in variants.enumerated() {
            let median = medians[i]
            let bound = readRow.gbytesPerSecond! * 1e9 / decodeBytes(models[v.1])          // tokens/s if only the weights' bytes counted
            rows.append(Row(suite: "model", name: "decode", backend: label(v), threads: t,
                            shape: "\(shape), KV cache, \(decodeSteps) steps after 8", median: median,
                            min: sortedTimes[i][0], tokensPerSecond: 1 / median,
                            notes: [note(models[v.1]), String(format: "%.0f%% of the weight-read bound (%.1f tok/s)", 100 / median / bound, bound)]
                                + ratio(v, medians.prefix(variants.count).map { 1 / $0 })))
        }
    }
    return rows
}

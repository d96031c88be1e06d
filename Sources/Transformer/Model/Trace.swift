import Foundation
import LinearAlgebra

/// A trace's typed view of one matrix, encoded as the bare matrix (nested rows).
public protocol TracedMatrix: Codable, Sendable, Equatable {
    /// The view of `matrix`.
    init(_ matrix: Matrix)
    /// The matrix it views.
    var matrix: Matrix { get }
}

extension TracedMatrix {
    public init(from decoder: Decoder) throws { self.init(try decoder.singleValueContainer().decode(Matrix.self)) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(matrix)
    }
}

/// The residual stream at one point of a forward pass: `[n, n_embd]`, a row per position.
public struct ResidualStream: TracedMatrix {
    /// The values, `[n, n_embd]`.
    public var values: Matrix
    /// The stream from its values.
    public init(_ values: Matrix) { self.values = values }
    public var matrix: Matrix { values }
    /// Each position's Euclidean norm: `[n]`.
    public var norms: [Double] { (0..<values.rows).map { r in values[row: r].reduce(0) { $0 + $1 * $1 }.squareRoot() } }
}

/// One head's attention pattern: `[n, n]`, row `q` holding how position `q`
/// spreads its attention over positions `0…q` (each row sums to 1; zero above the diagonal).
public struct AttentionPattern: TracedMatrix {
    /// The weights, `[n, n]`: query position, then key position.
    public var weights: Matrix
    /// The pattern from its weights.
    public init(_ weights: Matrix) { self.weights = weights }
    public var matrix: Matrix { weights }
}

/// What one sublayer (a block's attention or its MLP) added to the residual
/// stream: `[n, n_embd]`.
public struct SublayerUpdate: TracedMatrix {
    /// The values, `[n, n_embd]`.
    public var values: Matrix
    /// The update from its values.
    public init(_ values: Matrix) { self.values = values }
    public var matrix: Matrix { values }
}

/// A token and how much the model favours it at one position.
public struct RankedToken: Codable, Sendable, Equatable {
    /// The token id.
    public var token: Int
    /// Its logit.
    public var logit: Double
    /// Its probability: the softmax of the logits over the whole vocabulary.
    public var probability: Double
}

/// The logit lens after one block: the final layer norm and the unembedding
/// applied to the residual stream there, read as next-token predictions.
public struct LogitLens: Codable, Sendable, Equatable {
    /// For each position, the most likely tokens, most likely first: `[n][k]`.
    public var top: [[RankedToken]]

    public init(top: [[RankedToken]]) { self.top = top }
    public init(from decoder: Decoder) throws { top = try decoder.singleValueContainer().decode([[RankedToken]].self) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(top)
    }
}

/// What a forward pass did, from the embeddings to the logits (see ``GPT/trace(_:top:backend:)``).
///
/// JSON (`gpt inspect --json`), for `n` tokens, `L` blocks, `H` heads, width `d`:
/// `{"tokens": [n], "residual": [L+1][n][d], "attention": [L][H][n][n],
/// "attention_updates": [L][n][d], "mlp_updates": [L][n][d] (null for a block
/// without an MLP), "logit_lens": [L][n][k] of {"token", "logit", "probability"},
/// "logits": [n][n_vocab]}`.
public struct Trace: Codable, Sendable, Equatable {
    /// The input tokens.
    public var tokens: [Int]
    /// The residual stream after the embeddings, then after each block: `L + 1` of them.
    public var residual: [ResidualStream]
    /// Each block's attention, head by head: `[L][H]`.
    public var attention: [[AttentionPattern]]
    /// What each block's attention added to the stream.
    public var attentionUpdates: [SublayerUpdate]
    /// What each block's MLP added to the stream (`nil` for a block without one).
    public var mlpUpdates: [SublayerUpdate?]
    /// The logit lens after each block; the last equals the final logits' ranking.
    public var logitLens: [LogitLens]
    /// The next-token logits, `[n, n_vocab]`, exactly as the plain forward pass gives them.
    public var logits: Matrix

    private enum CodingKeys: String, CodingKey {
        case tokens, residual, attention, attentionUpdates = "attention_updates", mlpUpdates = "mlp_updates"
        case logitLens = "logit_lens", logits
    }
}

/// Collects what ``GPT/trace(_:top:backend:)`` reports while the one forward pass runs.
package final class TraceRecorder {
    var residual: [Matrix] = []
    var attention: [[AttentionPattern]] = []
    var attentionUpdates: [SublayerUpdate] = []
    var mlpUpdates: [SublayerUpdate?] = []
    /// The running layer's patterns, `[heads, rows, cols]`, reused from layer to layer.
    private let patterns = ScratchBuffer()

    /// A zeroed buffer for one layer's patterns, `[heads, rows, cols]`, read by ``finishAttention(heads:rows:cols:)``.
    func patternBuffer(heads: Int, rows: Int, cols: Int) -> UnsafeMutablePointer<Double> {
        let p = patterns.buffer(heads * rows * cols, of: Double.self)
        p.update(repeating: 0, count: heads * rows * cols)
        return p
    }

    /// The layer's patterns, copied out as one `[rows, cols]` pattern per head.
    func finishAttention(heads: Int, rows: Int, cols: Int) {
        let p = UnsafePointer(patterns.buffer(heads * rows * cols, of: Double.self))
        attention.append((0..<heads).map { h in AttentionPattern(TraceRecorder.matrix(p + h * rows * cols, rows: rows, cols: cols)) })
    }

    /// A copy of `rows × cols` values at `x`.
    static func matrix<S: MatrixScalar>(_ x: UnsafePointer<S>, rows: Int, cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, elements: UnsafeBufferPointer(start: x, count: rows * cols).map { Double($0) })
    }
}

extension GPT {
    /// The forward pass over `tokens`, with what it did on the way recorded
    /// (see ``Trace``): the same pass as ``callAsFunction(_:backend:)``, so the
    /// trace's logits are exactly those. The logit lens lists the `top` most
    /// likely tokens per block and position.
    ///
    /// A trace holds `L·H·n²` attention weights and `(3L + 1)·n·d` stream
    /// values as `Double`s: for GPT-2 124M and 256 tokens, about 90 MB.
    ///
    /// - Throws: ``InputError`` as ``callAsFunction(_:backend:)`` does.
    public func trace(_ tokens: [Int], top k: Int = 5, backend: Backend? = nil) throws -> Trace {
        try checkInput(tokens)
        let backend = backend ?? self.backend ?? .default
        let recorder = TraceRecorder()
        let cache = try KVCache(config: config, capacity: tokens.count, dtype: dtype)
        var logits = Matrix.zeros(rows: tokens.count, cols: config.nVocab)
        try run(tokens, cache: cache, logits: &logits, allPositions: true, backend: backend, recorder: recorder)
        let lens = recorder.residual.dropFirst().map { stream -> LogitLens in
            var lensLogits = Matrix.zeros(rows: stream.rows, cols: config.nVocab)
            func lens<S: MatrixScalar>(_ x: DenseMatrix<S>) {
                x.withElements { unembed($0, rows: x.rows, into: &lensLogits, workspace: cache.workspace, backend: backend) }
            }
            if dtype == .float32 { lens(FloatMatrix(stream)) } else { lens(stream) }   // the stream as the next block reads it
            return LogitLens(top: GPT.ranked(lensLogits, top: k))
        }
        return Trace(tokens: tokens, residual: recorder.residual.map(ResidualStream.init), attention: recorder.attention,
                     attentionUpdates: recorder.attentionUpdates, mlpUpdates: recorder.mlpUpdates, logitLens: lens, logits: logits)
    }

    /// Each row's `k` largest logits with their softmax probabilities, largest first (lower id on ties).
    static func ranked(_ logits: Matrix, top k: Int) -> [[RankedToken]] {
        (0..<logits.rows).map { r in
            let row = logits[row: r]
            let m = row.max() ?? 0
            let total = row.reduce(0) { $0 + Foundation.exp($1 - m) }
            return Ranking.top(k, of: row).map {
                RankedToken(token: $0, logit: row[$0], probability: Foundation.exp(row[$0] - m) / total)
            }
        }
    }
}

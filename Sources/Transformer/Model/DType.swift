import LinearAlgebra

/// The precision a model computes in: its weights, activations and KV cache.
///
/// ``float64`` is the default and agrees with the NumPy and PyTorch float64
/// references to 1e-9; ``float32`` is what GPT-2 checkpoints store and what
/// other engines run, with half the bytes of activations and KV cache and
/// twice the lanes per vector (its logits agree with `transformers` in float32
/// to within 1e-4 of the largest logit, the bound its test holds).
public enum DType: String, Sendable, CaseIterable, Codable {
    /// 8-byte `Double`s throughout.
    case float64
    /// 4-byte `Float`s throughout (LayerNorm statistics, softmax sums and
    /// elementwise functions still compute in `Double` and round).
    case float32

    /// Bytes per element.
    public var size: Int { self == .float32 ? 4 : 8 }

    /// The dtype whose elements are `S`.
    static func of<S: MatrixScalar>(_: S.Type) -> DType { S.self == Float.self ? .float32 : .float64 }
}

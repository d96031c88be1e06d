import LinearAlgebra

/// The normalisation a block or a model applies: GPT-2's ``LayerNorm`` or the
/// Llama family's ``RMSNorm``. Its JSON and checkpoint names are those of the
/// norm it holds; inside a model the config's family says which it is.
public enum Norm: OperationModel, ParameterModule, Equatable {
    /// Layer normalisation (GPT-2).
    case layerNorm(LayerNorm)
    /// Root-mean-square normalisation (the Llama family).
    case rmsNorm(RMSNorm)

    package static var blank: Norm { .layerNorm(.blank) }
    package static func blank(_ config: GPTConfig?) -> Norm { config?.modelType.isLlamaFamily == true ? .rmsNorm(.blank) : .blank }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        switch self {
        case .layerNorm(var norm): try norm.visit(&v); self = .layerNorm(norm)
        case .rmsNorm(var norm): try norm.visit(&v); self = .rmsNorm(norm)
        }
    }

    /// The width `d` it normalises.
    public var width: Int {
        switch self {
        case .layerNorm(let norm): norm.width
        case .rmsNorm(let norm): norm.width
        }
    }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        switch self {
        case .layerNorm(let norm): norm(x, backend: backend)
        case .rmsNorm(let norm): norm(x, backend: backend)
        }
    }

    /// The norm of `n` rows on row-major buffers.
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, into y: UnsafeMutablePointer<S>) {
        switch self {
        case .layerNorm(let norm): norm.apply(x, rows: n, into: y)
        case .rmsNorm(let norm): norm.apply(x, rows: n, into: y)
        }
    }
}

extension Optional where Wrapped == Norm {
    /// The norm of `n` rows of width `d`, or a copy of them when there is none.
    func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, width d: Int, into y: UnsafeMutablePointer<S>) {
        if let norm = self { norm.apply(x, rows: n, into: y) } else { y.update(from: x, count: n * d) }
    }
}

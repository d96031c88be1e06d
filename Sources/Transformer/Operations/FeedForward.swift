import LinearAlgebra

/// A block's feed-forward sub-layer: GPT-2's ``MLP`` or the Llama family's
/// ``GatedMLP``. Its JSON and checkpoint names are those of the network it
/// holds; inside a model the config's family says which it is.
public enum FeedForward: OperationModel, ParameterModule, Equatable {
    /// `c_proj(GELU(c_fc(x)))` (GPT-2).
    case mlp(MLP)
    /// `down_proj(SiLU(gate_proj(x)) · up_proj(x))` (the Llama family).
    case gated(GatedMLP)

    package static var blank: FeedForward { .mlp(.blank) }
    package static func blank(_ config: GPTConfig?) -> FeedForward {
        config?.modelType.isLlamaFamily == true ? .gated(.blank(config)) : .blank
    }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        switch self {
        case .mlp(var network): try network.visit(&v); self = .mlp(network)
        case .gated(var network): try network.visit(&v); self = .gated(network)
        }
    }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        switch self {
        case .mlp(let network): network(x, backend: backend)
        case .gated(let network): network(x, backend: backend)
        }
    }

    /// The network on `n` rows of `x` (`[n, d]`) into `y` (`[n, d]`), its hidden layers in `ws`.
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, workspace ws: Workspace,
                                        into y: UnsafeMutablePointer<S>, backend: Backend) {
        switch self {
        case .mlp(let network): network.apply(x, rows: n, workspace: ws, into: y, backend: backend)
        case .gated(let network): network.apply(x, rows: n, workspace: ws, into: y, backend: backend)
        }
    }
}

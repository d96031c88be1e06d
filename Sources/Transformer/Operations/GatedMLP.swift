import LinearAlgebra

/// The Llama family's feed-forward network, gated with SiLU:
/// `down_proj(SiLU(gate_proj(x)) · up_proj(x))`, where `SiLU(z) = z / (1 + e^(−z))`
/// and `·` is elementwise. JSON: `{"gate_proj": Linear, "up_proj": Linear, "down_proj": Linear}`.
public struct GatedMLP: OperationModel, ParameterModule, Equatable {
    /// The gate, `[d, h]`.
    public private(set) var gateProj: Linear
    /// The values the gate scales, `[d, h]`.
    public private(set) var upProj: Linear
    /// Projects back, `[h, d]`.
    public private(set) var downProj: Linear

    /// A gated MLP from its three linear maps.
    ///
    /// - Throws: ``ModelError`` when they do not fit one width `d` and one hidden width `h`.
    public init(gateProj: Linear, upProj: Linear, downProj: Linear) throws {
        self.gateProj = gateProj
        self.upProj = upProj
        self.downProj = downProj
        try validate()
    }

    package static var blank: GatedMLP { try! GatedMLP(gateProj: .blank, upProj: .blank, downProj: .blank) }
    package static func blank(_ config: GPTConfig?) -> GatedMLP {
        let linear = Linear.blank(bias: config?.mlpBias ?? false)
        return try! GatedMLP(gateProj: linear, upProj: linear, downProj: linear)
    }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.part("gate_proj", &gateProj, [.input: .embd, .output: .hidden])
        try v.part("up_proj", &upProj, [.input: .embd, .output: .hidden])
        try v.part("down_proj", &downProj, [.input: .hidden, .output: .embd])
    }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == gateProj.inputSize, "GatedMLP: input \(x.shapeDescription) does not fit gate_proj \(gateProj.w.shapeDescription)")
        return DenseMatrix(rows: x.rows, cols: downProj.outputSize) { y in             // [n, d] -> [n, d]
            x.withElements { apply($0, rows: x.rows, workspace: Workspace(), into: y, backend: backend) }
        }
    }

    /// `y[n, d] = down_proj(SiLU(gate_proj(x)) · up_proj(x))` on row-major
    /// buffers; the hidden layers live in `ws`.
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, workspace ws: Workspace,
                                        into y: UnsafeMutablePointer<S>, backend: Backend) {
        let h = gateProj.outputSize
        let gate = ws.buffer(.hidden, n * h, of: S.self), up = ws.buffer(.up, n * h, of: S.self)
        gateProj.apply(x, rows: n, into: gate, backend: backend)                       // [n, d] -> [n, h]
        upProj.apply(x, rows: n, into: up, backend: backend)                           // [n, d] -> [n, h]
        GatedMLP.gate(gate, by: up, count: n * h)                                      // [n, h]
        downProj.apply(gate, rows: n, into: y, backend: backend)                       // [n, h] -> [n, d]
    }

    /// `gate[i] = SiLU(gate[i]) · up[i]` for `i < count`, a vector at a time in
    /// the buffers' precision (with ``MatrixScalar/exp(_:)``), split across
    /// threads for long inputs; a range's tail goes through the same vector code,
    /// padded, so the result does not depend on where the ranges split.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package static func gate<S: MatrixScalar>(_ gate: UnsafeMutablePointer<S>, by up: UnsafePointer<S>, count: Int) {
        @inline(__always) func silu(_ z: S.Vector, _ u: S.Vector) -> S.Vector { z / (1 + S.exp(-z)) * u }
        let g = UnsafeMutableRawPointer(gate), u = UnsafeRawPointer(up), lanes = S.lanes
        parallelRanges(count, minimum: 1 << 14) { range in
            var i = range.lowerBound
            while i + lanes <= range.upperBound {
                S.storeVector(silu(S.loadVector(g, i, from: S.self), S.loadVector(u, i, from: S.self)), g, i)
                i += lanes
            }
            guard i < range.upperBound else { return }
            var (z, v) = (S.Vector(), S.Vector())
            for j in i..<range.upperBound { (z[j - i], v[j - i]) = (gate[j], up[j]) }
            let y = silu(z, v)
            for j in i..<range.upperBound { gate[j] = y[j - i] }
        }
    }
}

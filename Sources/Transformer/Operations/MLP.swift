import LinearAlgebra

/// The position-wise feed-forward network: `c_proj(GELU(c_fc(x)))`.
/// JSON: `{"c_fc": Linear, "c_proj": Linear}`.
public struct MLP: OperationModel, ParameterModule, Equatable {
    /// Expands the width: `[d, h]` (GPT-2: `h = 4d`).
    public private(set) var cFc: Linear
    /// Projects back: `[h, d]`.
    public private(set) var cProj: Linear

    /// An MLP from its two linear maps.
    ///
    /// - Throws: ``ModelError`` when they do not chain back to the input width.
    public init(cFc: Linear, cProj: Linear) throws {
        self.cFc = cFc
        self.cProj = cProj
        try validate()
    }

    package static var blank: MLP { try! MLP(cFc: .blank, cProj: .blank) }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.part("c_fc", &cFc, [.input: .embd, .output: .hidden])
        try v.part("c_proj", &cProj, [.input: .hidden, .output: .embd])
    }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == cFc.inputSize, "MLP: input \(x.shapeDescription) does not fit c_fc \(cFc.w.shapeDescription)")
        return DenseMatrix(rows: x.rows, cols: cProj.outputSize) { y in                // [n, d] -> [n, d]
            x.withElements { apply($0, rows: x.rows, workspace: Workspace(), into: y, backend: backend) }
        }
    }

    /// `y[n, d] = c_proj(GELU(c_fc(x[n, d])))` on row-major buffers; the hidden
    /// layer lives in `ws`.
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, workspace ws: Workspace,
                                        into y: UnsafeMutablePointer<S>, backend: Backend) {
        let hidden = ws.buffer(.hidden, n * cFc.outputSize, of: S.self)
        cFc.apply(x, rows: n, into: hidden, backend: backend)                         // [n, d] -> [n, h]
        GELU.apply(hidden, count: n * cFc.outputSize)                                 // [n, h]
        cProj.apply(hidden, rows: n, into: y, backend: backend)                       // [n, h] -> [n, d]
    }
}

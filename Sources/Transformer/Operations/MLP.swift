import LinearAlgebra

/// The position-wise feed-forward network: `c_proj(GELU(c_fc(x)))`.
/// JSON: `{"c_fc": Linear, "c_proj": Linear}`.
public struct MLP: OperationModel, Equatable {
    /// Expands the width: `[d, h]` (GPT-2: `h = 4d`).
    public var cFc: Linear
    /// Projects back: `[h, d]`.
    public var cProj: Linear

    /// An MLP from its two linear maps.
    public init(cFc: Linear, cProj: Linear) {
        precondition(cFc.outputSize == cProj.inputSize && cProj.outputSize == cFc.inputSize,
                     "MLP: c_fc \(cFc.w.shapeDescription) and c_proj \(cProj.w.shapeDescription) do not chain back to the input width")
        self.cFc = cFc
        self.cProj = cProj
    }

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        precondition(x.cols == cFc.inputSize, "MLP: input \(x.shapeDescription) does not fit c_fc \(cFc.w.shapeDescription)")
        return Matrix(rows: x.rows, cols: cProj.outputSize) { y in                    // [n, d] -> [n, d]
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

    private enum CodingKeys: String, CodingKey { case cFc = "c_fc", cProj = "c_proj" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let fc = try c.decode(Linear.self, forKey: .cFc)
        let proj = try c.decode(Linear.self, forKey: .cProj)
        if proj.w.rows != fc.outputSize || proj.w.cols != fc.inputSize {
            throw ModelError.shapeMismatch(field: fieldPath(c.codingPath, CodingKeys.cProj) + ".w",
                                           expected: "[\(fc.outputSize), \(fc.inputSize)]", found: proj.w.shapeDescription)
        }
        self.init(cFc: fc, cProj: proj)
    }
}

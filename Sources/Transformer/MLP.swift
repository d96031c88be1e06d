import LinearAlgebra

/// The position-wise feed-forward network: `c_proj(GELU(c_fc(x)))`.
/// JSON: `{"c_fc": Linear, "c_proj": Linear}`.
public struct MLP: Operation, Equatable {
    /// Expands the width: `[d, h]` (GPT-2: `h = 4d`).
    public var c_fc: Linear
    /// Projects back: `[h, d]`.
    public var c_proj: Linear

    /// An MLP from its two linear maps.
    public init(c_fc: Linear, c_proj: Linear) {
        precondition(c_fc.outputSize == c_proj.inputSize && c_proj.outputSize == c_fc.inputSize,
                     "MLP: c_fc \(c_fc.w.shapeDescription) and c_proj \(c_proj.w.shapeDescription) do not chain back to the input width")
        self.c_fc = c_fc
        self.c_proj = c_proj
    }

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        let h = GELU()(c_fc(x, backend: backend), backend: backend)   // [n, d] -> [n, h]
        return c_proj(h, backend: backend)                            // [n, h] -> [n, d]
    }

    private enum CodingKeys: String, CodingKey { case c_fc, c_proj }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let fc = try c.decode(Linear.self, forKey: .c_fc)
        let proj = try c.decode(Linear.self, forKey: .c_proj)
        if proj.w.rows != fc.outputSize || proj.w.cols != fc.inputSize {
            throw ModelError.shapeMismatch(field: fieldPath(c.codingPath, CodingKeys.c_proj) + ".w",
                                           expected: "[\(fc.outputSize), \(fc.inputSize)]", found: proj.w.shapeDescription)
        }
        self.init(c_fc: fc, c_proj: proj)
    }
}

// The umbrella module: `import SwiftAttention` brings in the numeric engine
// and the transformer library.
@_exported import LinearAlgebra
@_exported import Transformer

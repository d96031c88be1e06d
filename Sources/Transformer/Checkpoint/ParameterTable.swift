import LinearAlgebra

/// One tensor of a model, under the name a Hugging Face GPT-2 checkpoint gives it.
public struct Parameter: Sendable, Equatable {
    /// The checkpoint name, e.g. `h.0.attn.c_attn.weight`.
    public let name: String
    /// `[rows, cols]` for a matrix, `[n]` for a bias or a layer norm's gain or bias.
    public let shape: [Int]
    /// How the elements are kept: a matrix's ``LinearAlgebra/WeightMatrix/precision``;
    /// vectors are always `.double`.
    public let storage: WeightMatrix.Precision

    /// The bytes the elements occupy as stored.
    public let byteCount: Int

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}

extension GPT {
    /// Every parameter, embeddings first, then each block's, then the final
    /// layer norm's; only the parts this model has (the hand-set model has no
    /// layer norms or MLP).
    public var parameters: [Parameter] {
        parameterTable.map { entry in
            switch entry.slot {
            case let .embedding(path), let .matrix(path):
                let m = self[keyPath: path]
                return Parameter(name: entry.name, shape: [m.rows, m.cols], storage: m.precision, byteCount: m.byteCount)
            case let .vector(path):
                let n = self[keyPath: path].cols
                return Parameter(name: entry.name, shape: [n], storage: .double, byteCount: 8 * n)
            }
        }
    }

    /// The number of parameters (embeddings, weights, biases, gains).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// The bytes the parameters occupy as stored.
    public var byteCount: Int { parameters.reduce(0) { $0 + $1.byteCount } }

    /// The same model with every weight matrix kept in `precision` (see
    /// ``LinearAlgebra/WeightMatrix/Precision``): `.double`, `.float32` where
    /// lossless, or `.both`. With `.both`, the embeddings are kept as `Float`
    /// alone: they serve row lookups and the one-row logits product, never a GEMM
    /// that would want `Double`.
    public func storingWeights(_ precision: WeightMatrix.Precision) -> GPT {
        mappingWeights { w, isEmbedding in w.stored(as: isEmbedding ? GPT.embeddingPrecision(precision) : precision) }
    }

    /// The same model with `transform` applied to every weight matrix, told
    /// whether it is an embedding.
    func mappingWeights(_ transform: (WeightMatrix, _ isEmbedding: Bool) -> WeightMatrix) -> GPT {
        var copy = self
        for entry in parameterTable {
            switch entry.slot {
            case let .embedding(path): copy[keyPath: path] = transform(copy[keyPath: path], true)
            case let .matrix(path): copy[keyPath: path] = transform(copy[keyPath: path], false)
            case .vector: break
            }
        }
        return copy
    }

    /// How embeddings are kept in a model whose matrices are in `precision`.
    static func embeddingPrecision(_ precision: WeightMatrix.Precision) -> WeightMatrix.Precision {
        precision == .both ? .float32 : precision
    }

    /// The one table of Hugging Face GPT-2 tensor names: each tensor of this
    /// model's parts, the shape its config gives it, and where it lives. Loading
    /// (and its refusal of tensors the table does not list), saving, ``parameters``,
    /// ``storingWeights(_:)`` and ``converted(to:)`` all read it.
    var parameterTable: [ParameterEntry] {
        let d = config.nEmbd, hidden = config.hiddenSize
        var table: [ParameterEntry] = [("wte.weight", [config.nVocab, d], .embedding(\.wte)),
                                    ("wpe.weight", [config.nCtx, d], .embedding(\.wpe))]
        func linear(_ name: String, _ path: WritableKeyPath<GPT, Linear>, _ shape: [Int]) {
            table += [(name + ".weight", shape, .matrix(path.appending(path: \.w))),
                      (name + ".bias", [shape[1]], .vector(path.appending(path: \.b)))]
        }
        func norm(_ name: String, _ path: WritableKeyPath<GPT, LayerNorm>) {
            table += [(name + ".weight", [d], .vector(path.appending(path: \.g))),
                      (name + ".bias", [d], .vector(path.appending(path: \.b)))]
        }
        for (i, block) in blocks.enumerated() {
            let b: WritableKeyPath<GPT, TransformerBlock> = \.blocks[i]
            func part<T>(_ path: WritableKeyPath<TransformerBlock, T>) -> WritableKeyPath<GPT, T> { b.appending(path: path) }
            if block.ln1 != nil { norm("h.\(i).ln_1", part(\.ln1!)) }
            linear("h.\(i).attn.c_attn", part(\.attn.cAttn), [d, 3 * d])
            linear("h.\(i).attn.c_proj", part(\.attn.cProj), [d, d])
            if block.ln2 != nil { norm("h.\(i).ln_2", part(\.ln2!)) }
            if block.mlp != nil {
                linear("h.\(i).mlp.c_fc", part(\.mlp!.cFc), [d, hidden])
                linear("h.\(i).mlp.c_proj", part(\.mlp!.cProj), [hidden, d])
            }
        }
        if lnF != nil { norm("ln_f", \GPT.lnF!) }
        return table
    }
}

/// A row of ``GPT/parameterTable``: a tensor's checkpoint name, the shape its
/// config gives it, and where it lives.
typealias ParameterEntry = (name: String, shape: [Int], slot: ParameterSlot)

/// Where a tensor lives in a ``GPT``.
enum ParameterSlot {
    /// `wte` or `wpe`.
    case embedding(WritableKeyPath<GPT, WeightMatrix>)
    /// A linear map's weights.
    case matrix(WritableKeyPath<GPT, WeightMatrix>)
    /// A bias, gain or layer-norm bias, a `[1, n]` row.
    case vector(WritableKeyPath<GPT, Matrix>)
}

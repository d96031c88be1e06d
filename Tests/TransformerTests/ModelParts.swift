import Transformer

extension TransformerBlock {
    /// Every linear map of the block, attention's first.
    var linears: [Linear] {
        let attention = [attn.cAttn, attn.qProj, attn.kProj, attn.vProj, attn.cProj].compactMap { $0 }
        switch mlp {
        case .mlp(let m)?: return attention + [m.cFc, m.cProj]
        case .gated(let g)?: return attention + [g.gateProj, g.upProj, g.downProj]
        case nil: return attention
        }
    }
}

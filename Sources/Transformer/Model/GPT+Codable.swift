import Foundation
import LinearAlgebra

// A GPT as JSON, in picoGPT's parameter layout (see the hand-set model):
// `{"config": {…}, "wte": [[…]], "wpe": [[…]], "blocks": [ … ], "ln_f": {…}}`;
// `ln_f` and `vocabulary` are optional. Weights decode as `Double`.

extension GPT: Codable {
    /// Decodes a model from JSON data, with errors that name the field.
    public init(json data: Data) throws {
        do {
            self = try JSONDecoder().decode(GPT.self, from: data)
        } catch let error as DecodingError {
            throw ModelError(error)
        }
    }

    private enum CodingKeys: String, CodingKey { case config, wte, wpe, blocks, lnF = "ln_f", vocabulary }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let config = try c.decode(GPTConfig.self, forKey: .config)
        var list = try c.nestedUnkeyedContainer(forKey: .blocks)
        var blocks: [TransformerBlock] = []
        while !list.isAtEnd {
            guard blocks.count < config.nLayer else {
                throw ModelError.invalidValue(field: "blocks", reason: "config.n_layer is \(config.nLayer), found more blocks")
            }
            blocks.append(try TransformerBlock(from: try list.superDecoder(), defaultHeads: config.nHead))
        }
        try self.init(config: config,
                      wte: WeightMatrix(try c.decode(Matrix.self, forKey: .wte)),
                      wpe: WeightMatrix(try c.decode(Matrix.self, forKey: .wpe)),
                      blocks: blocks, lnF: try c.decodeIfPresent(LayerNorm.self, forKey: .lnF),
                      vocabulary: try c.decodeIfPresent([String].self, forKey: .vocabulary))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(config, forKey: .config)
        try c.encode(wte.matrix, forKey: .wte)
        try c.encode(wpe.matrix, forKey: .wpe)
        try c.encode(blocks, forKey: .blocks)
        try c.encodeIfPresent(lnF, forKey: .lnF)
        try c.encodeIfPresent(vocabulary, forKey: .vocabulary)
    }
}

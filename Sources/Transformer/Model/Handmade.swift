import Foundation

// The hand-set "aab" model's weights, copied from the project's shared
// `handmade-model.json` (compacted; the values are unchanged). A test checks
// this copy decodes to the same model as that file.
let handmadeModelJSON = #"""
{"description":"Hand-set weights of a one-block, attention-only GPT that predicts the next token of the repeating pattern 'aab'. Vocabulary: a=0, b=1. Layout follows GPT-2: linear weights are [in, out] and applied as x @ w + b; embeddings are one-hot (dims 0-4 position, 5-6 token, 7 scratch). No layer norm, no MLP; logits = x @ wte^T.","config":{"n_ctx":5,"n_vocab":2,"n_embd":8,"n_head":1,"n_layer":1},"vocabulary":["a","b"],"wte":[[0,0,0,0,0,1,0,0],[0,0,0,0,0,0,1,0]],"wpe":[[1,0,0,0,0,0,0,0],[0,1,0,0,0,0,0,0],[0,0,1,0,0,0,0,0],[0,0,0,1,0,0,0,0],[0,0,0,0,1,0,0,0]],"blocks":[{"attn":{"c_attn":{"w":[[1024.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[1024.0,1024.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,1024.0,1024.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,1024.0,1024.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,1024.0,1024.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,-1],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0]],"b":[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0]},"c_proj":{"w":[[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,-1024.0,1024.0,0.0]],"b":[0,0,0,0,0,1024.0,0,0]}}}]}
"""#

extension GPT {
    /// The hand-set one-block, attention-only model that continues the pattern
    /// "aab": vocabulary a = 0, b = 1, context 5. On `"aab"` repeated 10 times,
    /// predicting each next character from position 2 on, it scores 27/27.
    public static let handmade = try! GPT(json: Data(handmadeModelJSON.utf8))
}

extension CharacterTokenizer {
    /// The hand-set model's tokenizer: a = 0, b = 1.
    public static let handmade = CharacterTokenizer(vocabulary: ["a", "b"])
}

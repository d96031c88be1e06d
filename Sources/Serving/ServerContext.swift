import Foundation
import Logging
import SwiftAttention

/// What every request handler reads: the model and its tokenizer, how chats
/// are laid out, the batcher that generates, and the server's settings.
struct ServerContext: Sendable {
    let model: GPT
    let tokenizer: BPETokenizer
    let template: ChatTemplate
    let batcher: ContinuousBatcher
    /// The name clients send as `model` and `/v1/models` lists.
    let modelName: String
    /// Tokens that end every generation: the model's end of text.
    let stopTokens: Set<Int>
    let apiKey: String?
    let maxBodyBytes: Int
    /// When the server started (`created` of `/v1/models`).
    let started: Int
    let logger: Logger
}

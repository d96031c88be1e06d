import Foundation
import SwiftAttention

/// How chat messages become one prompt. A model whose `tokenizer_config.json`
/// has a ChatML `chat_template` (it writes `<|im_start|>`, and the tokenizer
/// holds `<|im_start|>` and `<|im_end|>` as tokens) gets ChatML:
/// `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then
/// `<|im_start|>assistant\n`, and the reply ends at `<|im_end|>`. Any other model gets
/// a plain layout: `{Role}: {content}\n` per message (`System`, `User`,
/// `Assistant`), then `Assistant:`, and the reply ends where the model starts a
/// next `\nUser:` line. No default system message is added.
struct ChatTemplate: Sendable {
    struct Message { let role: String, content: String }
    /// `<|im_start|>` and `<|im_end|>` when the model speaks ChatML.
    let chatML: (start: Int, end: Int)?

    init(directory: URL, tokenizer: any Tokenizer) {
        let config = (try? Data(contentsOf: directory.appendingPathComponent("tokenizer_config.json")))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        let template = config?["chat_template"] as? String ?? ""
        let start = try? tokenizer.encode("<|im_start|>"), end = try? tokenizer.encode("<|im_end|>")
        if template.contains("<|im_start|>"), let start, let end, start.count == 1, end.count == 1 {
            chatML = (start[0], end[0])
        } else {
            chatML = nil
        }
    }

    /// The prompt for `messages`, ending where the assistant's reply begins.
    func layout(_ messages: [Message]) -> String {
        if chatML != nil {
            return messages.map { "<|im_start|>\($0.role)\n\($0.content)<|im_end|>\n" }.joined() + "<|im_start|>assistant\n"
        }
        return messages.map { "\($0.role.prefix(1).uppercased() + $0.role.dropFirst()): \($0.content)\n" }.joined() + "Assistant:"
    }

    /// Tokens that end a reply (besides the model's end of text).
    var stopTokens: Set<Int> { chatML.map { [$0.end] } ?? [] }
    /// Text that ends a reply.
    var stopTexts: [String] { chatML == nil ? ["\nUser:"] : [] }
    /// What the layout is called, for the startup line.
    var name: String { chatML == nil ? "plain (role-prefixed lines)" : "ChatML" }
}

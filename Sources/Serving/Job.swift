import SwiftAttention

/// A completion or chat request, checked and turned into tokens: what the
/// server generates and how it answers.
struct Job: Sendable {
    enum Kind { case completion, chat }
    let kind: Kind
    /// The prompt's tokens, and its text (for `echo`).
    let prompt: [Int]
    let promptText: String
    let generation: GenerationRequest
    let stream: Bool
    /// Completions: answer with the prompt's text before the completion.
    let echo: Bool
    /// The text ends before the first of these (not included).
    let stops: [String]
    /// Whether to answer with log-probabilities, and how many alternatives per token.
    let logprobs: Bool, topLogprobs: Int
    /// Streaming: a last chunk with the usage (`stream_options.include_usage`).
    let includeUsage: Bool

    /// The fields every request reads, over `prompt` (already tokenized): sampling, limits, stops.
    init(_ kind: Kind, _ body: Fields, prompt: [Int], promptText: String, server: ServerContext) throws {
        let context = server.model.config.nCtx
        guard !prompt.isEmpty else { throw APIError.invalid("the prompt is empty", param: kind == .chat ? "messages" : "prompt") }
        if let n = try body.int("n", in: 1...Int.max), n != 1 { throw APIError.invalid("'n' must be 1: one choice per request", param: "n") }
        let maxName = body.value("max_completion_tokens") != nil ? "max_completion_tokens" : "max_tokens"
        let room = context - prompt.count + 1                                          // the last new token needs no position
        guard room >= 1 else {
            throw APIError.invalid("the prompt is \(prompt.count) tokens; the model's context is \(context)", param: kind == .chat ? "messages" : "prompt",
                                   code: "context_length_exceeded")
        }
        let maxTokens = try body.int(maxName, in: 1...Int.max) ?? (kind == .completion ? min(16, room) : room)
        guard prompt.count + maxTokens - 1 <= context else {
            throw APIError.invalid("the prompt (\(prompt.count) tokens) and \(maxName) (\(maxTokens)) pass the model's context of \(context) tokens: ask for at most \(room)",
                                   param: maxName, code: "context_length_exceeded")
        }
        let temperature = try body.number("temperature", in: 0...2) ?? 1
        let topP = try body.number("top_p", in: 0...1)
        if topP == 0 { throw APIError.invalid("'top_p' must be in (0, 1], found 0", param: "top_p") }
        let topK = try body.int("top_k", in: 0...Int(Int32.max))
        var sampler = try Sampler(temperature: temperature, topK: topK == 0 ? nil : topK, topP: topP == 1 ? nil : topP)
        if server.tokenizer.vocabularySize < server.model.config.nVocab { sampler = sampler.choosing(amongFirst: server.tokenizer.vocabularySize) }
        let seed = try body.int("seed", in: Int.min...Int.max).map { UInt64(bitPattern: Int64($0)) } ?? 0
        stops = try body.strings("stop", limit: 4).filter { !$0.isEmpty } + (kind == .chat ? server.template.stopTexts : [])
        stream = try body.bool("stream") ?? false
        switch kind {
        case .completion:
            echo = try body.bool("echo") ?? false
            let count = try body.int("logprobs", in: 0...5)
            (logprobs, topLogprobs) = (count != nil, count ?? 0)
        case .chat:
            echo = false
            logprobs = try body.bool("logprobs") ?? false
            topLogprobs = try body.int("top_logprobs", in: 0...20) ?? 0
            if topLogprobs > 0 && !logprobs { throw APIError.invalid("'top_logprobs' needs 'logprobs': true", param: "top_logprobs") }
        }
        switch body.value("stream_options") {
        case nil: includeUsage = false
        case let .object(options)?: includeUsage = try Fields(options).bool("include_usage") ?? false
        case let other?: throw APIError.invalid("'stream_options' must be an object, found \(other.typeName)", param: "stream_options")
        }
        (self.kind, self.prompt, self.promptText) = (kind, prompt, promptText)
        let ignoreEOS = try body.bool("ignore_eos") ?? false                            // llama.cpp's server takes it too
        generation = GenerationRequest(prompt: prompt, maxNewTokens: maxTokens, sampler: sampler, seed: seed,
                                       stopTokens: ignoreEOS ? [] : server.stopTokens.union(kind == .chat ? server.template.stopTokens : []),
                                       logprobs: logprobs ? topLogprobs : nil)
    }

    /// `POST /v1/completions`: `prompt` as text or token ids.
    static func completion(_ body: Fields, server: ServerContext) throws -> Job {
        let tokens: [Int], text: String
        switch body.value("prompt") {
        case let .string(s)?:
            (tokens, text) = (server.tokenizer.encode(s), s)
        case let .array(items)? where items.count == 1:
            guard case let .string(s) = items[0] else { fallthrough }
            (tokens, text) = (server.tokenizer.encode(s), s)
        case let .array(items)?:
            let ids = items.compactMap { if case let .int(i) = $0 { i } else { nil } }
            guard ids.count == items.count else { throw APIError.invalid("'prompt' must be a string, or an array of token ids", param: "prompt") }
            if let bad = ids.first(where: { !(0..<server.model.config.nVocab).contains($0) }) {
                throw APIError.invalid("token id \(bad) is outside the vocabulary (0…\(server.model.config.nVocab - 1))", param: "prompt")
            }
            (tokens, text) = (ids, try server.tokenizer.decode(ids))
        case nil:
            throw APIError.invalid("'prompt' is required", param: "prompt")
        case let other?:
            throw APIError.invalid("'prompt' must be a string, or an array of token ids, found \(other.typeName)", param: "prompt")
        }
        return try Job(.completion, body, prompt: tokens, promptText: text, server: server)
    }

    /// `POST /v1/chat/completions`: `messages` laid out by the server's ``ChatTemplate``.
    static func chat(_ body: Fields, server: ServerContext) throws -> Job {
        guard case let .array(items)? = body.value("messages"), !items.isEmpty else {
            throw APIError.invalid("'messages' must be a non-empty array of {role, content}", param: "messages")
        }
        let messages = try items.enumerated().map { i, item -> ChatTemplate.Message in
            guard case let .object(fields) = item else { throw APIError.invalid("messages[\(i)] must be an object", param: "messages") }
            let message = Fields(fields)
            guard let role = try? message.string("role"), ["system", "user", "assistant", "developer"].contains(role) else {
                throw APIError.invalid("messages[\(i)].role must be system, user, assistant or developer", param: "messages")
            }
            guard let content = try? message.string("content") else { throw APIError.invalid("messages[\(i)].content must be a string", param: "messages") }
            return ChatTemplate.Message(role: role, content: content)
        }
        let text = server.template.layout(messages)
        return try Job(.chat, body, prompt: server.tokenizer.encode(text), promptText: text, server: server)
    }
}

import CommandSupport
import SwiftAttention

/// The JSON bodies of the server's answers, shaped as OpenAI's.
enum Responses {
    /// `{"error": {"message", "type", "param", "code"}}`.
    static func error(_ error: APIError) -> JSON {
        .object([("error", .object([("message", .string(error.message)), ("type", .string(error.type)),
                                    ("param", error.param.map(JSON.string) ?? .null), ("code", error.code.map(JSON.string) ?? .null)]))])
    }

    /// `usage`: tokens in and out.
    static func usage(prompt: Int, completion: Int) -> JSON {
        .object([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)), ("total_tokens", .int(prompt + completion))])
    }

    /// The envelope of a completion or chat answer or chunk.
    static func envelope(_ job: Job, id: String, created: Int, model: String, chunk: Bool, choices: [JSON], usage: JSON? = nil) -> JSON {
        let object = job.kind == .completion ? "text_completion" : (chunk ? "chat.completion.chunk" : "chat.completion")
        var fields: [(String, JSON)] = [("id", .string(id)), ("object", .string(object)), ("created", .int(created)),
                                        ("model", .string(model)), ("choices", .array(choices))]
        if let usage { fields.append(("usage", usage)) }
        return .object(fields)
    }

    /// One choice: `text` (completions) or `message`/`delta` (chat), its log-probabilities and finish reason.
    static func choice(_ job: Job, text: String, chunk: Bool, first: Bool = false, logprobs: [GeneratedToken], tokenizer: any Tokenizer,
                       finish: String?) -> JSON {
        var fields: [(String, JSON)] = [("index", .int(0))]
        if job.kind == .completion {
            fields.append(("text", .string(text)))
        } else if chunk {
            var delta: [(String, JSON)] = first ? [("role", .string("assistant"))] : []
            if !text.isEmpty || first { delta.append(("content", .string(text))) }
            fields.append(("delta", .object(delta)))
        } else {
            fields.append(("message", .object([("role", .string("assistant")), ("content", .string(text))])))
        }
        fields.append(("logprobs", job.logprobs ? Self.logprobs(job, logprobs, tokenizer: tokenizer) : .null))
        fields.append(("finish_reason", finish.map(JSON.string) ?? .null))
        return .object(fields)
    }

    /// Log-probabilities of `tokens`: the completions API's parallel arrays, or chat's `content` list.
    static func logprobs(_ job: Job, _ tokens: [GeneratedToken], tokenizer: any Tokenizer) -> JSON {
        func text(_ token: Int) -> String { (try? tokenizer.decode([token])) ?? "" }
        func bytes(_ token: Int) -> JSON {
            var out: [UInt8] = []
            try? tokenizer.appendBytes(of: token, to: &out)
            return .ints(out.map(Int.init))
        }
        if job.kind == .chat {
            return .object([("content", .array(tokens.map { t in
                .object([("token", .string(text(t.token))), ("logprob", .number(t.logprob ?? 0)), ("bytes", bytes(t.token)),
                         ("top_logprobs", .array(t.alternatives.map { .object([("token", .string(text($0.token))), ("logprob", .number($0.logprob)), ("bytes", bytes($0.token))]) }))])
            }))])
        }
        return .object([("tokens", .array(tokens.map { .string(text($0.token)) })),
                         ("token_logprobs", .array(tokens.map { .number($0.logprob ?? 0) })),
                         ("top_logprobs", .array(tokens.map { .object($0.alternatives.map { (text($0.token), .number($0.logprob)) }) }))])
    }
}

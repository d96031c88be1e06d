import CommandSupport
import Foundation
import Hummingbird
import Logging
import SwiftAttention
import Synchronization

/// The server's routes: `GET /health`, `GET /v1/models`, `POST /v1/completions`,
/// `POST /v1/chat/completions`, behind ``APIMiddleware``.
func makeRouter(_ server: ServerContext) -> Router<ServeRequestContext> {
    let router = Router(context: ServeRequestContext.self)
    router.middlewares.add(APIMiddleware(server: server))
    router.get("/health") { _, _ in
        let load = server.batcher.load
        return jsonResponse(.object([("status", .string("ok")), ("running", .int(load.running)), ("waiting", .int(load.waiting))]))
    }
    router.get("/v1/models") { _, _ in
        jsonResponse(.object([("object", .string("list")), ("data", .array([.object([
            ("id", .string(server.modelName)), ("object", .string("model")), ("created", .int(server.started)), ("owned_by", .string("swiftattention")),
            ("context_length", .int(server.model.config.nCtx)),
        ])]))]))
    }
    router.post("/v1/completions") { request, context in try await generate(.completion, request, context, server) }
    router.post("/v1/chat/completions") { request, context in try await generate(.chat, request, context, server) }
    return router
}

/// A JSON response.
func jsonResponse(_ json: JSON, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: json.text)))
}

/// Request ids: `cmpl-…` and `chatcmpl-…`, unique within a run.
private let requestCounter = Atomic<Int>(0)

/// A completion or chat request: parsed, queued with the batcher, answered whole or streamed as server-sent events.
private func generate(_ kind: Job.Kind, _ request: Request, _ context: ServeRequestContext, _ server: ServerContext) async throws -> Response {
    let body = try await request.body.collect(upTo: server.maxBodyBytes)
    let job = try kind == .completion ? Job.completion(Fields(json: Array(buffer: body)), server: server)
                                      : Job.chat(Fields(json: Array(buffer: body)), server: server)
    let id = (kind == .completion ? "cmpl-" : "chatcmpl-") + String(requestCounter.add(1, ordering: .relaxed).newValue, radix: 16)
    let created = Int(Date().timeIntervalSince1970), clock = ContinuousClock(), start = clock.now
    let tokens = try server.batcher.submit(job.generation)
    guard job.stream else {
        // Generated in a task of its own, cancelled if the client goes: its sequence is freed at the next step.
        let answer = Task {
            var run = Run(job: job, id: id, created: created, server: server, start: start)
            var generated: [GeneratedToken] = []
            var text = job.echo ? job.promptText : ""
            try await run.consume(tokens) { piece, token in
                generated.append(token)
                text += piece
            }
            if Task.isCancelled {
                run.log(error: ClientGone())
                throw ClientGone()
            }
            text += run.text.finish()
            let choice = Responses.choice(job, text: text, chunk: false, logprobs: generated, tokenizer: server.tokenizer, finish: run.finishReason)
            run.log()
            return jsonResponse(Responses.envelope(job, id: id, created: created, model: server.modelName, chunk: false, choices: [choice],
                                                   usage: Responses.usage(prompt: job.prompt.count, completion: run.completionTokens)))
        }
        let wait = { try await withTaskCancellationHandler { try await answer.value } onCancel: { answer.cancel() } }
        guard let watch = await context.clientWatch else { return try await wait() }
        return try await watch.watching(onGone: { answer.cancel() }, wait)
    }
    let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
    return Response(status: .ok, headers: headers, body: ResponseBody { writer in
        var run = Run(job: job, id: id, created: created, server: server, start: start)
        func send(_ json: JSON) async throws { try await writer.write(ByteBuffer(string: "data: \(json.text)\n\n")) }
        func chunk(_ text: String, first: Bool = false, logprobs: [GeneratedToken] = [], finish: String? = nil) async throws {
            let choice = Responses.choice(job, text: text, chunk: true, first: first, logprobs: logprobs, tokenizer: server.tokenizer, finish: finish)
            try await send(Responses.envelope(job, id: id, created: created, model: server.modelName, chunk: true, choices: [choice]))
        }
        do {
            if job.kind == .chat { try await chunk("", first: true) } else if job.echo { try await chunk(job.promptText) }
            try await run.consume(tokens) { piece, token in
                if !piece.isEmpty || job.logprobs { try await chunk(piece, logprobs: [token]) }
            }
            let rest = run.text.finish()
            try await chunk(rest, finish: run.finishReason)
            if job.includeUsage {
                try await send(Responses.envelope(job, id: id, created: created, model: server.modelName, chunk: true, choices: [],
                                                  usage: Responses.usage(prompt: job.prompt.count, completion: run.completionTokens)))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
            run.log()
        } catch {
            run.log(error: error)
            throw error
        }
    })
}

/// Why a request ended early: its client closed the connection.
struct ClientGone: Error, CustomStringConvertible {
    var description: String { "the client went away" }
}

/// One request's progress: its text so far, token counts and times, for the answer and the log line.
private struct Run {
    let job: Job, id: String, created: Int, server: ServerContext, start: ContinuousClock.Instant
    var text: CompletionText
    var completionTokens = 0, finish: FinishReason?
    var firstToken: ContinuousClock.Instant?

    init(job: Job, id: String, created: Int, server: ServerContext, start: ContinuousClock.Instant) {
        (self.job, self.id, self.created, self.server, self.start) = (job, id, created, server, start)
        text = CompletionText(tokenizer: server.tokenizer, stopTokens: job.generation.stopTokens, stops: job.stops)
    }

    /// Takes the generated tokens until the last (or until a stop string ends the
    /// text: dropping the stream then frees the sequence), handing `each` every
    /// token with the text it completes (often empty: characters and stop
    /// strings wait for the tokens after).
    mutating func consume(_ tokens: AsyncThrowingStream<GeneratedToken, any Error>,
                          _ each: (String, GeneratedToken) async throws -> Void) async throws {
        for try await token in tokens {
            completionTokens += 1
            finish = token.finish
            if firstToken == nil { firstToken = ContinuousClock.now }
            try await each(try text.append(token.token), token)
            if text.stopped { break }
        }
    }

    /// `stop` or `length`, as OpenAI names them.
    var finishReason: String { text.stopped ? "stop" : (finish ?? .stop).rawValue }

    /// The request's log line: id, tokens in and out, time to the first token, decode speed.
    func log(error: (any Error)? = nil) {
        let now = ContinuousClock.now
        func ms(_ d: Duration) -> String { String(format: "%.0f", Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15) }
        let decode = firstToken.map { now - $0 } ?? .zero
        let rate = completionTokens > 1 ? Double(completionTokens - 1) / max(Double(decode.components.seconds) + Double(decode.components.attoseconds) * 1e-18, 1e-9) : 0
        var line = "\(id) \(job.kind == .chat ? "chat" : "completion")\(job.stream ? " stream" : "") prompt_tokens=\(job.prompt.count) completion_tokens=\(completionTokens)"
        line += " first_token_ms=\(firstToken.map { ms($0 - start) } ?? "-") total_ms=\(ms(now - start)) decode_tokens_per_s=\(String(format: "%.1f", rate))"
        if let error { line += " ended: \(error)" } else { line += " finish=\(finishReason)" }
        server.logger.info("\(line)")
    }
}

import ArgumentParser
import CommandSupport
import Dispatch
import Foundation
import Serving
import SwiftAttention
import Synchronization

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over HTTP with the OpenAI API: completions and chat, streamed or not, many clients batched.",
        discussion: """
            Endpoints: GET /health, GET /v1/models, POST /v1/completions (prompt as text or token ids; max_tokens, \
            temperature, top_p, top_k, seed, stop, stream, echo, logprobs), POST /v1/chat/completions (messages laid out \
            with ChatML when the model's tokenizer_config.json has a ChatML chat_template, else as 'Role: content' lines \
            ending in 'Assistant:'; max_tokens or max_completion_tokens, logprobs, top_logprobs). Up to --parallel requests \
            decode together, one forward pass per step for all of them; more wait in a queue of --queue, and past that the \
            server answers 503. Defaults as OpenAI's: temperature 1, max_tokens 16 for completions (chat: the rest of the \
            context). Generation ends at the model's end-of-text token. Prints 'listening on http://HOST:PORT' on stdout \
            once ready; one log line per request on stderr. SIGINT or SIGTERM stop it after the requests in flight.
            """)

    @OptionGroup var model: ModelOptions
    @Option(help: "The address to listen on (loopback by default; 0.0.0.0 for every interface).")
    var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "The port to listen on, 0…65535 (0: any free port, printed at startup).")
    var port = 8080
    @Option(parsing: .unconditional, help: "How many requests decode together, 1…64 (each holds a KV cache of the whole context).")
    var parallel = 4
    @Option(parsing: .unconditional, help: "How many requests may wait for a free slot before the server answers 503, 0…100000.")
    var queue = 64
    @Option(help: "Require 'Authorization: Bearer KEY' on /v1/ requests.")
    var apiKey: String?
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try check(port, in: 0...65535, "--port")
        try check(parallel, in: 1...64, "--parallel")
        try check(queue, in: 0...100_000, "--queue")
        if apiKey?.isEmpty == true { throw ValidationError("--api-key must not be empty") }
    }

    func run() throws {
        compute.apply()
        let tokenizer = try loadTokenizer(model.model)
        let (gpt, loadSeconds) = try model.load()
        try checkTokenizer(tokenizer, fits: gpt.config, in: model.model)
        Console.note(String(format: "gpt serve: loaded %@ in %.2f s (%d threads, backend %@)", model.model, loadSeconds, LinearAlgebra.threadCount, compute.backend.rawValue))
        var settings = ServerSettings()
        (settings.host, settings.port, settings.parallel, settings.queueLimit, settings.apiKey) = (host, port, parallel, queue, apiKey)
        let outcome = Mutex<(any Error)?>(nil), done = DispatchSemaphore(value: 0)
        let (directory, backend) = (URL(fileURLWithPath: model.model), compute.backend)
        Task {
            do {
                try await serve(model: gpt, directory: directory, tokenizer: tokenizer, settings: settings, backend: backend) { host, port in
                    try? Console.print("listening on http://\(host):\(port)")
                }
            } catch {
                outcome.withLock { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.withLock({ $0 }) { throw error }
    }
}

import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwiftAttention

/// How `gpt serve` listens and batches.
public struct ServerSettings: Sendable {
    /// The address to listen on (loopback by default).
    public var host = "127.0.0.1"
    /// The port (0: any free one; the startup line names it).
    public var port = 8080
    /// How many requests decode together.
    public var parallel = 4
    /// How many requests may wait for a free sequence before the server answers 503.
    public var queueLimit = 64
    /// When set, `/v1/…` requests need `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// The largest request body taken (larger: 413).
    public var maxBodyBytes = 1 << 20

    public init() {}
}

/// Serves `model` (loaded from `directory`, with `tokenizer`) over HTTP with
/// the OpenAI API until SIGINT or SIGTERM; then it takes no new connections,
/// lets the requests in flight finish, and returns. `onListening` gets the
/// address and port once the server listens.
/// One line per event goes to standard error (swift-log; `LOG_LEVEL=debug` shows more).
public func serve(model: GPT, directory: URL, tokenizer: BPETokenizer, settings: ServerSettings, backend: Backend?,
                  onListening: @escaping @Sendable (String, Int) -> Void) async throws {
    let logger = serverLogger
    let batcher = try ContinuousBatcher(model: model, parallel: settings.parallel, queueLimit: settings.queueLimit, backend: backend)
    defer { batcher.close() }
    let context = ServerContext(model: model, tokenizer: tokenizer, template: ChatTemplate(directory: directory, tokenizer: tokenizer),
                                batcher: batcher, modelName: directory.standardizedFileURL.lastPathComponent,
                                stopTokens: Set([tokenizer.endOfText].compactMap { $0 }), apiKey: settings.apiKey,
                                maxBodyBytes: settings.maxBodyBytes, started: Int(Date().timeIntervalSince1970), logger: logger)
    logger.info("model \(context.modelName): \(model.config.modelType.rawValue), context \(model.config.nCtx), dtype \(model.dtype.rawValue); chat layout \(context.template.name); up to \(settings.parallel) requests decode together, \(settings.queueLimit) wait")
    let app = Application(router: makeRouter(context),
                          server: .http1(additionalChannelHandlers: [ClientWatch()]),
                          configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "swiftattention"),
                          onServerRunning: { channel in onListening(settings.host, channel.localAddress?.port ?? settings.port) },
                          logger: logger)
    try await app.runService()
}

/// The server's logger, writing to standard error (set up once per process).
private let serverLogger: Logger = {
    LoggingSystem.bootstrap(StreamLogHandler.standardError)
    var logger = Logger(label: "gpt-serve")
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
    return logger
}()

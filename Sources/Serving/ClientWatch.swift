import Hummingbird
import NIOCore
import Synchronization

/// Notices, on each connection, when the client closes its side (or the whole
/// connection), so that a request answered whole can stop generating for a
/// client that has gone; a streamed answer notices by failing to write.
/// A client that half-closes its connection while it waits for a whole
/// answer is taken as gone (HTTP clients do not do that; some very old ones did).
final class ClientWatch: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny                                                  // passes every request part on untouched

    private struct State {
        var gone = false
        var onGone: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { left() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        left()
        context.fireChannelInactive()
    }

    /// The client has gone: the request waiting on it (if any) is told, once.
    private func left() {
        let action = state.withLock { state in
            state.gone = true
            defer { state.onGone = nil }
            return state.onGone
        }
        action?()
    }

    /// Runs `body`, calling `onGone` if the client goes meanwhile (at once if it already has).
    /// One request at a time per connection: HTTP/1 answers them in turn.
    func watching<T>(onGone: @escaping @Sendable () -> Void, _ body: () async throws -> T) async rethrows -> T {
        let gone = state.withLock { state in
            if !state.gone { state.onGone = onGone }
            return state.gone
        }
        if gone { onGone() }
        defer { state.withLock { $0.onGone = nil } }
        return try await body()
    }
}

/// The request context of `gpt serve`'s routes: Hummingbird's basic one, and
/// the connection's ``ClientWatch``.
struct ServeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The connection's watch (`nil` only if the pipeline lacks one).
    var clientWatch: ClientWatch? {
        get async { try? await channel.pipeline.handler(type: ClientWatch.self).get() }
    }
}

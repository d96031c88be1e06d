import CommandSupport
import Hummingbird
import SwiftAttention

/// In front of every route: the API key, when the server has one, and every
/// error turned into OpenAI's error object with its status (400 for a bad
/// request, 401, 404, 413 for a body past the limit, 503 when the queue is
/// full), logged in one line.
struct APIMiddleware<Context: RequestContext>: RouterMiddleware {
    let server: ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            if let key = server.apiKey, request.uri.path.hasPrefix("/v1/"), request.headers[.authorization] != "Bearer \(key)" {
                throw APIError(status: .unauthorized, message: "a valid API key is needed: send the header 'Authorization: Bearer KEY'",
                               type: "invalid_request_error", param: nil, code: "invalid_api_key")
            }
            return try await next(request, context)
        } catch {
            let api = Self.apiError(error, server: server)
            if !(error is ClientGone) {                                                 // its own line said so; no one reads the answer
                server.logger.info("\(request.method) \(request.uri.path) \(api.status.code): \(api.message)")
            }
            return jsonResponse(Responses.error(api), status: api.status)
        }
    }

    /// What a client is told about `error`.
    static func apiError(_ error: any Error, server: ServerContext) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as BatcherError:
            return APIError(status: .serviceUnavailable, message: "\(error)", type: "server_error", param: nil, code: "server_busy")
        case let error as InputError: return .invalid("\(error)", param: "prompt")
        case let error as ModelError: return .invalid("\(error)")
        case let error as any HTTPResponseError:
            switch error.status {
            case .contentTooLarge: return APIError(status: .contentTooLarge, message: "the body is larger than \(server.maxBodyBytes) bytes",
                                                   type: "invalid_request_error", param: nil, code: "body_too_large")
            case .notFound: return APIError(status: .notFound, message: "no such path: the server answers /health, /v1/models, /v1/completions and /v1/chat/completions",
                                            type: "invalid_request_error", param: nil, code: "not_found")
            default: return APIError(status: error.status, message: error.status.reasonPhrase, type: "invalid_request_error", param: nil, code: nil)
            }
        default: return APIError(status: .internalServerError, message: "\(error)", type: "server_error", param: nil, code: nil)
        }
    }
}

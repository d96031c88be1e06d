import HTTPTypes

/// An error as the OpenAI API reports it: an HTTP status and
/// `{"error": {"message", "type", "param", "code"}}`.
struct APIError: Error {
    let status: HTTPResponse.Status
    let message: String
    let type: String
    let param: String?
    let code: String?

    /// A request that is malformed or asks for something the model cannot do (400).
    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }
}

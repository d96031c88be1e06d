import SwiftAttention

/// Turns generated tokens into the text a client sees, as `gpt generate
/// --prompt` prints it: whole characters only (a character split over tokens
/// comes out with its last byte), stop tokens never shown, and the text cut
/// before the first stop string. Text that might be the start of a stop string
/// is held back until the next tokens tell.
struct CompletionText {
    private var stream: TextStream
    private let stopTokens: Set<Int>, stops: [String]
    /// Decoded text not yet released: it could begin a stop string.
    private var held = ""
    /// Whether a stop string ended the text.
    private(set) var stopped = false

    init(tokenizer: any Tokenizer, stopTokens: Set<Int>, stops: [String]) {
        (stream, self.stopTokens, self.stops) = (tokenizer.textStream(), stopTokens, stops)
    }

    /// The text `token` releases (possibly empty); nothing once stopped.
    mutating func append(_ token: Int) throws -> String {
        guard !stopped, !stopTokens.contains(token) else { return "" }
        held += try stream.append(token)
        return release()
    }

    /// What is still held (an unfinished character becomes U+FFFD), unless a stop string ended the text.
    mutating func finish() -> String {
        guard !stopped else { return "" }
        held += stream.finish()
        let rest = release()
        defer { held = "" }
        return rest + held
    }

    /// Releases `held` up to the first stop string (then stops), or all of it
    /// but the longest ending that begins a stop string.
    private mutating func release() -> String {
        if let cut = stops.compactMap({ held.range(of: $0)?.lowerBound }).min() {
            defer { held = ""; stopped = true }
            return String(held[..<cut])
        }
        var keep = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, held.count), to: keep, by: -1) where held.hasSuffix(stop.prefix(length)) {
                keep = length
                break
            }
        }
        defer { held = String(held.suffix(keep)) }
        return String(held.dropLast(keep))
    }
}

/// A problem with the tokens or text given to a model, worded for the user.
public enum InputError: Error, Equatable, CustomStringConvertible {
    /// No tokens (or no text) were given.
    case empty
    /// A token id outside `0..<vocabularySize`.
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    /// More positions than the model's context.
    case contextOverflow(count: Int, context: Int)
    /// A character the tokenizer does not know.
    case unknownCharacter(Character, vocabulary: [String])

    public var description: String {
        switch self {
        case .empty:
            return "no input tokens: give at least one"
        case let .tokenOutOfRange(t, v):
            return "token id \(t) is outside the vocabulary (valid ids are 0…\(v - 1))"
        case let .contextOverflow(n, ctx):
            return "\(n) tokens do not fit the model's context of \(ctx) positions"
        case let .unknownCharacter(ch, vocab):
            return "character \"\(ch)\" is not in the vocabulary (\(vocab.joined(separator: ", ")))"
        }
    }
}

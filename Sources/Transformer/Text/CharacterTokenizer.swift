/// A tokenizer whose tokens are single characters: token `i` is `vocabulary[i]`.
/// The hand-set model uses `["a", "b"]` (a = 0, b = 1).
public struct CharacterTokenizer: Sendable, Equatable {
    /// The characters, in token-id order.
    public let vocabulary: [String]

    /// A tokenizer over single-character strings.
    public init(vocabulary: [String]) {
        precondition(vocabulary.allSatisfy { $0.count == 1 }, "CharacterTokenizer: every entry must be one character: \(vocabulary)")
        self.vocabulary = vocabulary
    }

    /// The token ids of `text`.
    ///
    /// - Throws: ``InputError/unknownCharacter(_:vocabulary:)`` for a character not in the vocabulary.
    public func encode(_ text: String) throws -> [Int] {
        try text.map { ch in
            guard let i = vocabulary.firstIndex(of: String(ch)) else {
                throw InputError.unknownCharacter(ch, vocabulary: vocabulary)
            }
            return i
        }
    }

    /// The text of `tokens`.
    ///
    /// - Throws: ``InputError/tokenOutOfRange(token:vocabularySize:)`` for an id outside the vocabulary.
    public func decode(_ tokens: [Int]) throws -> String {
        try tokens.map { t in
            guard vocabulary.indices.contains(t) else { throw InputError.tokenOutOfRange(token: t, vocabularySize: vocabulary.count) }
            return vocabulary[t]
        }.joined()
    }
}

/// A tokenizer whose tokens are single characters: token `i` is `vocabulary[i]`.
/// The hand-set model uses `["a", "b"]` (a = 0, b = 1).
public struct CharacterTokenizer: Tokenizer, Equatable {
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

    public func appendBytes(of token: Int, to bytes: inout [UInt8]) throws {
        guard vocabulary.indices.contains(token) else {
            throw InputError.tokenOutOfRange(token: token, vocabularySize: vocabulary.count)
        }
        bytes.append(contentsOf: vocabulary[token].utf8)
    }

    public var vocabularySize: Int { vocabulary.count }

    /// None: the vocabulary is characters only.
    public var endOfText: Int? { nil }
}

/// Turns text into token ids and token ids back into text.
///
/// ``CharacterTokenizer`` (the hand-set model's) and ``BPETokenizer`` (GPT-2's
/// and the Llama family's byte-pair encodings) conform, so code that runs a model on text treats them alike.
/// A token stands for some bytes of UTF-8 — for a byte-level BPE possibly part
/// of a character — so decoding goes through bytes: ``decode(_:)`` replaces
/// bytes that are not valid UTF-8 with U+FFFD, and ``TextStream`` turns tokens
/// into text as they arrive, holding back a character until all its bytes are there.
public protocol Tokenizer: Sendable {
    /// The token ids of `text`.
    func encode(_ text: String) throws -> [Int]
    /// The text of `tokens` (bytes that do not form valid UTF-8 become U+FFFD).
    ///
    /// - Throws: ``InputError/tokenOutOfRange(token:vocabularySize:)`` for an id outside the vocabulary.
    func decode(_ tokens: [Int]) throws -> String
    /// Appends the bytes token `token` stands for to `bytes`.
    ///
    /// - Throws: ``InputError/tokenOutOfRange(token:vocabularySize:)`` for an id outside the vocabulary.
    func appendBytes(of token: Int, to bytes: inout [UInt8]) throws
    /// How many token ids there are.
    var vocabularySize: Int { get }
    /// The id that marks the end of a text, if the vocabulary has one.
    var endOfText: Int? { get }
}

extension Tokenizer {
    /// The text of `tokens` (bytes that do not form valid UTF-8 become U+FFFD).
    ///
    /// - Throws: ``InputError/tokenOutOfRange(token:vocabularySize:)`` for an id outside the vocabulary.
    public func decode(_ tokens: [Int]) throws -> String {
        var bytes: [UInt8] = []
        for t in tokens { try appendBytes(of: t, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A stream that turns this tokenizer's tokens into text as they come.
    public func textStream() -> TextStream { TextStream(self) }
}

/// Decodes tokens one at a time, emitting text as soon as it is complete
/// UTF-8: a character whose bytes are split over several tokens comes out
/// with its last byte. Everything ``append(_:)`` returned, followed by
/// ``finish()``, equals ``Tokenizer/decode(_:)`` of the same tokens.
///
/// ```swift
/// var stream = tokenizer.textStream()
/// for t in tokens { print(try stream.append(t), terminator: "") }
/// print(stream.finish())
/// ```
public struct TextStream {
    private let tokenizer: any Tokenizer
    /// Bytes received but not yet emitted: the start of a character.
    private var pending: [UInt8] = []

    /// A stream decoding `tokenizer`'s tokens.
    public init(_ tokenizer: any Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Takes one more token; returns the text it completes (possibly empty).
    ///
    /// - Throws: ``InputError/tokenOutOfRange(token:vocabularySize:)`` (the stream is unchanged).
    public mutating func append(_ token: Int) throws -> String {
        try tokenizer.appendBytes(of: token, to: &pending)
        let cut = TextStream.completePrefix(pending)
        defer { pending.removeFirst(cut) }
        return String(decoding: pending[..<cut], as: UTF8.self)
    }

    /// The bytes still held back (an unfinished character, which becomes U+FFFD);
    /// the stream is empty afterwards.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many of `bytes` can be decoded now: all but a trailing sequence that
    /// starts like a multi-byte character and is still missing bytes. A cut
    /// there always falls where a decoder starts a new sequence (before a byte
    /// that is not a continuation byte), so decoding in pieces equals decoding whole.
    static func completePrefix(_ bytes: [UInt8]) -> Int {
        var lead = bytes.count - 1
        while lead >= 0 && lead >= bytes.count - 4 && bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
        guard lead >= 0 else { return bytes.count }
        let length: Int
        switch bytes[lead] {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return bytes.count                          // ASCII or a byte that never starts a character
        }
        return bytes.count - lead < length ? lead : bytes.count
    }
}

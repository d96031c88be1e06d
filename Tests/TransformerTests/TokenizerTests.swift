import Foundation
import SwiftAttention
import TestSupport
import Testing

/// GPT-2's tokenizer files, checked in beside the fixtures.
let gpt2TokenizerDirectory = fixturesDirectory.appendingPathComponent("gpt2-tokenizer")
let gpt2TokenizerLoad = Result { try BPETokenizer(directory: gpt2TokenizerDirectory) }

/// What `scripts/make_tokenizer_fixture.py` recorded from Hugging Face `tokenizers`.
struct TokenizerFixture: Decodable {
    struct Case: Decodable { let text: String; let ids: [Int] }
    let tokenizers_version: String
    let cases: [Case]
}
let tokenizerFixtureLoad = Result { try loadFixture("gpt2-tokenizer-expected.json", as: TokenizerFixture.self) }

@Suite("GPT-2's byte-level BPE against Hugging Face tokenizers")
struct TokenizerTests {
    let gpt2Tokenizer: BPETokenizer
    let tokenizerFixture: TokenizerFixture
    init() throws {
        gpt2Tokenizer = try gpt2TokenizerLoad.get()
        tokenizerFixture = try tokenizerFixtureLoad.get()
    }

    @Test func idsMatchHuggingFace() {
        #expect(tokenizerFixture.cases.count > 70)
        var wrong: [String] = []
        for c in tokenizerFixture.cases where gpt2Tokenizer.encode(c.text) != c.ids {
            wrong.append("\(c.text.debugDescription.prefix(60)): \(gpt2Tokenizer.encode(c.text).prefix(12)) vs \(c.ids.prefix(12))")
        }
        #expect(wrong.isEmpty, "\(wrong.count) texts differ:\n\(wrong.joined(separator: "\n"))")
    }

    @Test func decodeInvertsEncode() throws {
        for c in tokenizerFixture.cases {
            #expect(try gpt2Tokenizer.decode(c.ids) == c.text, "\(c.text.debugDescription.prefix(60))")
        }
        #expect(gpt2Tokenizer.encode("") == [])
        #expect(gpt2Tokenizer.vocabularySize == 50257 && gpt2Tokenizer.endOfText == 50256)
        #expect(gpt2Tokenizer.encode("Hello, world") == [15496, 11, 995])
    }

    /// Streaming any prefix of the ids, then finishing, gives that prefix's text; text
    /// comes out as soon as a character is complete.
    @Test func streamingEqualsDecodingEveryPrefix() throws {
        for c in tokenizerFixture.cases {
            var stream = gpt2Tokenizer.textStream()
            var emitted = "", bytes: [UInt8] = []
            for id in c.ids {
                emitted += try stream.append(id)
                try gpt2Tokenizer.appendBytes(of: id, to: &bytes)
                var rest = stream
                let whole = emitted + rest.finish()
                #expect(whole == String(decoding: bytes, as: UTF8.self), "\(c.text.debugDescription.prefix(40)) after \(bytes.count) bytes")
                // Held back: at most the start of one character.
                #expect(bytes.count - emitted.utf8.count <= 3 || emitted.contains("\u{FFFD}"))
            }
            #expect(emitted + stream.finish() == c.text)
        }
    }

    @Test func partialCharactersAreHeldBack() throws {
        // 😀 is F0 9F 98 80: GPT-2 spells it with several byte tokens.
        let ids = gpt2Tokenizer.encode("😀")
        #expect(ids.count > 1)
        var stream = gpt2Tokenizer.textStream()
        let parts = try ids.map { try stream.append($0) }
        #expect(parts.dropLast().allSatisfy(\.isEmpty) && parts.last == "😀")
        // A stream cut off inside a character ends it with U+FFFD, as decode does.
        var cut = gpt2Tokenizer.textStream()
        #expect(try cut.append(ids[0]) == "")
        #expect(cut.finish() == "\u{FFFD}")
        #expect(try gpt2Tokenizer.decode([ids[0]]) == "\u{FFFD}")
        // A bad id throws and leaves the stream as it was.
        #expect(throws: InputError.tokenOutOfRange(token: 50257, vocabularySize: 50257)) { try stream.append(50257) }
        #expect(throws: InputError.tokenOutOfRange(token: -1, vocabularySize: 50257)) { try gpt2Tokenizer.decode([1, -1]) }
        #expect(try stream.append(15496) == "Hello")
    }

    @Test func endOfText() throws {
        #expect(gpt2Tokenizer.encode("a<|endoftext|>b") == [64, 50256, 65])
        #expect(try gpt2Tokenizer.decode([50256]) == "<|endoftext|>")
    }

    @Test func characterTokenizerIsATokenizer() throws {
        let t: any Tokenizer = CharacterTokenizer(vocabulary: ["a", "é", "😀"])
        #expect(try t.encode("aé😀") == [0, 1, 2])
        #expect(try t.decode([2, 1, 0]) == "😀éa")
        var stream = t.textStream()
        #expect(try stream.append(2) == "😀")
        #expect(t.endOfText == nil && t.vocabularySize == 3)
    }

    @Test func brokenTokenizerFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: CheckpointError(file: dir.path, "no tokenizer: tokenizer.json, or vocab.json and merges.txt (or encoder.json and vocab.bpe), are missing",
                                        kind: .missing)) { try BPETokenizer(directory: dir) }
        let vocab = dir.appendingPathComponent("vocab.json"), merges = dir.appendingPathComponent("merges.txt")
        try Data("[1, 2]".utf8).write(to: vocab)
        try Data("#version: 0.2\n".utf8).write(to: merges)
        #expect(throws: CheckpointError(file: vocab.path, "is not a JSON object of token -> id")) { try BPETokenizer(directory: dir) }
        try FileManager.default.removeItem(at: vocab)
        try FileManager.default.copyItem(at: gpt2TokenizerDirectory.appendingPathComponent("encoder.json"), to: vocab)
        try Data("#version: 0.2\nĠ t\nnot-a-pair\n".utf8).write(to: merges)
        #expect(throws: CheckpointError(file: merges.path, "line 3 is not two tokens separated by a space")) { try BPETokenizer(directory: dir) }
        try Data("#version: 0.2\nĠ t\nzzzq xyzzy\n".utf8).write(to: merges)
        #expect(throws: CheckpointError(file: dir.path, "tokenizer: merges[1]: \"zzzq xyzzy\": the vocabulary lacks zzzq")) {
            try BPETokenizer(directory: dir)
        }
    }
}

import Foundation
import SwiftAttention
import TestSupport
import Testing

@Suite("The hand-set aab model")
struct HandmadeTests {
    let ops: OpsFixture
    init() throws {
        ops = try opsLoad.get()
    }

    let gpt = GPT.handmade
    let tokenizer = CharacterTokenizer.handmade

    @Test(arguments: Backend.allCases)
    func scores27of27(backend: Backend) throws {
        let tokens = try tokenizer.encode(String(repeating: "aab", count: 10))
        let (correct, total) = try gpt.nextTokenAccuracy(on: tokens, from: 2, backend: backend)
        #expect(correct == 27 && total == 27)
    }

    @Test(arguments: Backend.allCases)
    func logitsMatchReference(backend: Backend) throws {
        expectClose(try gpt(tokenizer.encode("aab"), backend: backend), ops.handmade_aab_logits, relative: 1e-9)
    }

    @Test(arguments: Backend.allCases)
    func completes(backend: Backend) throws {
        let new = try gpt.greedyContinuation(of: tokenizer.encode("aab"), count: 10, backend: backend)
        #expect(try tokenizer.decode(new) == "aabaabaaba")
    }

    /// The library's built-in copy of the weights equals the reference file (kept in Tests/Fixtures).
    @Test func builtInCopyEqualsReferenceFile() throws {
        #expect(try GPT(json: Data(contentsOf: fixturesDirectory.appendingPathComponent("handmade-model.json"))) == gpt)
        #expect(gpt.config == GPTConfig(nCtx: 5, nVocab: 2, nEmbd: 8, nHead: 1, nLayer: 1))
        #expect(gpt.vocabulary == ["a", "b"])
    }

    @Test func tokenizerRejectsUnknownCharacters() throws {
        #expect(throws: InputError.unknownCharacter("c", vocabulary: ["a", "b"])) { try tokenizer.encode("abc") }
        #expect(try tokenizer.decode([0, 1, 1]) == "abb")
        #expect(throws: InputError.tokenOutOfRange(token: 2, vocabularySize: 2)) { try tokenizer.decode([0, 2]) }
    }
}

import Foundation
import SwiftAttention
import TestSupport
import Testing

/// The `tokenizer.json` fixtures (`scripts/make_hf_tokenizer_fixtures.py`):
/// tokenizers trained with Hugging Face `tokenizers` in the settings of Llama 3,
/// Qwen2, SmolLM2 and Llama 2, with the ids `tokenizers` gives a varied corpus.
let hfTokenizerKinds = ["llama3", "qwen2", "smollm2", "llama2"]

/// A fixture's cases: texts, their ids, and the text the ids decode to.
struct TokenizerCases: Decodable {
    struct Case: Decodable { let text: String, ids: [Int], decoded: String }
    let vocabulary_size: Int, cases: [Case]
}

func hfTokenizerDirectory(_ kind: String) -> URL { fixturesDirectory.appendingPathComponent("hf-tokenizers/\(kind)") }

@Suite("tokenizer.json tokenizers (Llama 3, Qwen2, SmolLM2, Llama 2) against Hugging Face tokenizers")
struct HFTokenizerTests {
    @Test(arguments: hfTokenizerKinds)
    func idsAndTextEqualTokenizers(kind: String) throws {
        let tokenizer = try BPETokenizer(directory: hfTokenizerDirectory(kind))
        let fixture = try JSONDecoder().decode(TokenizerCases.self, from: Data(contentsOf: hfTokenizerDirectory(kind).appendingPathComponent("cases.json")))
        #expect(tokenizer.vocabularySize == fixture.vocabulary_size)
        for c in fixture.cases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(kind): \(c.text.debugDescription)")
            #expect(try tokenizer.decode(c.ids) == c.decoded, "\(kind): \(c.text.debugDescription)")
        }
    }

    /// The special tokens the configuration names.
    @Test func beginAndEndOfText() throws {
        let llama3 = try BPETokenizer(directory: hfTokenizerDirectory("llama3")), llama2 = try BPETokenizer(directory: hfTokenizerDirectory("llama2"))
        #expect(llama3.beginOfText == 0 && llama3.endOfText == 1 && llama2.beginOfText == 1 && llama2.endOfText == 2)
        let qwen = try BPETokenizer(directory: hfTokenizerDirectory("qwen2"))
        #expect(qwen.beginOfText == nil && qwen.endOfText == 0)
    }
}

/// The message of loading the llama3 fixture's `tokenizer.json` with `edit`
/// applied (its directory's path left out), or nil when it loads.
func editedTokenizerMessage(_ edit: (inout [String: Any]) -> Void) throws -> String? {
    var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: hfTokenizerDirectory("llama3").appendingPathComponent("tokenizer.json"))) as? [String: Any])
    edit(&json)
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("tokenizer.json"))
    do {
        _ = try BPETokenizer(directory: dir)
        return nil
    } catch {
        return "\(error)".replacingOccurrences(of: dir.path + "/", with: "")
    }
}

extension HFTokenizerTests {
    /// A `tokenizer.json` of a kind not implemented is refused, naming what.
    @Test func kindsNotImplemented() throws {
        let cases: [((inout [String: Any]) -> Void, String)] = [
            ({ $0["model"] = ["type": "Unigram", "vocab": []] }, "model.type Unigram is not implemented (BPE is)"),
            ({ var pre = $0["pre_tokenizer"] as! [String: Any], steps = pre["pretokenizers"] as! [[String: Any]]
               steps[0]["pattern"] = ["Regex": "\\w+"]; pre["pretokenizers"] = steps; $0["pre_tokenizer"] = pre },
             "pre_tokenizer: this Split pattern is not implemented (Llama 3's and Qwen2's patterns are)"),
            ({ $0["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true, "use_regex": true] },
             "pre_tokenizer: ByteLevel's add_prefix_space is not implemented"),
            ({ $0["normalizer"] = ["type": "NFKC"] }, "normalizer [\"NFKC\"] is not implemented (none or NFC is)"),
            ({ $0["pre_tokenizer"] = ["type": "Whitespace"] }, "pre_tokenizer [\"Whitespace\"] with normalizer [] is not implemented"),
        ]
        for (edit, message) in cases { #expect(try editedTokenizerMessage(edit) == "tokenizer.json: " + message) }
    }

    /// Ids must be dense: a huge or repeated id is refused, naming the token, before anything is sized by it.
    @Test func idsOutsideTheVocabulary() throws {
        for (id, reason) in [(1_000_000_000_000, "outside 0…700 (ids must be dense)"), (5, "which another token has")] {
            let message = try editedTokenizerMessage { json in                // <|end_of_text|>: far away, or another token's id
                var added = json["added_tokens"] as! [[String: Any]]
                added[1]["id"] = id
                json["added_tokens"] = added
            }
            #expect(message == "tokenizer.json: added_tokens: \"<|end_of_text|>\" has id \(id), \(reason)")
        }
    }
}

import Foundation
import TestSupport
import Testing

/// Runs `script` with `/bin/sh`, `$GPT` naming the `gpt` executable (for
/// redirections a `Process` cannot express: `>/dev/full`, `>&-`, `<&-`).
func runShell(_ script: String, environment extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    environment["GPT"] = executable("gpt").path
    return try run(URL(fileURLWithPath: "/bin/sh"), ["-c", script], environment: environment)
}

/// `path` quoted for the shell.
func quoted(_ path: String) -> String { "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'" }

@Suite("gpt: every I/O failure and corrupted value is a clean error", slowSuite)
struct ReliabilityCLITests {
    /// Every command's output, written where it cannot go.
    static let commands: [String] = {
        let m = quoted(tinyModel), t = quoted(gpt2TokenizerPath)
        return [
            "generate --model \(m) --tokens 1,2 --max-new-tokens 3", "generate --model \(m) --tokens 1,2 --max-new-tokens 3 --json",
            "tokenize --model \(t) hi", "detokenize --model \(t) --tokens 15496", "logits --model \(m) --tokens 1,2",
            "inspect --model \(m) --tokens 1,2 --json", "info --model \(m)", "handmade aab", "--help",
        ]
    }()

    @Test(arguments: commands)
    func fullStandardOutput(command: String) throws {
        let r = try runShell("exec \"$GPT\" \(command) >/dev/full")
        #expect(r.status == 74, "\(command): \(r)")
        #expect(r.err == "gpt: error: cannot write to standard output: No space left on device\n", "\(command): \(r.err)")
    }

    @Test(arguments: commands)
    func closedStandardOutput(command: String) throws {
        let r = try runShell("exec \"$GPT\" \(command) >&-")
        #expect(r.status == 74, "\(command): \(r)")
        #expect(r.err == "gpt: error: cannot write to standard output: Bad file descriptor\n", "\(command): \(r.err)")
    }

    /// With standard error full or closed too, the exit code is all that is left.
    @Test func unwritableStandardError() throws {
        for redirect in ["2>/dev/full", "2>&-"] {
            let bad = try runShell("exec \"$GPT\" detokenize --model \(quoted(gpt2TokenizerPath)) --tokens 99999 \(redirect)")
            #expect(bad.status == 74 && bad.out.isEmpty, "\(redirect): \(bad)")
            let full = try runShell("exec \"$GPT\" handmade aab >/dev/full \(redirect)")
            #expect(full.status == 74, "\(redirect): \(full)")
        }
    }

    /// A reader that goes away ends the generation quietly, long before it would have finished.
    @Test func closedPipe() throws {
        let started = Date()
        let r = try runShell("\"$GPT\" generate --model \(quoted(tinyModel)) --tokens 1 --max-new-tokens 1000000 --ignore-eos | head -c 4")
        #expect(r.status == 0 && r.out.count == 4 && r.err.isEmpty, "\(r)")
        #expect(Date().timeIntervalSince(started) < 60)
    }

    @Test func unreadableStandardInput() throws {
        let m = quoted(tinyModel), t = quoted(gpt2TokenizerPath)
        for command in ["tokenize --model \(t) -", "generate --model \(m) --prompt -", "logits --model \(m) --prompt -",
                        "inspect --model \(m) --prompt -"] {
            let closed = try runShell("exec \"$GPT\" \(command) <&-")
            expectFailure(closed, code: 74, "cannot read standard input: Bad file descriptor")
            let directory = try runShell("exec \"$GPT\" \(command) </")
            expectFailure(directory, code: 74, "cannot read standard input: Is a directory")
        }
    }

    @Test func standardInputThatIsNotUTF8() throws {
        let r = try runShell("printf 'A\\303\\050' | \"$GPT\" tokenize --model \(quoted(gpt2TokenizerPath)) -")
        expectFailure(r, code: 65, "standard input is not UTF-8: invalid byte 0xC3 at offset 1")
        let lone = try runShell("printf 'ab\\377' | \"$GPT\" tokenize --model \(quoted(gpt2TokenizerPath)) -")
        expectFailure(lone, code: 65, "invalid byte 0xFF at offset 2")
    }

    @Test func threadsVariable() throws {
        for value in ["0", "-5", "abc", "100000", ""] {
            let r = try runGPT(["handmade", "aab"], environment: ProcessInfo.processInfo.environment.merging(["SWIFTATTENTION_NUM_THREADS": value]) { $1 })
            expectFailure(r, code: 64, "SWIFTATTENTION_NUM_THREADS must be an integer in 1…")
        }
        let ok = try runGPT(["handmade", "aab"], environment: ProcessInfo.processInfo.environment.merging(["SWIFTATTENTION_NUM_THREADS": "1"]) { $1 })
        #expect(ok.status == 0)
    }

    /// Token ids are checked against the model's vocabulary by every command, as `generate` checks them.
    @Test func vocabularyRuleEverywhere() throws {
        let dir = try textModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let size = 256 + 5 + 1
        expectFailure(try runGPT(["detokenize", "--model", dir.path, "--tokens", "\(size)"]), code: 65,
                      "token id \(size) is outside the vocabulary (valid ids are 0…\(size - 1))")
        expectFailure(try runGPT(["generate", "--model", dir.path, "--tokens", "\(size)"]), code: 65,
                      "token id \(size) is outside the vocabulary (valid ids are 0…\(size - 1))")
        expectFailure(try runGPT(["detokenize", "--model", dir.path, "--tokens", "-1"]), code: 65, "token id -1 is outside the vocabulary")
        expectFailure(try runGPT(["generate", "--model", dir.path, "--tokens", "-1"]), code: 65, "token id -1 is outside the vocabulary")
        // A tokenizer that does not fit the model's config is refused by tokenize too.
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        config["vocab_size"] = size + 1
        config["n_vocab"] = size + 1
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        expectFailure(try runGPT(["tokenize", "--model", dir.path, "the"]), code: 65, "they do not belong together")
    }

    @Test func messagesAreOneLineWithControlCharactersEscaped() throws {
        expectFailure(try runGPT(["generate", "--model", tinyModel, "--tokens", "1,\n2x"]), code: 64, "'\\n2x' is not a token id")
        expectFailure(try runGPT(["generate", "--model", tinyModel + "\u{1B}[31m", "--tokens", "1"]), code: 66, "\\u{1B}[31m")
    }

    /// A bad --model is reported as such, whichever input flag came with it.
    @Test func missingModelNamedWhateverTheInput() throws {
        let path = "/nonexistent/model-\(UUID().uuidString)"
        for input in [["--prompt", "hi"], ["--tokens", "1"]] {
            for command in ["generate", "logits", "inspect"] {
                expectFailure(try runGPT([command, "--model", path] + input), code: 66, "\(path): no such model directory")
            }
        }
        expectFailure(try runGPT(["tokenize", "--model", path, "hi"]), code: 66, "\(path): no such model directory")
    }

    /// vocab.json goes through the same file checks as merges.txt, with the same exit codes.
    @Test func tokenizerFilesThatAreNotRegularFiles() throws {
        let dir = try textModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["vocab.json", "merges.txt"] {
            let url = dir.appendingPathComponent(name), saved = try Data(contentsOf: url)
            try FileManager.default.removeItem(at: url)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
            expectFailure(try runGPT(["tokenize", "--model", dir.path, "hi"]), code: 74, "\(name): is a directory, not a file")
            try FileManager.default.removeItem(at: url)
            #expect(mkfifo(url.path, 0o600) == 0)
            expectFailure(try runGPT(["tokenize", "--model", dir.path, "hi"]), code: 74, "\(name): is not a regular file")
            try FileManager.default.removeItem(at: url)
            try saved.write(to: url)
        }
    }

    @Test func repeatedKeysAreRefused() throws {
        let dir = try textModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let configURL = dir.appendingPathComponent("config.json")
        let config = try String(contentsOf: configURL, encoding: .utf8)
        try ("{\"n_embd\": 64, " + config.dropFirst()).write(to: configURL, atomically: true, encoding: .utf8)
        expectFailure(try runGPT(["generate", "--model", dir.path, "--tokens", "1"]), code: 65, "config.json: key \"n_embd\" appears twice in one object")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        let vocabURL = dir.appendingPathComponent("vocab.json")
        let vocab = try String(contentsOf: vocabURL, encoding: .utf8)
        try ("{\"he\": 3, " + vocab.dropFirst()).write(to: vocabURL, atomically: true, encoding: .utf8)
        expectFailure(try runGPT(["tokenize", "--model", dir.path, "hi"]), code: 65, "vocab.json: key \"he\" appears twice in one object")
    }

    /// A NaN weight is refused when the model loads, by every command that loads one.
    @Test func nonFiniteWeights() throws {
        let dir = try textModel(nonFinite: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for command in [["generate", "--tokens", "1"], ["logits", "--tokens", "1"], ["inspect", "--tokens", "1"], ["info"],
                        ["generate", "--prompt", "the"]] {
            let r = try runGPT([command[0], "--model", dir.path] + command.dropFirst())
            expectFailure(r, code: 65, "ln_f.g: nan at [0, 3] (tensor ln_f.weight in a checkpoint): weights must be finite")
        }
    }
}

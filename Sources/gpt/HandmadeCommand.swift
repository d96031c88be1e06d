import CommandSupport
import ArgumentParser
import Foundation
import SwiftAttention

struct HandmadeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handmade",
        abstract: "Run the built-in hand-set \"aab\" model (vocabulary a, b; context 5).",
        discussion: """
            gpt handmade aab                                 per-position predictions
            gpt handmade --complete aab --max-new-tokens 10  greedy completion
            gpt handmade --accuracy                          score on "aab" × 10
            Only the last 5 characters are used as context.
            """
    )

    @Argument(help: "Text of a and b to show per-position predictions for.")
    var text: String?

    @Option(help: "Complete this text greedily.")
    var complete: String?

    @Option(parsing: .unconditional, help: "How many characters --complete appends, 0…\(HandmadeCommand.maxNewTokens).")
    var maxNewTokens: Int = 10

    @Flag(help: "Score next-character prediction on \"aab\" repeated 10 times, from position 2 on.")
    var accuracy = false

    @OptionGroup var options: RunOptions

    /// The most characters `--complete` appends.
    static let maxNewTokens = 100_000

    var model: GPT { GPT.handmade }
    var tokenizer: CharacterTokenizer { .handmade }

    func validate() throws {
        guard [text != nil, complete != nil, accuracy].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of: TEXT, --complete TEXT, --accuracy")
        }
        try check(maxNewTokens, in: 0...HandmadeCommand.maxNewTokens, "--max-new-tokens")
    }

    func run() throws {
        options.apply()
        if accuracy {
            try runAccuracy()
        } else if let complete {
            try runCompletion(complete)
        } else if let text {
            try runPositions(text)
        }
    }

    /// The last `n_ctx` tokens of `text`; a one-line note on stderr when it was cut.
    func context(_ text: String) throws -> [Int] {
        let tokens = try tokenizer.encode(text)
        if tokens.isEmpty { throw InputError.empty }
        if tokens.count > model.config.nCtx {
            Console.note("gpt: note: using the last \(model.config.nCtx) of \(tokens.count) characters as context")
        }
        return Array(tokens.suffix(model.config.nCtx))
    }

    func runPositions(_ text: String) throws {
        let tokens = try context(text)
        let logits = try model(tokens, backend: options.backend)        // [n, n_vocab]
        let probabilities = Softmax()(logits, backend: options.backend) // [n, n_vocab]
        if options.json {
            try Console.print(JSON.logits(tokens: tokens, logits).text)
            return
        }
        let vocab = tokenizer.vocabulary
        let header = ["pos", "token", "next"] + vocab.map { "p(\($0))" } + vocab.map { "logit(\($0))" }
        var rows: [[String]] = []
        let predictions = logits.rowArgmax()
        for i in 0..<tokens.count {
            rows.append([String(i), vocab[tokens[i]], vocab[predictions[i]]]
                        + probabilities[row: i].map { String(format: "%.4f", $0) }
                        + logits[row: i].map { String(format: "%.4g", $0) })
        }
        try Console.print(Table(header: header, rows: rows).text)
    }

    func runCompletion(_ prompt: String) throws {
        let tokens = try tokenizer.encode(prompt)
        if tokens.isEmpty { throw InputError.empty }
        let new = try model.greedyContinuation(of: tokens, count: maxNewTokens, backend: options.backend)
        let completion = try tokenizer.decode(new)
        if options.json {
            try Console.print(JSON.object([
                ("prompt", .string(prompt)), ("tokens", .ints(tokens + new)),
                ("new_tokens", .ints(new)), ("completion", .string(completion)),
            ]).text)
        } else {
            try Console.print("\(prompt) :: \(completion)")
        }
    }

    func runAccuracy() throws {
        let text = String(repeating: "aab", count: 10)
        let (correct, total) = try model.nextTokenAccuracy(on: try tokenizer.encode(text), from: 2, backend: options.backend)
        if options.json {
            try Console.print(JSON.object([("text", .string(text)), ("correct", .int(correct)), ("total", .int(total))]).text)
        } else {
            try Console.print("\(correct)/\(total)")
        }
    }
}

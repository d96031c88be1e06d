import CommandSupport
import ArgumentParser
import Foundation
import SwiftAttention

/// `gpt inspect`: one traced forward pass, as text, JSON or a page.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Trace one forward pass: the residual stream, each head's attention, each sublayer's update, the logit lens.",
        discussion: """
            gpt inspect --model DIR --prompt "To be, or not" --html page.html   a page to open in a browser
            gpt inspect --model DIR --tokens 15496,11 --json                  the trace as JSON (see the README)
            gpt inspect --handmade aabaab                                     the hand-set model
            Text output summarises each layer: the strongest attention per head and the logit lens's top token.
            """)

    @Option(help: "A Hugging Face directory of GPT-2 or a Llama-family model (config.json + model.safetensors or shards; a tokenizer for --prompt and for labels).")
    var model: String?
    @Option(help: "Trace the built-in hand-set model on this text of a and b (its last 5 characters).")
    var handmade: String?
    @OptionGroup var input: InputOptions
    @Option(help: "Write the trace as one self-contained HTML page to this file.")
    var html: String?
    @Option(parsing: .unconditional, help: "The logit lens's tokens per layer and position, 1…20.")
    var top: Int = 5
    @Option(parsing: .unconditional, help: """
        Trace at most this many tokens, 1…\(InspectCommand.tokenLimit) (a longer input is cut to its last ones, with a note): \
        the page draws every layer × head × token², which a browser handles well up to a few hundred.
        """)
    var maxTokens: Int = 64
    @OptionGroup var precision: PrecisionOptions
    @OptionGroup var options: RunOptions

    static let tokenLimit = 256

    func validate() throws {
        guard (model == nil) != (handmade == nil) else { throw ValidationError("give exactly one of --model DIR and --handmade TEXT") }
        if handmade != nil && (input.tokens != nil || input.prompt != nil) {
            throw ValidationError("--handmade takes its text itself: no --tokens or --prompt")
        }
        if model != nil { try input.requireOne() }
        try check(top, in: 1...20, "--top")
        try check(maxTokens, in: 1...InspectCommand.tokenLimit, "--max-tokens")
    }

    func run() throws {
        options.apply()
        let (gpt, tokenizer, name, ids) = try load()
        let limit = min(maxTokens, gpt.config.nCtx)
        let cut = max(ids.count - limit, 0)
        if cut > 0 {
            let why = limit == maxTokens ? "--max-tokens" : "the model's context"
            Console.note("gpt: note: tracing the last \(limit) of \(ids.count) tokens (\(why))")
        }
        let tokens = Array(ids.suffix(limit))
        let trace = try gpt.trace(tokens, top: top, backend: options.backend)
        let labels = tokens.map { tokenLabel($0, tokenizer) }
        if let html {
            let page = InspectPage(trace: trace, config: gpt.config, model: name, labels: labels,
                                   label: { tokenLabel($0, tokenizer) }, omitted: cut, reason: limit == maxTokens ? "--max-tokens" : "the model's context").html
            try Console.write(page, toFile: html)
            Console.note("wrote \(html) (\(page.utf8.count / 1000) kB)")
        }
        if options.json {
            try Console.print(try JSON.encoded(trace))
        } else if html == nil {
            try Console.print(summary(trace, labels: labels, tokenizer: tokenizer))
        }
    }

    /// The model, its tokenizer (if any), a name for it, and the input's ids.
    func load() throws -> (GPT, (any Tokenizer)?, String, [Int]) {
        if let handmade {
            let tokenizer = CharacterTokenizer.handmade
            let ids = try tokenizer.encode(handmade)
            if ids.isEmpty { throw InputError.empty }
            return (precision.convert(GPT.handmade), tokenizer, "the hand-set \"aab\" model", ids)
        }
        let path = model!
        let text = try input.text()
        let tokenizer: BPETokenizer?
        do {
            tokenizer = try loadTokenizer(path)
        } catch let error as CheckpointError where error.kind == .missing && text == nil {
            tokenizer = nil
        }
        let ids = try input.ids(text: text) { tokenizer! }
        let gpt = try precision.load(path)
        try checkTokenizer(tokenizer, fits: gpt.config, in: path)
        return (gpt, tokenizer, URL(fileURLWithPath: path).lastPathComponent, ids)
    }

    /// A few lines per layer: each head's strongest attention from the last position, and the lens's guesses.
    func summary(_ trace: Trace, labels: [String], tokenizer: (any Tokenizer)?) -> String {
        let n = trace.tokens.count
        var lines = ["tokens: " + labels.enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " ")]
        for (l, heads) in trace.attention.enumerated() {
            let focus = heads.enumerated().map { h, pattern -> String in
                let row = pattern.weights[row: n - 1]
                let k = Ranking.argmax(row)
                return "h\(h)→\(k):\(labels[k]) \(String(format: "%.2f", row[k]))"
            }
            let lens = trace.logitLens[l].top.map { $0.first.map { tokenLabel($0.token, tokenizer) } ?? "" }
            lines.append("layer \(l): last position attends " + focus.joined(separator: ", "))
            lines.append("         lens (top next token per position): " + lens.joined(separator: " "))
        }
        let norms = trace.residual.map { $0.norms.map { String(format: "%.2f", $0) }.joined(separator: " ") }
        lines.append("residual norms (embeddings, then after each block):")
        lines += norms.map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}

/// A token as text for display: its own decoding (a partial character shows as
/// U+FFFD), or its id without a tokenizer.
func tokenLabel(_ id: Int, _ tokenizer: (any Tokenizer)?) -> String {
    guard let tokenizer, let text = try? tokenizer.decode([id]) else { return "#\(id)" }
    return text
}

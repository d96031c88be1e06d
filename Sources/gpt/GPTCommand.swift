import ArgumentParser
import Foundation
import SwiftAttention

@main
struct GPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpt",
        abstract: "Run GPT-2-style transformers on the CPU (OpenBLAS or pure Swift).",
        subcommands: [HandmadeCommand.self, InfoCommand.self, LogitsCommand.self, GenerateCommand.self, CreateRandomCommand.self]
    )

    /// Parses and runs, turning every error into one line on stderr and a
    /// non-zero exit (help and `--version` still print in full).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            var text = message(for: error)
            if text.isEmpty { text = "\(error)" }
            let line = text.split(separator: "\n").first.map(String.init) ?? text
            FileHandle.standardError.write(Data("gpt: error: \(line)\n".utf8))
            Foundation.exit(code == .validationFailure ? 64 : (code.rawValue == 0 ? 1 : code.rawValue))
        }
    }
}

/// Options every model command takes.
struct RunOptions: ParsableArguments {
    @Option(help: "Backend for the matrix products: blas (OpenBLAS) or swift (pure Swift).")
    var backend: Backend = .blas

    @Option(help: "Threads for both backends (default: $SWIFTATTENTION_NUM_THREADS, else all cores).")
    var threads: Int?

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    /// Applies the thread setting; throws for a count below 1.
    func apply() throws {
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
            LinearAlgebra.threadCount = threads
        }
    }
}

extension Backend: ExpressibleByArgument {}
extension WeightMatrix.Precision: ExpressibleByArgument {}

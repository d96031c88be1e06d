import CommandSupport
import ArgumentParser
import Foundation
import SwiftAttention

@main
struct GPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpt",
        abstract: "Run GPT-2-style transformers on the CPU (OpenBLAS or pure Swift).",
        discussion: """
            Exit codes (BSD sysexits): 0 success; 64 usage (a flag or its value); 65 bad data \
            (a malformed model file, a token id outside the vocabulary, text the tokenizer cannot take); \
            66 a missing model directory or file; 74 a file that cannot be read or written.
            """,
        version: "0.3.0",
        subcommands: [HandmadeCommand.self, InfoCommand.self, LogitsCommand.self, GenerateCommand.self,
                      InspectCommand.self, TokenizeCommand.self, DetokenizeCommand.self, CreateRandomCommand.self, ServeCommand.self]
    )

    /// Parses and runs, turning every error into one line on stderr and its
    /// exit code (help and `--version` still print in full). First, when
    /// OpenBLAS fell back to kernels without AVX on this CPU, re-runs itself with
    /// better ones (see `rerunWithSuggestedKernels()` in CommandSupport).
    static func main() {
        Console.claimStandardDescriptors()
        rerunWithSuggestedKernels()
        do {
            try checkThreadsVariable()
            var command = try parseAsRoot()
            try command.run()
        } catch {
            var (code, text) = outcome(of: error)
            if code == 0 {
                do { return try Console.print(fullMessage(for: error)) } catch { (code, text) = outcome(of: error) }
            }
            Console.note("gpt: error: \(text)")
            Foundation.exit(code)
        }
    }

    /// Throws a usage error (exit 64) naming `SWIFTATTENTION_NUM_THREADS` when it is set but not a thread count.
    static func checkThreadsVariable() throws {
        if let problem = threadCountVariableProblem() { throw CommandError(description: problem, code: ExitStatus.usage) }
    }

    /// The exit code and the one-line message for `error` (control characters escaped; of
    /// ArgumentParser's messages, the first line, without its usage).
    static func outcome(of error: Error) -> (code: Int32, message: String) {
        let (code, text) = rawOutcome(of: error)
        return (code, text.escapingControlCharacters)
    }

    private static func rawOutcome(of error: Error) -> (code: Int32, message: String) {
        switch error {
        case let error as CommandError: return (error.code, error.description)
        case let error as CheckpointError:
            switch error.kind {
            case .missing: return (ExitStatus.noInput, error.description)
            case .malformed: return (ExitStatus.dataError, error.description)
            case .unreadable: return (ExitStatus.ioError, error.description)
            }
        case let error as InputError: return (ExitStatus.dataError, error.description)
        case let error as ModelError: return (ExitStatus.dataError, error.description)
        default:
            let text = message(for: error)
            return (exitCode(for: error).rawValue, text.isEmpty ? "\(error)" : text.split(separator: "\n").first.map(String.init) ?? text)
        }
    }
}

/// The BSD `sysexits` codes the tool uses.
enum ExitStatus {
    /// A flag or its value is wrong (ArgumentParser's validation failures are 64 too).
    static let usage: Int32 = 64
    /// The input data is wrong: a malformed model file, a token outside the vocabulary.
    static let dataError: Int32 = 65
    /// A model directory or file does not exist.
    static let noInput: Int32 = 66
    /// A file cannot be read or written.
    static let ioError: Int32 = 74
}

/// How the products run: `--backend` and `--threads` (every model command, `serve` included).
struct ComputeOptions: ParsableArguments {
    @Option(help: "Backend for the matrix products: blas (OpenBLAS) or swift (pure Swift).")
    var backend: Backend = .blas

    @Option(parsing: .unconditional,
            help: "Threads for both backends, 1…\(LinearAlgebra.maxThreadCount) (default: $SWIFTATTENTION_NUM_THREADS, else all cores).")
    var threads: Int?

    func validate() throws {
        if let threads {
            try check(threads, in: 1...LinearAlgebra.maxThreadCount, "--threads")
        }
    }

    /// Applies the thread setting.
    func apply() {
        if let threads { try? LinearAlgebra.setThreadCount(threads) }   // validate() checked the range
    }
}

/// Options every model command that prints a result takes: ``ComputeOptions`` and `--json`.
struct RunOptions: ParsableArguments {
    @OptionGroup var compute: ComputeOptions

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    var backend: Backend { compute.backend }

    /// Applies the thread setting.
    func apply() { compute.apply() }
}

/// Throws a usage error unless `value` lies in `range`.
func check<T: Comparable>(_ value: T, in range: ClosedRange<T>, _ flag: String) throws {
    guard range.contains(value) else {
        throw ValidationError("\(flag) must be in \(range.lowerBound)…\(range.upperBound), got \(value)")
    }
}

extension Backend: ExpressibleByArgument {}
extension WeightMatrix.Precision: ExpressibleByArgument {
    /// `bf16` is the flag's spelling of `bfloat16` (both are accepted).
    public init?(argument: String) {
        self.init(rawValue: argument == "bf16" ? "bfloat16" : argument)
    }

    public static var allValueStrings: [String] { allCases.map(\.argument) }
}
extension DType: ExpressibleByArgument {}

import CommandSupport
import ArgumentParser
import Foundation
import SwiftAttention

/// `bench`: OpenBLAS versus pure Swift, from one GEMM to a whole GPT-2 step.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time GEMM, GEMV, the transformer's operations and GPT-2 124M on both backends.",
        discussion: """
            Run in release: swift run -c release bench (scripts/bench-report passes -target-cpu native).
            Each figure is the median (and min) of repeated runs after a warm-up; a progress line goes to stderr.
            """)

    @Option(help: "Run only these suites (comma-separated): gemm, sgemm, gemv, sgemv, ops, model, tokenizer.")
    var filter: String?

    @Flag(help: "Smaller sizes and fewer repeats: the whole run in under a minute.")
    var quick = false

    @Flag(help: "Toy sizes, for the test suite.")
    var tiny = false

    @Option(help: "Thread counts to run at (comma-separated).")
    var threads: String = "1,2"

    @Option(help: "Backends to run (comma-separated): blas, swift.")
    var backends: String = "blas,swift"

    @Flag(help: "Print a JSON array of results instead of tables.")
    var json = false

    @Flag(help: "Print which OpenBLAS kernels this run uses (and who chose them), then exit.")
    var blasKernels = false

    func run() throws {
        if blasKernels { return try Console.print(OpenBLASKernels.summary) }
        let known = allSuites
        let suites = filter.map { $0.split(separator: ",").map(String.init) } ?? known
        if let bad = suites.first(where: { !known.contains($0) }) {
            throw ValidationError("unknown suite '\(bad)'; choose from \(known.joined(separator: ", "))")
        }
        let threadCounts = try threads.split(separator: ",").map { part -> Int in
            guard let n = Int(part), (1...LinearAlgebra.maxThreadCount).contains(n) else {
                throw ValidationError("--threads: '\(part)' is not an integer in 1…\(LinearAlgebra.maxThreadCount)")
            }
            return n
        }
        let backendList = try backends.split(separator: ",").map { part -> Backend in
            guard let b = Backend(rawValue: String(part)) else { throw ValidationError("--backends: '\(part)' is not blas or swift") }
            return b
        }
        let scale: Scale = tiny ? .tiny : (quick ? .quick : .full)
        let ctx = Context(scale: scale, effort: scale == .full ? .full : .quick, threadCounts: threadCounts, backends: backendList)
        var rows: [Row] = []
        for suite in known where suites.contains(suite) {
            switch suite {
            case "gemm": rows += gemmSuite(ctx, Double.self)
            case "sgemm": rows += gemmSuite(ctx, Float.self)
            case "sgemv": rows += sgemvSuite(ctx)
            case "tokenizer": rows += try tokenizerSuite(ctx)
            case "gemv": rows += gemvSuite(ctx)
            case "ops": rows += opsSuite(ctx)
            default: rows += try modelSuite(ctx)
            }
        }
        progress("")
        try Console.print(json ? jsonReport(rows) : textReport(rows))
    }
}

/// Every suite, in the order they run and print.
let allSuites = ["gemm", "sgemm", "gemv", "sgemv", "ops", "model", "tokenizer"]

// Closed standard descriptors are claimed before anything opens a file; then, when
// OpenBLAS picked its generic kernels for a CPU it does not know, run again with better ones.
Console.claimStandardDescriptors()
rerunWithSuggestedKernels()
Bench.main()

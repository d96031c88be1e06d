import Foundation
import LinearAlgebra
import RealModule
import Testing

/// Whether the slow suites run: the `gpt`/`bench` subprocess suites and the
/// concurrency stress tests. `swift test` alone skips them (it stays quick);
/// `scripts/test`, and so CI, sets `SWIFTATTENTION_ALL_TESTS=1` and runs everything.
public let allTests = ProcessInfo.processInfo.environment["SWIFTATTENTION_ALL_TESTS"].map { !$0.isEmpty && $0 != "0" } ?? false

/// The trait of a slow suite (see ``allTests``).
public let slowSuite = ConditionTrait.enabled(if: allTests, "a slow suite: set SWIFTATTENTION_ALL_TESTS=1 (scripts/test does)")

/// The weight storages a model computing in `Double` takes (the narrow ones,
/// `.bfloat16` and `.int8`, round and are for `Float` models).
public let wideStorages: [WeightMatrix.Precision] = WeightMatrix.Precision.allCases.filter { !$0.isNarrow }

/// The largest absolute and relative element differences between two matrices.
public func differences(_ a: Matrix, _ b: Matrix) -> (abs: Double, rel: Double) {
    var maxAbs = 0.0, maxRel = 0.0
    for (x, y) in zip(a.elements, b.elements) {
        let d = Swift.abs(x - y)
        maxAbs = max(maxAbs, d)
        let scale = max(Swift.abs(x), Swift.abs(y))
        if scale > 0 { maxRel = max(maxRel, d / scale) }
    }
    return (maxAbs, maxRel)
}

/// Expects equal shapes and every element within `relative` of the other;
/// elements much smaller than the matrix's largest may instead be within
/// `relative × largest` (cancellation leaves no meaningful relative digits there).
public func expectClose(_ actual: Matrix, _ expected: Matrix, relative: Double = 1e-12,
                        _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.rows == expected.rows, actual.cols == expected.cols else {
        Issue.record("\(what): shape \(actual.shapeDescription) vs expected \(expected.shapeDescription)",
                     sourceLocation: sourceLocation)
        return
    }
    let scale = max(expected.elements.map { Swift.abs($0) }.max() ?? 0, 1e-300)
    let ok = zip(actual.elements, expected.elements).allSatisfy { x, y in
        x.isApproximatelyEqual(to: y, absoluteTolerance: relative * scale, relativeTolerance: relative)
    }
    if !ok {
        let (a, r) = differences(actual, expected)
        Issue.record("\(what): max abs diff \(a), max rel diff \(r) over \(actual.shapeDescription) (tolerance \(relative))",
                     sourceLocation: sourceLocation)
    }
}

/// As above for a `Float` result, widened (exactly) to compare with a `Double` reference.
public func expectClose(_ actual: FloatMatrix, _ expected: Matrix, relative: Double,
                        _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(Matrix(actual), expected, relative: relative, what, sourceLocation: sourceLocation)
}

/// The checked-in fixtures folder, `Tests/Fixtures`.
public let fixturesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Decodes a JSON fixture file from `Tests/Fixtures`.
public func loadFixture<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
    let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
    return try JSONDecoder().decode(T.self, from: data)
}

extension Matrix {
    /// A matrix from nested arrays as NumPy's `tolist()` writes them.
    public init(nested: [[Double]]) { self.init(nested) }
}

/// The tiny Hugging Face GPT-2 checkpoint in `Tests/Fixtures/tiny-gpt2`.
public let tinyDirectory = fixturesDirectory.appendingPathComponent("tiny-gpt2")

/// What `scripts/make_gpt2_fixture.py` (NumPy, float64 on the stored float32
/// weights) expects of the tiny checkpoint.
public struct TinyGPT2Expected: Decodable, Sendable {
    public let prompt: [Int]
    public let logits: Matrix
    public let greedy: [Int]
    public let parameter_count: Int
}

/// The tiny checkpoint's expectations, decoded once on first use: a missing or
/// broken file fails the suites that use it (their `init` throws), not the run.
public let tinyExpectedLoad = Result { try loadFixture("tiny-gpt2-expected.json", as: TinyGPT2Expected.self) }

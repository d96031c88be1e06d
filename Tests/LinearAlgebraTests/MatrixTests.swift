import Foundation
@testable import LinearAlgebra
import TestSupport
import Testing

@Suite("Matrix value type")
struct MatrixTests {
    @Test func construction() {
        let m = Matrix([[1, 2, 3], [4, 5, 6]])
        #expect(m.rows == 2 && m.cols == 3)
        #expect(m[1, 2] == 6)
        #expect(m[row: 1] == [4, 5, 6])
        #expect(m == Matrix(rows: 2, cols: 3, elements: [1, 2, 3, 4, 5, 6]))
        #expect(m.transposed() == Matrix([[1, 4], [2, 5], [3, 6]]))
        #expect(Matrix.identity(2) == Matrix([[1, 0], [0, 1]]))
        #expect(Matrix.zeros(rows: 1, cols: 2) == Matrix([[0, 0]]))
    }

    @Test func copyOnWrite() {
        let original = Matrix([[1, 2], [3, 4]])
        var copy = original
        copy[0, 0] = 99
        #expect(original[0, 0] == 1)
        #expect(copy[0, 0] == 99)
        // A uniquely held matrix mutates in place: same storage before and after.
        var unique = Matrix.random(rows: 8, cols: 8, seed: 1)
        let before = unique.elements.withUnsafeBufferPointer { $0.baseAddress }
        unique[3, 3] = 0
        unique += Matrix.identity(8)
        let after = unique.elements.withUnsafeBufferPointer { $0.baseAddress }
        #expect(before == after)
    }

    @Test func randomIsReproducible() {
        #expect(Matrix.random(rows: 3, cols: 4, seed: 42) == Matrix.random(rows: 3, cols: 4, seed: 42))
        #expect(Matrix.random(rows: 3, cols: 4, seed: 42) != Matrix.random(rows: 3, cols: 4, seed: 43))
        let u = Matrix.random(rows: 100, cols: 100, seed: 1, distribution: .uniform(low: -2, high: 3))
        #expect(u.elements.allSatisfy { $0 >= -2 && $0 < 3 })
        let n = Matrix.random(rows: 200, cols: 200, seed: 2)
        let mean = n.elements.reduce(0, +) / 40_000
        let sd = (n.elements.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 40_000).squareRoot()
        #expect(abs(mean) < 0.02 && abs(sd - 1) < 0.02)
    }

    @Test func description() {
        let text = Matrix([[1, 2.5], [-3, 4]]).description
        #expect(text == "Matrix [2, 2]\n    1  2.5\n   -3    4")
        #expect(Matrix.zeros(rows: 20, cols: 20).description.contains("⋮"))
    }

    @Test func elementwise() {
        let a = Matrix([[1, 2], [3, 4]]), b = Matrix([[5, 6], [7, 8]])
        #expect(a + b == Matrix([[6, 8], [10, 12]]))
        #expect(b - a == Matrix([[4, 4], [4, 4]]))
        #expect(a * b == Matrix([[5, 12], [21, 32]]))
        #expect(a * 2 == Matrix([[2, 4], [6, 8]]))
        #expect(2 * a == a + a)
        #expect(a + 1 == Matrix([[2, 3], [4, 5]]))
        #expect(a.addingRow(Matrix([[10, 20]])) == Matrix([[11, 22], [13, 24]]))
        #expect(a.multiplyingRows(by: Matrix([[10, 20]])) == Matrix([[10, 40], [30, 80]]))
        #expect(a.subtractingColumn(Matrix([[1], [3]])) == Matrix([[0, 1], [0, 1]]))
        #expect(a.dividingColumn(Matrix([[1], [2]])) == Matrix([[1, 2], [1.5, 2]]))
        #expect(Matrix([[4, 9]]).sqrt() == Matrix([[2, 3]]))
    }

    @Test func shapes() {
        let m = Matrix([[1, 2, 3, 4], [5, 6, 7, 8]])
        let parts = m.splitColumns(into: 2)
        #expect(parts == [Matrix([[1, 2], [5, 6]]), Matrix([[3, 4], [7, 8]])])
        #expect(Matrix.concatenatingColumns(parts) == m)
        #expect(m.columns(1..<3) == Matrix([[2, 3], [6, 7]]))
        #expect(Matrix.stackingRows([m.slicingRows(1..<2), m.slicingRows(0..<1)]) == Matrix([[5, 6, 7, 8], [1, 2, 3, 4]]))
        #expect(m.reshaped(rows: 4, cols: 2)[3, 1] == 8)
    }

    @Test func backendDefaultIsSafeToSetConcurrently() async {
        let saved = Backend.default
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<64 {
                group.addTask { Backend.default = i % 2 == 0 ? .blas : .swift; _ = Backend.default }
            }
        }
        Backend.default = saved
        #expect(Backend.default == saved)
    }

    @Test func threadCountFromEnvironment() {
        #expect(ThreadSettings.requestedThreadCount(environment: ["SWIFTATTENTION_NUM_THREADS": "3"]) == 3)
        for bad in ["zero", "0", "-2", "", "\(maxThreadCount + 1)", "99999999999999999999"] {
            #expect(ThreadSettings.requestedThreadCount(environment: ["SWIFTATTENTION_NUM_THREADS": bad]) == nil, "\(bad)")
        }
        #expect(ThreadSettings.requestedThreadCount(environment: [:]) == nil)
    }
}

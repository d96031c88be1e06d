import Foundation
import LinearAlgebra
import Testing

@Suite("Shape contracts stop the process with both shapes named")
struct PreconditionTests {
    @Test func mismatchedProductNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = Matrix.zeros(rows: 2, cols: 3), b = Matrix.zeros(rows: 4, cols: 5)
            _ = a.matmul(b)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("[2, 3]") && stderr.contains("[4, 5]"), "stderr was: \(stderr)")
    }

    @Test func mismatchedSumNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Matrix.zeros(rows: 2, cols: 2) + Matrix.zeros(rows: 3, cols: 1)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("[2, 2]") && stderr.contains("[3, 1]"), "stderr was: \(stderr)")
    }

    @Test func impossibleShapesStopInsteadOfCorruptingMemory() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let m = Matrix.zeros(rows: 1 << 31, cols: 1 << 31)
            print(m.rows)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("[2147483648, 2147483648] has more elements than memory can address"), "stderr was: \(stderr)")
    }
}

/// The one order of a row's indices by value (a transformer's tokens by logit),
/// shared by ``DenseMatrix/rowArgmax()``, the sampler, the trace's logit lens and
/// the `gpt` commands' top tokens: the larger value first, the lower index first
/// on ties, a NaN after every number.
package enum Ranking {
    /// Whether index `a` comes before index `b` in `values`.
    @inline(__always)
    static func precedes(_ a: Int, _ b: Int, in values: UnsafeBufferPointer<Double>) -> Bool {
        let (x, y) = (values[a], values[b])
        return x > y || (x == y && a < b) || (y.isNaN && !x.isNaN) || (x.isNaN && y.isNaN && a < b)
    }

    /// The first index in this order (one pass; a sampler's greedy choice). Requires a non-empty row.
    package static func argmax(_ values: UnsafeBufferPointer<Double>) -> Int {
        var best = 0
        for i in values.indices where precedes(i, best, in: values) { best = i }
        return best
    }

    /// The first `k` indices in this order (all when `k` is nil).
    package static func top(_ k: Int?, of values: UnsafeBufferPointer<Double>) -> [Int] {
        let order = values.indices.sorted { precedes($0, $1, in: values) }
        return k.map { Array(order.prefix(max($0, 0))) } ?? order
    }

    /// ``argmax(_:)`` of an array.
    package static func argmax(_ values: [Double]) -> Int { values.withUnsafeBufferPointer(argmax) }

    /// ``top(_:of:)`` of an array.
    package static func top(_ k: Int?, of values: [Double]) -> [Int] { values.withUnsafeBufferPointer { top(k, of: $0) } }
}

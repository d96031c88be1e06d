/// The one order of a row's indices by value (a transformer's tokens by logit),
/// shared by ``DenseMatrix/rowArgmax()``, the sampler, the trace's logit lens and
/// the `gpt` commands' top tokens: the larger value first, the lower index first
/// on ties, a NaN after every number.
package enum Ranking {
    /// Whether index `a` comes before index `b` in `logits`.
    @inline(__always)
    static func precedes<C: RandomAccessCollection>(_ a: Int, _ b: Int, in logits: C) -> Bool where C.Element == Double, C.Index == Int {
        let (x, y) = (logits[a], logits[b])
        return x > y || (x == y && a < b) || (y.isNaN && !x.isNaN) || (x.isNaN && y.isNaN && a < b)
    }

    /// The first index in this order (one pass). Requires a non-empty row.
    package static func argmax<C: RandomAccessCollection>(_ logits: C) -> Int where C.Element == Double, C.Index == Int {
        var best = logits.startIndex
        for i in logits.indices where precedes(i, best, in: logits) { best = i }
        return best
    }

    /// The first `k` indices in this order (all when `k` is nil).
    package static func top<C: RandomAccessCollection>(_ k: Int?, of logits: C) -> [Int] where C.Element == Double, C.Index == Int {
        let order = logits.indices.sorted { precedes($0, $1, in: logits) }
        return k.map { Array(order.prefix(max($0, 0))) } ?? order
    }
}

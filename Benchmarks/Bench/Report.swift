import CommandSupport
import Foundation

/// Renders rows as aligned text tables, one per suite.
func textReport(_ rows: [Row]) -> String {
    var out: [String] = []
    for suite in allSuites {
        let group = rows.filter { $0.suite == suite }
        if group.isEmpty { continue }
        out.append("== \(suite)")
        let header = ["name", "shape", "backend", "thr", "median", "min", "rate"] + (group.contains { !$0.notes.isEmpty } ? ["notes"] : [])
        let cells = group.map { r -> [String] in
            var rate = ""
            if let g = r.gflops { rate = String(format: "%.1f GFLOP/s", g) }
            if let b = r.gbytesPerSecond { rate = b < 0.1 ? String(format: "%.1f MB/s", b * 1000) : String(format: "%.1f GB/s", b) }
            if let t = r.tokensPerSecond { rate = String(format: "%.1f tok/s", t) }
            let row = [r.name, r.shape, r.backend, String(r.threads), seconds(r.median), seconds(r.min), rate]
            return header.count > 7 ? row + [r.notes.joined(separator: "  ")] : row
        }
        let widths = header.indices.map { c in ([header] + cells).map { $0[c].count }.max()! }
        for line in [header] + cells {
            out.append(line.enumerated().map { i, s in
                i == line.count - 1 ? s : s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
        out.append("")
    }
    return out.joined(separator: "\n")
}

/// Human-readable seconds.
func seconds(_ s: Double) -> String {
    if s < 1e-3 { return String(format: "%.1f µs", s * 1e6) }
    if s < 1 { return String(format: "%.2f ms", s * 1e3) }
    return String(format: "%.3f s", s)
}

/// Rows as a JSON array of objects, one per line.
func jsonReport(_ rows: [Row]) -> String {
    let objects = rows.map { r -> String in
        var fields: [(String, JSON)] = [
            ("suite", .string(r.suite)), ("name", .string(r.name)), ("backend", .string(r.backend)),
            ("threads", .int(r.threads)), ("shape", .string(r.shape)),
            ("median_seconds", .number(r.median)), ("min_seconds", .number(r.min)),
        ]
        if let g = r.gflops { fields.append(("gflops", .number(g))) }
        if let b = r.gbytesPerSecond { fields.append(("gbytes_per_second", .number(b))) }
        if let t = r.tokensPerSecond { fields.append(("tokens_per_second", .number(t))) }
        if !r.notes.isEmpty { fields.append(("notes", .string(r.notes.joined(separator: "; ")))) }
        return JSON.object(fields).text
    }
    return "[\n" + objects.joined(separator: ",\n") + "\n]"
}

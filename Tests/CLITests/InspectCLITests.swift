import Foundation
import SwiftAttention
import TestSupport
import Testing

/// `gpt inspect` from the outside: the trace as JSON in either dtype, the page,
/// the text summary, and its usage errors. (scripts/check-inspect-page loads the
/// page in a browser.)
@Suite("gpt inspect", slowSuite)
struct InspectCLITests {
    let tinyExpected: TinyGPT2Expected
    init() throws {
        tinyExpected = try tinyExpectedLoad.get()
    }

    var prompt: String { tinyExpected.prompt.map(String.init).joined(separator: ",") }

    @Test(arguments: ["float64", "float32"])
    func json(dtype: String) throws {
        let r = try runGPT(["inspect", "--model", tinyModel, "--tokens", prompt, "--json", "--dtype", dtype, "--top", "3"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let trace = try JSONDecoder().decode(Trace.self, from: Data(r.out.utf8))
        let n = tinyExpected.prompt.count
        #expect(trace.tokens == tinyExpected.prompt)
        #expect(trace.attention.count == 2 && trace.attention.allSatisfy { $0.count == 4 })
        #expect(trace.attention[0][0].weights.rows == n && trace.attention[0][0].weights.cols == n)
        #expect(trace.residual.count == 3 && trace.logitLens.count == 2)
        #expect(trace.logitLens[0].top[0].count == 3)
        expectClose(trace.logits, tinyExpected.logits, relative: dtype == "float32" ? 1e-4 : 1e-9, dtype)
    }

    @Test func pageAndSummary() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: file) }
        let page = try runGPT(["inspect", "--model", tinyModel, "--tokens", prompt, "--html", file.path])
        #expect(page.status == 0, "stderr: \(page.err)")
        let html = try String(contentsOf: file, encoding: .utf8)
        #expect(html.contains("<!doctype html>") && html.contains("<canvas"))
        let text = try runGPT(["inspect", "--handmade", "aabaab"])
        #expect(text.status == 0 && text.out.contains("layer 0"), "stdout: \(text.out) stderr: \(text.err)")
    }

    @Test(arguments: [
        (["inspect", "--tokens", "1"], "give exactly one of --model DIR and --handmade TEXT"),
        (["inspect", "--handmade", "aab", "--tokens", "1"], "--handmade takes its text itself"),
        (["inspect", "--handmade", "aab", "--top", "0"], "--top must be in 1…20"),
        (["inspect", "--handmade", "aab", "--dtype", "half"], "'half' is invalid for '--dtype"),
    ])
    func usageErrors(arguments: [String], message: String) throws {
        let r = try runGPT(arguments)
        #expect(r.status == 64, "stderr: \(r.err)")
        #expect(r.err.contains(message), "stderr: \(r.err)")
    }
}

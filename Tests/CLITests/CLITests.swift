import Foundation
import Testing

/// A built executable of this package, beside the test bundle in the build folder.
func executable(_ name: String) -> URL {
    var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug"))
    for dir in candidates {
        let url = dir.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    fatalError("\(name) executable not found near \(candidates.map(\.path))")
}

/// Runs `gpt` with `arguments`; returns exit status, stdout and stderr.
func runGPT(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
    try run(executable("gpt"), arguments, environment: environment)
}

/// Runs a program; returns exit status, stdout and stderr.
func run(_ program: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

@Suite("The gpt command: handmade model")
struct HandmadeCLITests {
    @Test(arguments: ["blas", "swift"])
    func accuracy(backend: String) throws {
        let r = try runGPT(["handmade", "--accuracy", "--backend", backend])
        #expect(r.status == 0)
        #expect(r.out == "27/27\n")
    }

    @Test(arguments: ["blas", "swift"])
    func completion(backend: String) throws {
        let r = try runGPT(["handmade", "--complete", "aab", "--max-new-tokens", "10", "--backend", backend])
        #expect(r.status == 0)
        #expect(r.out == "aab :: aabaabaaba\n")
    }

    @Test func perPositionTable() throws {
        let r = try runGPT(["handmade", "aab"])
        #expect(r.status == 0)
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].split(separator: " ") == ["pos", "token", "next", "p(a)", "p(b)", "logit(a)", "logit(b)"])
        #expect(lines[3].split(separator: " ") == ["2", "b", "a", "1.0000", "0.0000", "1024", "1"])
    }

    @Test func perPositionJSON() throws {
        let r = try runGPT(["handmade", "aab", "--json", "--backend", "swift"])
        #expect(r.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["tokens", "logits"])
        #expect(object["tokens"] as? [Int] == [0, 0, 1])
        #expect(object["logits"] as? [[Double]] == [[1, 1024], [1, 1024], [1024, 1]])
    }

    @Test func otherJSONForms() throws {
        let c = try runGPT(["handmade", "--complete", "ab", "--max-new-tokens", "3", "--json"])
        let completion = try JSONSerialization.jsonObject(with: Data(c.out.utf8)) as! [String: Any]
        #expect(completion["completion"] as? String == "aab")
        let a = try runGPT(["handmade", "--accuracy", "--json"])
        let accuracy = try JSONSerialization.jsonObject(with: Data(a.out.utf8)) as! [String: Any]
        #expect(accuracy["correct"] as? Int == 27 && accuracy["total"] as? Int == 27)
    }

    @Test(arguments: [
        (["handmade", "abc"], "character \"c\" is not in the vocabulary"),
        (["handmade", ""], "no input tokens"),
        (["handmade", "--complete", ""], "no input tokens"),
        (["handmade", "--complete", "aab", "--max-new-tokens", "-1"], "--max-new-tokens must be 0 or more"),
        (["handmade", "--accuracy", "--threads", "0"], "--threads must be at least 1"),
        (["handmade", "aab", "--backend", "gpu"], "'gpu' is invalid for '--backend"),
        (["handmade"], "give exactly one of"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let r = try runGPT(arguments)
        #expect(r.status != 0)
        #expect(r.out.isEmpty)
        #expect(r.err.split(separator: "\n").count == 1, "stderr: \(r.err)")
        #expect(r.err.contains(message), "stderr: \(r.err)")
    }
}

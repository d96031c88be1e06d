import Foundation
import TestSupport
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
func runGPT(_ arguments: [String], environment: [String: String]? = nil, timeout: Double = 120) throws -> (status: Int32, out: String, err: String) {
    try run(executable("gpt"), arguments, environment: environment, timeout: timeout)
}

/// Runs a program; returns exit status, stdout and stderr. A program still
/// running after `timeout` seconds is killed and recorded as a test failure.
func run(_ program: URL, _ arguments: [String], environment: [String: String]? = nil,
         timeout: Double = 120) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-out-\(UUID().uuidString)")
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-err-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: outFile.path, contents: nil)
    FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outFile); try? FileManager.default.removeItem(at: errFile) }
    process.standardOutput = try FileHandle(forWritingTo: outFile)
    process.standardError = try FileHandle(forWritingTo: errFile)
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        Issue.record("\(program.lastPathComponent) \(arguments) still running after \(timeout) s: killed")
    }
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: outFile, encoding: .utf8), try String(contentsOf: errFile, encoding: .utf8))
}

/// Expects a failure with exit code `code`, nothing on stdout, and one line on stderr containing `message`.
func expectFailure(_ r: (status: Int32, out: String, err: String), code: Int32, _ message: String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == code, "exit \(r.status), stderr: \(r.err)", sourceLocation: sourceLocation)
    #expect(r.out.isEmpty, "stdout: \(r.out)", sourceLocation: sourceLocation)
    #expect(r.err.split(separator: "\n").count == 1, "stderr: \(r.err)", sourceLocation: sourceLocation)
    #expect(r.err.hasPrefix("gpt: error: ") && r.err.contains(message), "stderr: \(r.err)", sourceLocation: sourceLocation)
}

@Suite("The gpt command: handmade model", slowSuite)
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
        (["handmade", "abc"], 65, "character \"c\" is not in the vocabulary"),
        (["handmade", ""], 65, "no input tokens"),
        (["handmade", "--complete", ""], 65, "no input tokens"),
        (["handmade", "--complete", "aab", "--max-new-tokens", "-1"], 64, "--max-new-tokens must be in 0…100000, got -1"),
        (["handmade", "--complete", "aab", "--max-new-tokens", "9223372036854775807"], 64, "--max-new-tokens must be in 0…100000"),
        (["handmade", "--complete", "aab", "--max-new-tokens", "9223372036854775808"], 64, "--max-new-tokens"),
        (["handmade", "--accuracy", "--threads", "0"], 64, "--threads must be in 1…"),
        (["handmade", "--accuracy", "--threads", "-1"], 64, "--threads must be in 1…"),
        (["handmade", "--accuracy", "--threads", "2147483648"], 64, "--threads must be in 1…"),
        (["handmade", "aab", "--backend", "gpu"], 64, "'gpu' is invalid for '--backend"),
        (["handmade"], 64, "give exactly one of"),
        (["handmade", "aab", "--accuracy"], 64, "give exactly one of"),
    ] as [([String], Int32, String)])
    func badInput(arguments: [String], code: Int32, message: String) throws {
        expectFailure(try runGPT(arguments), code: code, message)
    }
}

// `Fuzz`: loads mutated copies of the tiny test checkpoint in-process, and
// runs what loads, reporting any crash, hang or runaway allocation.
//
//     Fuzz [--seconds S] [--cases N] [--seed SEED] [--case I --save DIR]
//
// Each case mutates the fixture's config.json (a value set to a hostile one, a
// key removed, bytes flipped, the file cut short) or model.safetensors (a
// header entry's dtype, shape or offsets set to a hostile value, an entry
// removed or added, bytes flipped in the length, header or data, the file cut
// short), then loads it the way `gpt` does, from bytes in memory, into a random
// weight storage; a model that loads runs a forward pass and two generated tokens.
// Every outcome must be a model or a library error (CheckpointError, ModelError,
// InputError); anything else is reported. Address space is capped at 8 GiB, so
// an unbounded allocation crashes, and a watchdog stops a case running over 10 s
// (under a sanitizer: no cap, and 120 s).
// Cases follow from the seed alone: `--case I --save DIR` writes case I's two
// files for a closer look. Exit status: 0 all clean, 1 a case ended badly.
import Foundation
import SwiftAttention
import Synchronization

/// The arguments, parsed by hand (no dependency beyond the library).
struct Arguments {
    var seconds: Double?
    var cases: Int?
    var seed: UInt64 = 1
    var only: Int?
    var save: String?

    init(_ args: [String]) {
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { usage("\(args[i - 1]) needs a value") }
            return args[i]
        }
        func number<T: LosslessStringConvertible>() -> T {
            let flag = args[i], text = value()
            guard let n = T(text) else { usage("\(flag) takes a number, not '\(text)'") }
            return n
        }
        while i < args.count {
            switch args[i] {
            case "--seconds": seconds = number() as Double
            case "--cases": cases = number() as Int
            case "--seed": seed = number()
            case "--case": only = number() as Int
            case "--save": save = value()
            case "--help", "-h": usage(nil)
            default: usage("unknown argument \(args[i])")
            }
            i += 1
        }
        if seconds == nil && cases == nil && only == nil { cases = 2000 }
    }
}

func usage(_ problem: String?) -> Never {
    if let problem { FileHandle.standardError.write(Data("Fuzz: \(problem)\n".utf8)) }
    print("usage: Fuzz [--seconds S] [--cases N] [--seed SEED] [--case I --save DIR]")
    exit(problem == nil ? 0 : 64)
}

// MARK: - What a case is, for the crash report

/// The current case's description: as C bytes for a signal handler to write (only
/// read at a crash), and under a lock for the watchdog, with when the case started.
nonisolated(unsafe) var currentCase = [CChar](repeating: 0, count: 512)
let current = Mutex((description: "", started: DispatchTime.now().uptimeNanoseconds))

func describe(_ text: String) {
    let bytes = Array("Fuzz: \(text)\n".utf8.prefix(510)).map { CChar(bitPattern: $0) }
    currentCase.withUnsafeMutableBufferPointer { buffer in
        buffer.update(repeating: 0)
        _ = buffer.update(fromContentsOf: bytes)
    }
    current.withLock { $0 = (text, DispatchTime.now().uptimeNanoseconds) }
}

/// Writes `why` and the current case to stderr and exits with status 1; safe in a signal handler.
func reportAndExit(_ why: String) -> Never {
    currentCase.withUnsafeBufferPointer { buffer in
        _ = write(2, why, strlen(why))
        _ = write(2, buffer.baseAddress!, strlen(buffer.baseAddress!))
    }
    _exit(1)
}

// MARK: - Mutations

/// Hostile values for counts, offsets and shapes.
nonisolated(unsafe) let hostileNumbers: [Any] = [0, -1, 1, 2, 3, 31, 32, 33, 63, 64, 65, 96, 97, 255, 256, 1 << 16, 1 << 20, 1 << 31, (1 << 31) - 1,
                             1 << 32, 1 << 62, Int.max, Int.min, 1.5, -0.5, 1e300, -1e300, 1e-300, 9.3e18, 2.0, "64", NSNull(),
                             true, [Int](), [1, 2], ["x": 1]]

extension SeededGenerator {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// `data` with 1–4 random bytes in `range` (of its indices) changed.
func flipBytes(_ data: Data, in range: Range<Int>, _ g: inout SeededGenerator) -> Data {
    var out = data
    guard !range.isEmpty else { return out }
    for _ in 0..<(1 + g.below(4)) { out[range.lowerBound + g.below(range.count)] = UInt8(truncatingIfNeeded: g.next()) }
    return out
}

/// A mutated config.json and what was done.
func mutateConfig(_ data: Data, _ g: inout SeededGenerator) -> (Data, String) {
    let keys = ["n_embd", "n_head", "n_layer", "n_ctx", "n_positions", "vocab_size", "n_vocab", "n_inner",
                "layer_norm_epsilon", "activation_function", "scale_attn_weights", "scale_attn_by_inverse_layer_idx", "other"]
    switch g.below(10) {
    case 0: let cut = g.below(data.count); return (data.prefix(cut), "config.json cut to \(cut) bytes")
    case 1: return (flipBytes(data, in: 0..<data.count, &g), "config.json bytes flipped")
    default:
        var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        var what: [String] = []
        for _ in 0..<(1 + g.below(3)) {
            let key = g.pick(keys)
            if g.below(6) == 0 {
                object[key] = nil
                what.append("\(key) removed")
            } else {
                let value = key == "layer_norm_epsilon" && g.below(2) == 0 ? g.pick([-1e-5, 0.0, 2.0, 1e-300, 1e300] as [Any])
                    : key == "activation_function" ? g.pick(["relu", "gelu", "gelu_new", "", "gelu_pytorch_tanh"] as [Any])
                    : g.pick(hostileNumbers)
                object[key] = value
                what.append("\(key) = \(value)")
            }
        }
        let out = (try? JSONSerialization.data(withJSONObject: object)) ?? data
        return (out, "config.json: " + what.joined(separator: ", "))
    }
}

/// The header length of a safetensors file (0 when it is too short to have one).
func headerLength(_ data: Data) -> Int {
    guard data.count >= 8 else { return 0 }
    return Int(truncatingIfNeeded: data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
}

/// A safetensors file from a header object and the data buffer.
func safetensors(header: [String: Any], data: Data) -> Data? {
    guard let json = try? JSONSerialization.data(withJSONObject: header) else { return nil }
    var out = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    return out + json + data
}

/// A mutated model.safetensors and what was done.
func mutateWeights(_ data: Data, _ g: inout SeededGenerator) -> (Data, String) {
    let headerEnd = 8 + headerLength(data)
    switch g.below(10) {
    case 0: let cut = g.below(data.count); return (data.prefix(cut), "model.safetensors cut to \(cut) bytes")
    case 1: return (flipBytes(data, in: 0..<8, &g), "model.safetensors: header length bytes flipped")
    case 2: return (flipBytes(data, in: headerEnd..<data.count, &g), "model.safetensors: data bytes flipped")
    case 3, 4: return (flipBytes(data, in: 8..<headerEnd, &g), "model.safetensors: header bytes flipped")
    default:
        guard var header = (try? JSONSerialization.jsonObject(with: data[8..<headerEnd])) as? [String: Any] else {
            return (data, "unchanged")
        }
        let names = header.keys.filter { $0 != "__metadata__" }.sorted()
        let name = g.pick(names)
        var entry = header[name] as? [String: Any] ?? [:]
        let what: String
        switch g.below(7) {
        case 0:
            let dtype = g.pick(["F16", "BF16", "F64", "I32", "U8", "BOOL", "F8", "", "f32"])
            entry["dtype"] = dtype
            what = "\(name).dtype = \(dtype)"
        case 1:
            var shape = entry["shape"] as? [Any] ?? []
            if shape.isEmpty || g.below(4) == 0 { shape.append(g.pick(hostileNumbers)) } else { shape[g.below(shape.count)] = g.pick(hostileNumbers) }
            entry["shape"] = shape
            what = "\(name).shape = \(shape)"
        case 2:
            var offsets = entry["data_offsets"] as? [Any] ?? [0, 0]
            offsets[g.below(max(offsets.count, 1)) % max(offsets.count, 1)] = g.pick(hostileNumbers)
            entry["data_offsets"] = offsets
            what = "\(name).data_offsets = \(offsets)"
        case 3:
            header[name] = nil
            return (safetensors(header: header, data: data[headerEnd...]) ?? data, "\(name) removed")
        case 4:
            let other = g.pick(names)
            header[name + ".copy"] = header[other]
            return (safetensors(header: header, data: data[headerEnd...]) ?? data, "\(other) duplicated")
        case 5:
            header["__metadata__"] = g.pick([["format": "pt"], ["x": 1], "pt", [1]] as [Any])
            return (safetensors(header: header, data: data[headerEnd...]) ?? data, "__metadata__ replaced")
        default:
            let shape = entry["shape"] as? [Int] ?? []
            entry["shape"] = Array(shape.reversed())
            what = "\(name).shape reversed"
        }
        header[name] = entry
        return (safetensors(header: header, data: data[headerEnd...]) ?? data, what)
    }
}

/// Case `index`: both files, each mutated or not, and its description.
func makeCase(_ index: Int, seed: UInt64, config: Data, weights: Data) -> (config: Data, weights: Data, precision: WeightMatrix.Precision, what: String) {
    var g = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
    var (c, w, what) = (config, weights, [String]())
    let which = g.below(5)                                  // 0–1: config, 2–3: weights, 4: both
    if which != 2 && which != 3 { let (m, d) = mutateConfig(c, &g); c = m; what.append(d) }
    if which >= 2 { let (m, d) = mutateWeights(w, &g); w = m; what.append(d) }
    let precision = g.pick(WeightMatrix.Precision.allCases)
    return (c, w, precision, "case \(index) (seed \(seed), weights \(precision)): " + what.joined(separator: "; "))
}

/// Loads and runs one case; returns "loaded", or the error's type, or reports and exits.
func runCase(config: Data, weights: Data, precision: WeightMatrix.Precision) -> String {
    do {
        let gpt = try GPT(config: GPTConfig(huggingFace: config), safetensors: SafetensorsFile(data: weights, name: "model.safetensors"),
                          weights: precision, dtype: precision.isNarrow ? .float32 : .float64)   // narrow weights serve Float models
        let tokens = [0, 1 % gpt.config.nVocab]
        _ = try gpt(Array(tokens.prefix(gpt.config.nCtx)))
        _ = try gpt.generate([0], maxNewTokens: 2)
        return "loaded"
    } catch is CheckpointError {
        return "CheckpointError"
    } catch is ModelError {
        return "ModelError"
    } catch is InputError {
        return "InputError"
    } catch {
        describe(current.withLock { $0.description } + "  -> an error that is not the library's: \(type(of: error)): \(error)")
        reportAndExit("Fuzz: FAILED: ")
    }
}

// MARK: - Main

let arguments = Arguments(Array(CommandLine.arguments.dropFirst()))
let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tiny-gpt2")
guard let configData = FileManager.default.contents(atPath: fixture.appendingPathComponent("config.json").path),
      let weightsData = FileManager.default.contents(atPath: fixture.appendingPathComponent("model.safetensors").path) else {
    usage("cannot read the fixture at \(fixture.path)")
}

if let index = arguments.only {
    let c = makeCase(index, seed: arguments.seed, config: configData, weights: weightsData)
    print(c.what)
    if let dir = arguments.save {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try c.config.write(to: URL(fileURLWithPath: dir).appendingPathComponent("config.json"))
        try c.weights.write(to: URL(fileURLWithPath: dir).appendingPathComponent("model.safetensors"))
        print("wrote \(dir)/config.json and model.safetensors")
    }
    print(runCase(config: c.config, weights: c.weights, precision: c.precision))
    exit(0)
}

let underSanitizer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
    || dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil
// A crash in a case reports which one; so does a case that runs too long. The
// address-space cap is left off under a sanitizer, whose shadow memory needs terabytes.
if !underSanitizer {
    var limit = rlimit(rlim_cur: 8 << 30, rlim_max: 8 << 30)
    setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
}
for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
    signal(sig) { _ in reportAndExit("Fuzz: CRASHED in ") }
}
let hangSeconds: UInt64 = underSanitizer ? 120 : 10
let watchdog = Thread {
    while true {
        sleep(1)
        let (text, started) = current.withLock { $0 }
        if DispatchTime.now().uptimeNanoseconds - started > hangSeconds * 1_000_000_000 {
            FileHandle.standardError.write(Data("Fuzz: HUNG (over \(hangSeconds) s) in \(text)\n".utf8))
            exit(1)
        }
    }
}
watchdog.start()

let start = Date()
var outcomes: [String: Int] = [:]
var index = 0
while true {
    if let cases = arguments.cases, index >= cases { break }
    if let seconds = arguments.seconds, Date().timeIntervalSince(start) >= seconds { break }
    let c = makeCase(index, seed: arguments.seed, config: configData, weights: weightsData)
    describe(c.what)
    outcomes[runCase(config: c.config, weights: c.weights, precision: c.precision), default: 0] += 1
    index += 1
}
let summary = outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
print(String(format: "Fuzz: %d cases in %.1f s (seed %llu), no crash, hang or runaway allocation: %@",
             index, Date().timeIntervalSince(start), arguments.seed, summary))

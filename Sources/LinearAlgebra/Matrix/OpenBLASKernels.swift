import COpenBLAS
import Foundation

/// Which of its CPU-specific kernel sets OpenBLAS runs, and a better one when
/// it did not recognise the CPU.
///
/// OpenBLAS built for many CPUs (Debian's is) picks its kernels from the CPU
/// model when the library loads. A model newer than the library (Debian 12's
/// 0.3.21 on Intel Emerald Rapids, family 6 model 207) gets the generic
/// `Prescott` kernels, which use no AVX at all: on such a machine `sgemm` runs
/// about eight times slower than it could, with nothing said. The environment
/// variable `OPENBLAS_CORETYPE` overrides the choice, but only before the
/// library loads, so a process cannot fix its own.
///
/// The `gpt` and `bench` executables re-run themselves with better kernels
/// first thing (`rerunWithSuggestedKernels()` in their `CommandSupport`
/// target). A program linking SwiftAttention can read ``name`` and
/// ``summary`` and tell its user to set `OPENBLAS_CORETYPE`.
public enum OpenBLASKernels {
    /// The kernel set OpenBLAS chose when it loaded, as it names it:
    /// `Haswell`, `SkylakeX`, `Zen`, … or a generic one such as `Prescott`.
    public static var name: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// ``name`` and who chose it, for a report: `"Haswell (OpenBLAS's choice)"`,
    /// `"Zen (OPENBLAS_CORETYPE)"`, or `"SkylakeX (OPENBLAS_CORETYPE set by
    /// SwiftAttention: OpenBLAS chose Prescott)"` after `gpt` or `bench` re-ran
    /// themselves. When someone else's `OPENBLAS_CORETYPE` leaves AVX-512 unused, a hint
    /// is added: `"Haswell (OPENBLAS_CORETYPE; this CPU has AVX-512, …)"`.
    public static var summary: String {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] != nil else { return "\(name) (OpenBLAS's choice)" }
        guard let own = environment[ownChoiceVariable] else { return "\(name) (OPENBLAS_CORETYPE\(unusedAVX512Hint.map { "; " + $0 } ?? ""))" }
        return "\(name) (OPENBLAS_CORETYPE set by SwiftAttention: OpenBLAS chose \(own))"
    }

    /// ``unusedAVX512Hint(forKernels:cpuFlags:)`` for the loaded kernels, when a
    /// user's (not SwiftAttention's) `OPENBLAS_CORETYPE` chose them.
    package static var unusedAVX512Hint: String? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] != nil, environment[ownChoiceVariable] == nil else { return nil }
        return unusedAVX512Hint(forKernels: name, cpuFlags: cpuFlags())
    }

    /// What to tell a user whose `OPENBLAS_CORETYPE` holds OpenBLAS to vector
    /// kernels without AVX-512 (`Haswell`, `Zen`, …) on a CPU that has it, as
    /// `cpuFlags` says; `nil` otherwise. On such a CPU `float32` prefill gave
    /// 38 % fewer tokens/s on `Haswell` than on `SkylakeX` (a Zen 5 VM whose
    /// environment set `OPENBLAS_CORETYPE=Haswell`).
    package static func unusedAVX512Hint(forKernels kernels: String, cpuFlags: @autoclosure () -> Set<String>) -> String? {
        let set = kernels.lowercased()
        guard vectorKernels.contains(set), !avx512Kernels.contains(set), cpuFlags().isSuperset(of: avx512Flags) else { return nil }
        return "this CPU has AVX-512, which these kernels leave unused: unset OPENBLAS_CORETYPE or set it to SkylakeX"
    }

    /// OpenBLAS's x86 kernel sets that use AVX-512.
    static let avx512Kernels: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    /// The AVX-512 subsets OpenBLAS's `SkylakeX` kernels need, as `/proc/cpuinfo` spells them.
    static let avx512Flags: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    /// Where the executables' re-run with suggested kernels leaves OpenBLAS's own choice for ``summary``.
    package static let ownChoiceVariable = "SWIFTATTENTION_OPENBLAS_OWN_CHOICE"

    /// The `OPENBLAS_CORETYPE` that would let OpenBLAS use this CPU's vector
    /// units, when the kernels it chose use none of them (and `nil` otherwise).
    package static var suggestion: String? {
        suggestion(forKernels: name, cpuFlags: cpuFlags())
    }

    /// OpenBLAS's x86 kernel sets that use AVX or better; anything else it
    /// reports on an x86 CPU with AVX2 is a fallback.
    static let vectorKernels: Set<String> = [
        "sandybridge", "haswell", "skylakex", "cooperlake", "sapphirerapids",
        "zen", "bulldozer", "piledriver", "steamroller", "excavator",
    ]

    /// The kernel set for `cpuFlags` (as `/proc/cpuinfo` spells them) when
    /// `kernels` is not one of ``vectorKernels``: `SkylakeX` with AVX-512 (F,
    /// CD, BW, DQ, VL), else `Haswell` with AVX2 and FMA, else `nil`; also `nil`
    /// when `kernels` already uses vector units. (OpenBLAS's `Cooperlake` and
    /// `SapphireRapids` sets differ from `SkylakeX` only in bfloat16 routines
    /// SwiftAttention does not call, and Debian's 0.3.21 cannot be forced to them.)
    /// `cpuFlags` is evaluated only when `kernels` is a fallback, so the usual
    /// start-up (OpenBLAS knew the CPU) does not read `/proc/cpuinfo`.
    package static func suggestion(forKernels kernels: String, cpuFlags: @autoclosure () -> Set<String>) -> String? {
        guard !vectorKernels.contains(kernels.lowercased()) else { return nil }
        let flags = cpuFlags()
        guard flags.isSuperset(of: ["avx2", "fma"]) else { return nil }
        return flags.isSuperset(of: avx512Flags) ? "SkylakeX" : "Haswell"
    }

    /// The first processor's `flags` line of `/proc/cpuinfo` (empty where there is none).
    package static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}

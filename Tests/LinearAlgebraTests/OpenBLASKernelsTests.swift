import LinearAlgebra
import Testing

@Suite("OpenBLAS kernels: a better set when OpenBLAS falls back to generic ones")
struct OpenBLASKernelsTests {
    let avx2: Set<String> = ["sse2", "avx", "avx2", "fma"]
    var avx512: Set<String> { avx2.union(["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) }

    @Test func genericKernelsOnAVXMachines() {
        #expect(OpenBLASKernels.suggestion(forKernels: "Prescott", cpuFlags: avx512) == "SkylakeX")
        #expect(OpenBLASKernels.suggestion(forKernels: "Prescott", cpuFlags: avx512.union(["avx512_bf16", "amx_tile"])) == "SkylakeX")
        #expect(OpenBLASKernels.suggestion(forKernels: "Nehalem", cpuFlags: avx2) == "Haswell")
        // AVX-512 without VL and BW (Knights Landing) gets the AVX2 kernels, as OpenBLAS gives it.
        #expect(OpenBLASKernels.suggestion(forKernels: "Prescott", cpuFlags: avx2.union(["avx512f", "avx512cd"])) == "Haswell")
    }

    @Test func nothingToSuggest() {
        // Vector kernels stay, even where a wider set exists: OpenBLAS chose them on purpose.
        for kernels in ["Haswell", "SkylakeX", "skylakex", "Zen", "Cooperlake", "SapphireRapids"] {
            #expect(OpenBLASKernels.suggestion(forKernels: kernels, cpuFlags: avx512) == nil, "\(kernels)")
        }
        // No AVX2 (or no FMA): the generic kernels are the right ones.
        #expect(OpenBLASKernels.suggestion(forKernels: "Prescott", cpuFlags: ["sse2", "sse3"]) == nil)
        #expect(OpenBLASKernels.suggestion(forKernels: "Prescott", cpuFlags: ["avx", "avx2"]) == nil)
        #expect(OpenBLASKernels.suggestion(forKernels: "Prescott", cpuFlags: []) == nil)
    }

    @Test func avx512LeftUnusedByAUsersChoice() {
        for kernels in ["Haswell", "haswell", "Zen", "SandyBridge"] {
            #expect(OpenBLASKernels.unusedAVX512Hint(forKernels: kernels, cpuFlags: avx512)?.contains("unset OPENBLAS_CORETYPE") == true, "\(kernels)")
            #expect(OpenBLASKernels.unusedAVX512Hint(forKernels: kernels, cpuFlags: avx2) == nil, "\(kernels)")
        }
        // AVX-512 kernels already, or generic ones (which the re-run replaces): nothing to say.
        for kernels in ["SkylakeX", "Cooperlake", "SapphireRapids", "Prescott"] {
            #expect(OpenBLASKernels.unusedAVX512Hint(forKernels: kernels, cpuFlags: avx512) == nil, "\(kernels)")
        }
    }

    @Test func flagsFromCPUInfo() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 fma avx512f\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu\n"
        #expect(OpenBLASKernels.cpuFlags(cpuinfo: text) == ["fpu", "sse2", "avx2", "fma", "avx512f"])
        #expect(OpenBLASKernels.cpuFlags(cpuinfo: "processor\t: 0\n").isEmpty)
        #expect(OpenBLASKernels.cpuFlags(cpuinfo: nil).isEmpty)
    }

    @Test func reportsTheLoadedKernels() {
        #expect(!OpenBLASKernels.name.isEmpty)
        #expect(OpenBLASKernels.summary.hasPrefix(OpenBLASKernels.name + " ("))
    }
}

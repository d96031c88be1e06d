import Foundation
import LinearAlgebra

/// Replaces the running executable by a fresh run of itself, with the same
/// arguments and `OPENBLAS_CORETYPE` set to OpenBLAS's suggested kernels, when
/// OpenBLAS fell back to kernels that leave this CPU's vector units unused and
/// `OPENBLAS_CORETYPE` is not already set (a user's own choice always wins).
/// Returns, doing nothing, otherwise or when the new run cannot start. Call it
/// first thing in `main`, before any other work.
package func rerunWithSuggestedKernels() {
    guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, let core = OpenBLASKernels.suggestion else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    setenv(OpenBLASKernels.ownChoiceVariable, OpenBLASKernels.name, 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
    unsetenv("OPENBLAS_CORETYPE")   // exec failed: carry on with the kernels we have
    unsetenv(OpenBLASKernels.ownChoiceVariable)
}

extension WeightMatrix.Precision {
    /// The spelling the executables' `--weights` and their output use: `bf16`
    /// for ``WeightMatrix/Precision/bfloat16``, the raw value otherwise.
    package var argument: String { self == .bfloat16 ? "bf16" : rawValue }
}

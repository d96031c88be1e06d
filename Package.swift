// swift-tools-version:6.1
import Foundation
import PackageDescription

let package = Package(
    name: "SwiftAttention",
    products: [
        .library(name: "SwiftAttention", targets: ["SwiftAttention"]),
        .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
        .library(name: "Transformer", targets: ["Transformer"]),
        .executable(name: "gpt", targets: ["gpt"]),
        .executable(name: "bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        // `gpt serve` (the Serving target only: a package linking SwiftAttention builds none of these).
        // Without the default traits, which would also build swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // `swift package generate-documentation` (scripts/docs); a plugin: nothing of it is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS (CBLAS) and LAPACKE, linked from the system; no C code of ours.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // A static inline prefetch for the pure-Swift kernels.
        .target(name: "CPrefetch"),
        // The int8 quantizer, and the AVX-512 VNNI products of int8 weights (chosen at run time).
        .target(name: "CInt8"),
        .target(
            name: "LinearAlgebra",
            dependencies: [
                "COpenBLAS", "CPrefetch", "CInt8",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(name: "Transformer", dependencies: ["LinearAlgebra"]),
        .target(name: "SwiftAttention", dependencies: ["LinearAlgebra", "Transformer"]),
        // What the executables share: the JSON writer, the re-run with better OpenBLAS kernels.
        .target(name: "CommandSupport", dependencies: ["SwiftAttention"]),
        // `gpt serve`: the OpenAI-compatible HTTP server over the library's ContinuousBatcher.
        .target(
            name: "Serving",
            dependencies: [
                "SwiftAttention", "CommandSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "gpt",
            dependencies: [
                "SwiftAttention", "CommandSupport", "Serving",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["LinearAlgebra", .product(name: "RealModule", package: "swift-numerics")],
            path: "Tests/TestSupport"
        ),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "SwiftAttention", "COpenBLAS", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/Bench"
        ),
        // Loads mutated copies of the test checkpoint (scripts/fuzz; a fixed-seed slice runs in the tests).
        .executableTarget(name: "Fuzz", dependencies: ["SwiftAttention"], path: "Tests/Fuzz"),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "TestSupport"]),   // the engine alone: no model layer
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "SwiftAttention", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["gpt", "Bench", "Fuzz", "LinearAlgebra", "Transformer", "TestSupport"]),
    ]
)

// scripts/test's second pass builds the engine alone, with the release build's AVX-512
// kernels (SWIFTATTENTION_ENGINE_ONLY=1, in its own scratch path and manifest cache):
// LinearAlgebra and its tests, not the model layer, the tools or the server's packages.
if ProcessInfo.processInfo.environment["SWIFTATTENTION_ENGINE_ONLY"] == "1" {
    let engine: Set = ["COpenBLAS", "CPrefetch", "CInt8", "LinearAlgebra", "TestSupport", "LinearAlgebraTests"]
    package.targets.removeAll { !engine.contains($0.name) }
    package.products.removeAll { $0.name != "LinearAlgebra" }
}

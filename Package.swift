// swift-tools-version:6.0
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
        .target(
            name: "LinearAlgebra",
            dependencies: [
                "COpenBLAS", "CPrefetch",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(name: "Transformer", dependencies: ["LinearAlgebra"]),
        .target(name: "SwiftAttention", dependencies: ["LinearAlgebra", "Transformer"]),
        // What the executables share: the JSON writer, the re-run with better OpenBLAS kernels.
        .target(name: "CommandSupport", dependencies: ["SwiftAttention"]),
        .executableTarget(
            name: "gpt",
            dependencies: [
                "SwiftAttention", "CommandSupport",
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

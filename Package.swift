// swift-tools-version:6.0
import PackageDescription

// Hot loops use SIMD8<Float> with fused multiply-add; without a target CPU that has AVX2 + FMA,
// Swift lowers every FMA to a libm call. Every x86-64 CPU of the last decade has both.
#if arch(x86_64)
let vectorISA: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let vectorISA: [SwiftSetting] = []
#endif
let numeric: [SwiftSetting] = vectorISA + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "SwiftGRPO",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "grpo", targets: ["grpo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // C kernels that need an instruction set chosen at run time (AVX-512), which Swift cannot express per function.
        .target(name: "CKernels"),
        .target(name: "Tensors", dependencies: ["CBLAS", "CKernels"], swiftSettings: numeric),
        .target(name: "PolicyModel", dependencies: ["Tensors"], swiftSettings: numeric),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .target(name: "Trajectories", dependencies: ["CHDF5"]),
        .target(name: "RewardSystem"),
        .target(name: "Tokenizers"),
        .target(name: "Rewards", dependencies: ["RewardSystem"], path: "Rewards"),
        .target(name: "Advantages"),
        .target(name: "ReferenceModel", dependencies: ["PolicyModel"], swiftSettings: numeric),
        .target(name: "GRPO", dependencies: ["Advantages", "PolicyModel", "ReferenceModel", "RewardSystem", "Tensors", "Tokenizers"],
                swiftSettings: numeric),
        .target(name: "Experiments", dependencies: [
            "Advantages", "GRPO", "PolicyModel", "ReferenceModel", "RewardSystem", "Rewards", "Tensors", "Tokenizers", "Trajectories",
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "grpo", dependencies: [
            "PolicyModel", "Tensors", "RewardSystem", "Rewards", "Trajectories", "Tokenizers", "GRPO", "Experiments",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: vectorISA),
        .testTarget(name: "TrajectoriesTests", dependencies: ["Trajectories", "CommandLineSupport"], exclude: ["check_run_file.py"]),
        .testTarget(name: "RewardSystemTests", dependencies: ["RewardSystem", "Rewards"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "CKernels"], swiftSettings: vectorISA),
        // Runs the built `grpo` executable (swift build puts it next to the test bundle).
        .target(name: "CommandLineSupport", path: "Tests/CommandLineSupport"),
        // CompareCommandTests also unit-test the chart code of the grpo executable (@testable import grpo).
        .testTarget(name: "CLITests", dependencies: ["CommandLineSupport", "Trajectories", "grpo"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "GRPO", "PolicyModel", "RewardSystem", "Tokenizers", "Trajectories", "CommandLineSupport"]),
        .testTarget(name: "AdvantagesTests", dependencies: ["Advantages"]),
        .testTarget(name: "GRPOTests", dependencies: ["GRPO", "Advantages", "PolicyModel", "ReferenceModel", "RewardSystem", "Tokenizers", "Tensors"],
                    swiftSettings: vectorISA),
        .testTarget(name: "PolicyModelTests", dependencies: ["PolicyModel", "Tensors"], swiftSettings: vectorISA),
    ],
    swiftLanguageModes: [.v5]
)

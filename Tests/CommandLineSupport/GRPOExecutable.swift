import Foundation
import XCTest

/// What running the built `grpo` executable gave.
public struct CommandResult {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
}

/// Runs the `grpo` that `swift build` put next to the test bundle, as a user would, with `environment` added to
/// this process's; skips the test (with the reason) when it is not there.
public func runGRPO(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let binary = try grpoExecutable()
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
                         standardError: String(decoding: errorData, as: UTF8.self))
}

/// The `grpo` that `swift build` put next to the test bundle; skips the test when it is not there.
public func grpoExecutable() throws -> URL {
    let binary = Bundle.main.bundleURL.appendingPathComponent("grpo")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw XCTSkip("grpo is not built next to the test bundle at \(binary.path); run `swift build` first")
    }
    return binary
}

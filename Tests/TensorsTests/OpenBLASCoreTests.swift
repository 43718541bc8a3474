@testable import Tensors
import XCTest

final class OpenBLASCoreTests: XCTestCase {
    func testKernelsOlderThanTheCPUAreReplacedByTheNewestItHas() {
        XCTAssertEqual(OpenBLASCore.replacement(for: "Prescott", cpuHasAVX512: true, cpuHasAVX2: true), "SkylakeX")
        XCTAssertEqual(OpenBLASCore.replacement(for: "Prescott", cpuHasAVX512: false, cpuHasAVX2: true), "Haswell")
        XCTAssertEqual(OpenBLASCore.replacement(for: "Sandybridge", cpuHasAVX512: false, cpuHasAVX2: true), "Haswell")
        XCTAssertNil(OpenBLASCore.replacement(for: "Core2", cpuHasAVX512: false, cpuHasAVX2: false))
    }

    func testKernelsWithAVX2OrAVX512AreKept() {
        for core in ["Haswell", "Excavator", "Zen", "SkylakeX", "COOPERLAKE", "SapphireRapids"] {
            XCTAssertNil(OpenBLASCore.replacement(for: core, cpuHasAVX512: true, cpuHasAVX2: true), core)
        }
    }

    func testTheCoreInUseIsNamed() {
        XCTAssertFalse(OpenBLASCore.name.isEmpty)
    }
}

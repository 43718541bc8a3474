import XCTest
@testable import Advantages

final class AdvantagesTests: XCTestCase {
    // Two groups of four: [1, 0, 0, 1] (mean 0.5, sample std √(1/3)) and [2, 2, 2, 2] (all equal).
    let rewards: [Double] = [1, 0, 0, 1, 2, 2, 2, 2]

    func assertEqual(_ actual: [Float], _ expected: [Double], accuracy: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) { XCTAssertEqual(Double(a), e, accuracy: accuracy, file: file, line: line) }
    }

    func testGroupNormalizationDividesByTheGroupsSampleStandardDeviationPlusEpsilon() throws {
        let result = try Advantages.groupRelative(rewards: rewards, groupSize: 4, normalization: .group)
        let scaled = 0.5 / ((1.0 / 3).squareRoot() + 1e-4)
        assertEqual(result.values, [scaled, -scaled, -scaled, scaled, 0, 0, 0, 0])
        XCTAssertEqual(result.groupMeans, [0.5, 2])
        XCTAssertEqual(result.groupStandardDeviations[0], (1.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(result.isZeroVariance, [false, true])
        XCTAssertEqual(result.zeroVarianceGroups, 1)
    }

    func testNoneSubtractsTheGroupMeanOnly() throws {
        let result = try Advantages.groupRelative(rewards: [3, 1, 2, 10, 10, 13], groupSize: 3, normalization: .none)
        assertEqual(result.values, [1, -1, 0, -1, -1, 2])
        XCTAssertEqual(result.zeroVarianceGroups, 0)
    }

    func testBatchDividesByTheStandardDeviationOfAllRewards() throws {
        let result = try Advantages.groupRelative(rewards: rewards, groupSize: 4, normalization: .batch)
        // All eight rewards: mean 1.25, squares 0.0625·2 + 1.5625·2 + 0.5625·4 = 5.5, sample variance 5.5/7.
        let batchStd = (5.5 / 7).squareRoot()
        let scaled = 0.5 / (batchStd + 1e-4)
        assertEqual(result.values, [scaled, -scaled, -scaled, scaled, 0, 0, 0, 0])
    }

    func testLeaveOneOutSubtractsTheMeanOfTheOtherCompletions() throws {
        let result = try Advantages.groupRelative(rewards: [1, 0, 0, 3], groupSize: 4, normalization: .leaveOneOut)
        // 1 − (0 + 0 + 3)/3 = 0, 0 − 4/3, 0 − 4/3, 3 − 1/3.
        assertEqual(result.values, [0, -4.0 / 3, -4.0 / 3, 8.0 / 3])
    }

    func testAllEqualRewardsGiveZeroAdvantagesInEveryVariant() throws {
        for normalization in AdvantageNormalization.allCases {
            let result = try Advantages.groupRelative(rewards: [0.7, 0.7, 0.7], groupSize: 3, normalization: normalization)
            XCTAssertEqual(result.values, [0, 0, 0], "\(normalization)")
            XCTAssertEqual(result.zeroVarianceGroups, 1, "\(normalization)")
        }
    }

    func testGroupsOfOneHaveZeroAdvantageAndCountAsZeroVariance() throws {
        for normalization in AdvantageNormalization.allCases {
            let result = try Advantages.groupRelative(rewards: [1, 0, 5], groupSize: 1, normalization: normalization)
            XCTAssertEqual(result.values, [0, 0, 0], "\(normalization)")
            XCTAssertEqual(result.zeroVarianceGroups, 3, "\(normalization)")
            XCTAssertEqual(result.groupStandardDeviations, [0, 0, 0])
        }
    }

    func testAGroupSizeThatDoesNotDivideTheCompletionsIsRejected() {
        XCTAssertThrowsError(try Advantages.groupRelative(rewards: [1, 2, 3], groupSize: 2)) { error in
            XCTAssertEqual(error as? AdvantageError, .invalidGroupSize(groupSize: 2, completions: 3))
            XCTAssertTrue("\(error)".contains("divide the number of completions (3)"))
        }
        XCTAssertThrowsError(try Advantages.groupRelative(rewards: [1, 2], groupSize: 0))
    }

    func testANonFiniteRewardIsRejectedWithItsIndex() {
        XCTAssertThrowsError(try Advantages.groupRelative(rewards: [1, .nan, 3, 4], groupSize: 2)) { error in
            XCTAssertTrue("\(error)".contains("completion 1"), "\(error)")
        }
    }

    func testNamesMatchTheExperimentFileSpelling() {
        XCTAssertEqual(AdvantageNormalization(rawValue: "leave_one_out"), .leaveOneOut)
        XCTAssertEqual(AdvantageNormalization.allCases.map(\.rawValue), ["group", "none", "batch", "leave_one_out"])
    }
}

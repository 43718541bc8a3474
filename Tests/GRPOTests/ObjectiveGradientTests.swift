import XCTest
@testable import GRPO
import Tensors

/// ∂loss/∂logp of every loss variant against central finite differences of the loss itself.
final class ObjectiveGradientTests: XCTestCase {
    /// Ragged rows with ratios exp(logp − old) kept at least 0.02 away from the clip edges 1 − ε and 1 + ε_high
    /// (a kink there would make the difference quotient meaningless), and one row left out of the loss.
    func randomInputs(seed: UInt64, epsilonLow: Double, epsilonHigh: Double, delta: Double?) -> GRPOObjective.Inputs {
        var generator = SeededGenerator(seed: seed)
        let lengths = [5, 1, 7, 3, 6]
        var logProbs: [[Float]] = [], old: [[Float]] = [], reference: [[Float]] = []
        for length in lengths {
            var row: [Float] = [], oldRow: [Float] = [], referenceRow: [Float] = []
            for _ in 0..<length {
                let logProb = -0.2 - 3 * Float(generator.nextUniform())
                var logRatio: Double
                repeat {
                    logRatio = 1.2 * (Double(generator.nextUniform()) - 0.5)
                } while [1 - epsilonLow, 1 + epsilonHigh, delta ?? 100].contains { abs(Foundation.exp(logRatio) - $0) < 0.02 }
                row.append(logProb)
                oldRow.append(logProb - Float(logRatio))
                referenceRow.append(logProb + 0.5 * (generator.nextUniform() - 0.5))
            }
            logProbs.append(row)
            old.append(oldRow)
            reference.append(referenceRow)
        }
        return GRPOObjective.Inputs(logProbs: logProbs, oldLogProbs: old, referenceLogProbs: reference,
                                    advantages: [1.3, -0.7, 0.4, -1.1, 0], includedInLoss: [true, true, true, false, true],
                                    generationBatchTokens: 37)
    }

    func checkGradient(_ objective: GRPOObjective, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let inputs = randomInputs(seed: seed, epsilonLow: objective.epsilonLow, epsilonHigh: objective.epsilonHigh, delta: objective.delta)
        let analytic = try objective.evaluate(inputs).logProbGradients
        var checked = 0
        for row in inputs.logProbs.indices {
            for t in inputs.logProbs[row].indices {
                var plus = inputs, minus = inputs
                plus.logProbs[row][t] += 1e-3
                minus.logProbs[row][t] -= 1e-3
                let step = Double(plus.logProbs[row][t]) - Double(minus.logProbs[row][t])
                let numeric = (try objective.evaluate(plus).loss - objective.evaluate(minus).loss) / step
                XCTAssertEqual(Double(analytic[row][t]), numeric, accuracy: 2e-6 + 1e-4 * abs(numeric),
                               "\(objective.lossType) row \(row) token \(t)", file: file, line: line)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 22, file: file, line: line)
        XCTAssertEqual(analytic[3], [0, 0, 0], "a row outside the loss gets no gradient", file: file, line: line)
    }

    func objective(_ lossType: LossType, beta: Double = 0.04, delta: Double? = nil, biasCorrection: Bool = true,
                   accumulation: Int = 1) -> GRPOObjective {
        GRPOObjective(lossType: lossType, beta: beta, epsilonLow: 0.2, epsilonHigh: 0.28, delta: delta,
                      useBiasCorrectionKL: biasCorrection, maxCompletionLength: 9, gradientAccumulationSteps: accumulation,
                      stepsPerGeneration: accumulation)
    }

    func testEveryLossTypeWithKLMatchesFiniteDifferences() throws {
        for (index, lossType) in LossType.allCases.enumerated() {
            try checkGradient(objective(lossType), seed: UInt64(10 + index))
        }
    }

    func testEveryLossTypeWithoutKLMatchesFiniteDifferences() throws {
        for (index, lossType) in LossType.allCases.enumerated() {
            try checkGradient(objective(lossType, beta: 0), seed: UInt64(20 + index))
        }
    }

    func testTwoSidedClippingMatchesFiniteDifferences() throws {
        for (index, lossType) in LossType.allCases.enumerated() {
            try checkGradient(objective(lossType, delta: 1.35), seed: UInt64(30 + index))
        }
    }

    func testKLWithoutBiasCorrectionAndWithAccumulationMatchesFiniteDifferences() throws {
        for (index, lossType) in LossType.allCases.enumerated() {
            try checkGradient(objective(lossType, beta: 0.3, biasCorrection: false, accumulation: 2), seed: UInt64(40 + index))
        }
    }

    /// On the first pass the old log-probs are the current ones, detached: the ratio is 1 but its gradient
    /// is not zero, exactly as if the same values had been passed as `oldLogProbs`.
    func testOnPolicyGradientEqualsTheGradientAtOldEqualsCurrent() throws {
        var inputs = randomInputs(seed: 5, epsilonLow: 0.2, epsilonHigh: 0.28, delta: nil)
        inputs.oldLogProbs = nil
        var explicit = inputs
        explicit.oldLogProbs = inputs.logProbs
        for lossType in LossType.allCases {
            let implicit = try objective(lossType).evaluate(inputs), given = try objective(lossType).evaluate(explicit)
            XCTAssertEqual(implicit.logProbGradients, given.logProbGradients)
            XCTAssertEqual(implicit.loss, given.loss)
            XCTAssertEqual(implicit.statistics.lowClipped + implicit.statistics.highClipped, 0)
            // With β = 0 and ratio 1 the policy term's gradient is −A times the aggregation weight.
            let plain = try objective(lossType, beta: 0).evaluate(inputs)
            XCTAssertLessThan(plain.logProbGradients[0][0], 0, "positive advantage pushes log-probs up")
            XCTAssertGreaterThan(plain.logProbGradients[1][0], 0, "negative advantage pushes log-probs down")
        }
    }

    func testDAPODividesByTheGenerationBatchTokensAndGRPOByEachCompletionsLength() throws {
        let inputs = GRPOObjective.Inputs(logProbs: [[-1, -1], [-1, -1, -1, -1]], advantages: [1, 1], generationBatchTokens: 12)
        let dapo = try objective(.dapo, beta: 0).evaluate(inputs)
        XCTAssertEqual(dapo.loss, -6.0 / 12, accuracy: 1e-12)
        let twelfth: Float = -1.0 / 12
        XCTAssertEqual(dapo.logProbGradients, [[twelfth, twelfth], [twelfth, twelfth, twelfth, twelfth]])
        let grpo = try objective(.grpo, beta: 0).evaluate(inputs)
        XCTAssertEqual(grpo.loss, -1, accuracy: 1e-12)
        let expected: [[Float]] = [[-0.25, -0.25], [-0.125, -0.125, -0.125, -0.125]]
        XCTAssertEqual(grpo.logProbGradients, expected)
        let bnpo = try objective(.bnpo, beta: 0).evaluate(inputs)
        XCTAssertEqual(bnpo.logProbGradients[1][0], -1.0 / 6, accuracy: 1e-7)
        let drGRPO = try objective(.drGRPO, beta: 0).evaluate(inputs)
        XCTAssertEqual(drGRPO.logProbGradients[0][0], -1.0 / 18, accuracy: 1e-7)
    }

    func testMismatchedShapesAndAMissingReferenceAreRejected() {
        let bad = GRPOObjective.Inputs(logProbs: [[-1, -2]], oldLogProbs: [[-1]], advantages: [1], generationBatchTokens: 2)
        XCTAssertThrowsError(try objective(.dapo, beta: 0).evaluate(bad)) { error in
            XCTAssertTrue("\(error)".contains("old log-probs"), "\(error)")
        }
        let noReference = GRPOObjective.Inputs(logProbs: [[-1, -2]], advantages: [1], generationBatchTokens: 2)
        XCTAssertThrowsError(try objective(.dapo, beta: 0.1).evaluate(noReference)) { error in
            XCTAssertTrue("\(error)".contains("no reference log-probs"), "\(error)")
        }
    }
}

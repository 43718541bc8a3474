import Foundation
import RewardSystem

/// `arithmetic`: "What is 23 + 45?" with `operands` numbers of up to `digits` digits joined by operators
/// drawn from `operators`, evaluated with the usual precedence. The answer is always an integer: division
/// only where it is exact, and no negative results unless `allow_negative_results`.
struct ArithmeticTask {
    var digits: Int
    var operators: [Character]
    var operands: Int
    var allowNegativeResults: Bool

    init(config: TaskConfig) {
        digits = config.digits
        operators = Array(config.operators)
        operands = config.operands
        allowNegativeResults = config.allowNegativeResults
    }

    var largest: Int { Int(pow(10.0, Double(digits))) - 1 }

    func draw(_ random: inout TaskRandom) throws -> Problem {
        for _ in 0..<10_000 {
            var numbers = (0..<operands).map { _ in random.int(in: 0...largest) }
            let ops = (0..<(operands - 1)).map { _ in random.element(of: operators) }
            // Right to left, make each division exact: divisor ≥ 1, dividend a multiple of it (≤ `digits` digits).
            for i in stride(from: ops.count - 1, through: 0, by: -1) where ops[i] == "/" {
                if numbers[i + 1] == 0 { numbers[i + 1] = random.int(in: 1...largest) }
                numbers[i] = numbers[i + 1] * random.int(in: 0...(largest / numbers[i + 1]))
            }
            guard let value = ArithmeticTask.evaluate(numbers, ops), let result = value.integerValue,
                  allowNegativeResults || result >= 0 else { continue }
            var expression = String(numbers[0])
            for (op, n) in zip(ops, numbers.dropFirst()) { expression += " \(op) \(n)" }
            return Problem(fields: ["question": "What is \(expression)?", "expression": expression],
                           answer: String(result),
                           metadata: ["expression": .string(expression)])
        }
        throw TaskError.cannotGenerate(key: "operators",
            message: "no expression with an integer\(allowNegativeResults ? "" : ", non-negative") result that fits in 64 bits in 10000 draws; change operators, digits or operands, or set allow_negative_results")
    }

    /// Exact value with `*` and `/` binding tighter than `+` and `-`, left to right; nil on overflow.
    static func evaluate(_ numbers: [Int], _ ops: [Character]) -> Rational? {
        var terms: [Rational] = [Rational(numbers[0])]
        var signs: [Character] = []
        for (op, n) in zip(ops, numbers.dropFirst()) {
            if op == "*" || op == "/" {
                guard let t = Rational.apply(op, terms[terms.count - 1], Rational(n)) else { return nil }
                terms[terms.count - 1] = t
            } else {
                signs.append(op)
                terms.append(Rational(n))
            }
        }
        var total = terms[0]
        for (sign, term) in zip(signs, terms.dropFirst()) {
            guard let t = Rational.apply(sign, total, term) else { return nil }
            total = t
        }
        return total
    }
}

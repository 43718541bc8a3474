import Foundation
import RewardSystem

/// `countdown` (TinyZero's task, after the Countdown-Tasks-3to4 data set): given 3–4 numbers, write an
/// equation with `+ - * /` that uses each number exactly once and equals the target.
///
/// Generation: draw how many numbers (`min_numbers…max_numbers`) and the numbers
/// (`min_number…max_number`), enumerate every target the numbers reach with whole, non-negative
/// intermediate results (as Stream-of-Search's generator combines them), keep those in
/// `min_target…max_target`, and pick one uniformly; numbers that reach none are redrawn. Every target
/// therefore has a solution the `countdown` rule scores 1.
struct CountdownTask {
    var numberCount: ClosedRange<Int>
    var numberRange: ClosedRange<Int>
    var targetRange: ClosedRange<Int>

    init(config: TaskConfig) {
        numberCount = config.minNumbers...config.maxNumbers
        numberRange = config.minNumber...config.maxNumber
        targetRange = config.minTarget...config.maxTarget
    }

    /// TinyZero's question: the numbers as a Python list, then the target.
    static func question(numbers: [Int], target: Int) -> String {
        "Using the numbers \(listText(numbers)), create an equation that equals \(target). You can use basic arithmetic operations (+, -, *, /) and each number can only be used once."
    }

    static func listText(_ numbers: [Int]) -> String { "[" + numbers.map(String.init).joined(separator: ", ") + "]" }

    func draw(_ random: inout TaskRandom) throws -> Problem {
        for _ in 0..<10_000 {
            let count = random.int(in: numberCount)
            let numbers = (0..<count).map { _ in random.int(in: numberRange) }
            let targets = CountdownSolver.reachableTargets(numbers, integerSteps: true)
                .filter { targetRange.contains($0) }.sorted()
            guard !targets.isEmpty else { continue }
            let target = random.element(of: targets)
            guard let solution = CountdownSolver.solve(numbers: numbers, target: target, integerSteps: true) else { continue }
            return Problem(fields: ["question": CountdownTask.question(numbers: numbers, target: target),
                                    "numbers": CountdownTask.listText(numbers), "target": String(target)],
                           answer: solution,
                           metadata: ["numbers": JSONValue(numbers), "target": JSONValue(target), "solution": .string(solution)])
        }
        throw TaskError.cannotGenerate(key: "max_target",
            message: "no numbers in \(numberRange) reach a target in \(targetRange) in 10000 draws; widen min_target…max_target")
    }

    /// Held-out identity: the multiset of numbers and the target (a reordering is the same puzzle).
    static func key(_ problem: Problem) -> String {
        let numbers = problem.metadata["numbers"]?.arrayValue?.compactMap(\.intValue).sorted() ?? []
        return "\(numbers) -> \(problem.fields["target"] ?? "")"
    }
}

/// Exhaustive search over countdown equations: every way of combining the numbers pairwise with
/// `+ - * /` until one value is left, each number used exactly once (as the `countdown` rule requires).
public enum CountdownSolver {
    /// An equation (integers, `+ - * /`, parentheses) that uses every number exactly once and equals
    /// `target`, or nil when there is none. `integerSteps`: only whole, non-negative intermediate results
    /// (exact division, larger minus smaller); otherwise exact fractions and negative values are allowed,
    /// which is what the `countdown` rule accepts.
    public static func solve(numbers: [Int], target: Int, integerSteps: Bool = false) -> String? {
        guard !numbers.isEmpty else { return nil }
        var items = numbers.map { (Rational($0), String($0)) }
        let goal = Rational(target)
        guard let found = search(&items, integerSteps: integerSteps, until: { $0 == goal }) else { return nil }
        return stripOuterParentheses(found)
    }

    /// True when some equation using every number once equals `target` (exact arithmetic).
    public static func isReachable(numbers: [Int], target: Int) -> Bool {
        solve(numbers: numbers, target: target) != nil
    }

    /// Every integer value an equation using every number exactly once can take.
    public static func reachableTargets(_ numbers: [Int], integerSteps: Bool) -> Set<Int> {
        var out = Set<Int>()
        var seen = Set<[Rational]>()
        collect(numbers.map { Rational($0) }, integerSteps: integerSteps, into: &out, seen: &seen)
        return out
    }

    static func combinations(_ a: Rational, _ b: Rational, integerSteps: Bool) -> [(Rational, Character, Bool)] {
        // (value, operator, swapped: b op a)
        var out: [(Rational, Character, Bool)] = []
        if let v = a + b { out.append((v, "+", false)) }
        if let v = a * b { out.append((v, "*", false)) }
        if integerSteps {
            if a.numerator >= b.numerator { if let v = a - b { out.append((v, "-", false)) } } else if let v = b - a { out.append((v, "-", true)) }
            if b.numerator != 0, let v = a / b, v.denominator == 1 { out.append((v, "/", false)) }
            if a.numerator != 0, a != b, let v = b / a, v.denominator == 1 { out.append((v, "/", true)) }
        } else {
            if let v = a - b { out.append((v, "-", false)) }
            if a != b, let v = b - a { out.append((v, "-", true)) }
            if let v = a / b { out.append((v, "/", false)) }
            if a != b, let v = b / a { out.append((v, "/", true)) }
        }
        return out
    }

    /// Every value reachable from `values`; `seen` skips multisets already expanded (different pairings
    /// often leave the same numbers).
    static func collect(_ values: [Rational], integerSteps: Bool, into out: inout Set<Int>, seen: inout Set<[Rational]>) {
        if values.count == 1 {
            if let i = values[0].integerValue { out.insert(i) }
            return
        }
        let sorted = values.sorted { ($0.numerator, $0.denominator) < ($1.numerator, $1.denominator) }
        guard seen.insert(sorted).inserted else { return }
        let n = values.count
        for i in 0..<n {
            for j in (i + 1)..<n {
                let a = values[i], b = values[j]
                var rest = values
                rest.remove(at: j)
                rest.remove(at: i)
                for (v, _, _) in combinations(a, b, integerSteps: integerSteps) {
                    rest.append(v)
                    collect(rest, integerSteps: integerSteps, into: &out, seen: &seen)
                    rest.removeLast()
                }
            }
        }
    }

    static func search(_ items: inout [(Rational, String)], integerSteps: Bool, until done: (Rational) -> Bool) -> String? {
        if items.count == 1 { return done(items[0].0) ? items[0].1 : nil }
        let n = items.count
        for i in 0..<n {
            for j in (i + 1)..<n {
                let a = items[i], b = items[j]
                var rest = items
                rest.remove(at: j)
                rest.remove(at: i)
                for (v, op, swapped) in combinations(a.0, b.0, integerSteps: integerSteps) {
                    let text = swapped ? "(\(b.1) \(op) \(a.1))" : "(\(a.1) \(op) \(b.1))"
                    rest.append((v, text))
                    if let found = search(&rest, integerSteps: integerSteps, until: done) { return found }
                    rest.removeLast()
                }
            }
        }
        return nil
    }

    static func stripOuterParentheses(_ s: String) -> String {
        guard s.hasPrefix("("), s.hasSuffix(")") else { return s }
        // Only when the first "(" closes at the very end.
        var depth = 0
        for (k, c) in s.enumerated() {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if depth == 0 { return k == s.count - 1 ? String(s.dropFirst().dropLast()) : s }
        }
        return s
    }
}

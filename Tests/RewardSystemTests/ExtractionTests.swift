import XCTest
@testable import RewardSystem

final class ExtractionTests: XCTestCase {
    func box(_ s: String) -> AnswerExtraction.BoxSearch { AnswerExtraction.lastBox(in: s) }

    func testLastBoxedArgumentIsTheBalancedGroup() {
        XCTAssertEqual(box("so \\boxed{5}."), .found("5"))
        XCTAssertEqual(box("\\boxed{\\frac{1}{2}}"), .found("\\frac{1}{2}"))
        XCTAssertEqual(box("\\boxed{\\{1, 2\\}}"), .found("\\{1, 2\\}"))
        XCTAssertEqual(box("\\boxed{ 42 }"), .found("42"))
        XCTAssertEqual(box("\\boxed {7}"), .found("7"))
    }

    func testTheLastBoxWinsAndBoxesAreNeverJoined() {
        XCTAssertEqual(box("\\boxed{1} then \\boxed{2}"), .found("2"))
        XCTAssertEqual(box("\\boxed{1} and \\fbox{3}"), .found("3"))
        XCTAssertEqual(box("\\fbox{3} and \\boxed{1}"), .found("1"))
        XCTAssertEqual(box("\\boxed{\\boxed{5}}"), .found("5"))
    }

    func testLongerMacroIsNotABox() {
        XCTAssertEqual(box("\\boxedfoo{5}"), .noBox)
        XCTAssertEqual(box("\\boxed{4} \\boxedfoo{5}"), .found("4"))
        XCTAssertEqual(box("\\fboxed{5}"), .noBox)
    }

    func testBoxWithoutBracesTakesTheRestOfTheLineUpToDollar() {
        XCTAssertEqual(box("\\boxed 5"), .found("5"))
        XCTAssertEqual(box("$\\boxed 5$ is it"), .found("5"))
    }

    func testUnbalancedOrEmptyBoxes() {
        XCTAssertEqual(box("\\boxed{5"), .malformed)
        XCTAssertEqual(box("\\boxed{1} then \\boxed{2"), .malformed)
        XCTAssertEqual(box("\\boxed{}"), .found(""))
        XCTAssertEqual(box("\\boxed"), .malformed)
        XCTAssertEqual(box("no box here"), .noBox)
    }

    func testFallbackFinalAnswerPhrase() {
        XCTAssertEqual(AnswerExtraction.answer(in: "Final Answer: The final answer is $28 \\%$. I hope it is correct.", mode: .boxedOrFallback), "28 \\%")
        XCTAssertEqual(AnswerExtraction.answer(in: "So the final answer is 18.", mode: .boxedOrFallback), "18")
        XCTAssertEqual(AnswerExtraction.answer(in: "the final answer is: 3.5 meters\nok", mode: .boxedOrFallback), "3.5 meters")
        XCTAssertNil(AnswerExtraction.answer(in: "So the final answer is 18.", mode: .boxed))
    }

    func testFallbackLastDollarSpanThenLastNumber() {
        XCTAssertEqual(AnswerExtraction.answer(in: "we get $x=2$ and then $\\frac{1}{2}$ wins", mode: .boxedOrFallback), "\\frac{1}{2}")
        XCTAssertEqual(AnswerExtraction.answer(in: "costs \\$5 and $$9$$", mode: .boxedOrFallback), "9")
        XCTAssertEqual(AnswerExtraction.answer(in: "Thus \\[ x = \\frac{10}{9} \\] done", mode: .boxedOrFallback), "x = \\frac{10}{9}")
        XCTAssertEqual(AnswerExtraction.answer(in: "first $1$ then \\( 2 \\) then", mode: .boxedOrFallback), "2")
        XCTAssertEqual(AnswerExtraction.answer(in: "\\( a \\) then $b$", mode: .boxedOrFallback), "b")
        XCTAssertEqual(AnswerExtraction.answer(in: "$x \\[ 3 $ 7", mode: .boxedOrFallback), "x \\[ 3")
        XCTAssertEqual(AnswerExtraction.answer(in: "there are 12 apples and 1,250 pears.", mode: .boxedOrFallback), "1,250")
        XCTAssertEqual(AnswerExtraction.answer(in: "it is -3.5.", mode: .boxedOrFallback), "-3.5")
        XCTAssertNil(AnswerExtraction.answer(in: "no numbers", mode: .boxedOrFallback))
    }

    func testBoxBeatsFallback() {
        XCTAssertEqual(AnswerExtraction.answer(in: "The final answer is 3. \\boxed{4}", mode: .boxedOrFallback), "4")
        // A malformed last box means no answer, also with the fallback.
        XCTAssertNil(AnswerExtraction.answer(in: "The final answer is 3. \\boxed{4", mode: .boxedOrFallback))
    }

    func testGoldForms() {
        XCTAssertEqual(AnswerExtraction.gold("\\frac{3}{4}"), "\\frac{3}{4}")
        XCTAssertEqual(AnswerExtraction.gold("Natalia sold 48/2 = 24 clips.\n#### 72"), "72")
        XCTAssertEqual(AnswerExtraction.gold("Thus the answer is $\\boxed{14{,}916}$."), "14{,}916")
        XCTAssertEqual(AnswerExtraction.gold(" $18$ "), "$18$")
    }

    func testAfterThinking() {
        XCTAssertEqual(AnswerExtraction.afterThinking("<think>a</think> b </think> c"), " c")
        XCTAssertNil(AnswerExtraction.afterThinking("<think>never closed"))
    }

    func testAccuracyRuleThinkOption() throws {
        let rule = try AccuracyRule(options: RuleOptions(rule: "accuracy", ["think": "true"]))
        let sample = Sample(answer: "5")
        XCTAssertEqual(try rule.score(Completion(text: "<think>\\boxed{5}</think> so \\boxed{5}"), for: sample).value, 1)
        XCTAssertEqual(try rule.score(Completion(text: "<think>\\boxed{5}</think> so 5"), for: sample).value, 0)
        let unclosed = try rule.score(Completion(text: "<think>\\boxed{5}"), for: sample)
        XCTAssertEqual(unclosed.value, 0)
        XCTAssertNil(unclosed.extracted)
    }

    func testAccuracyRuleAgainstGoldForms() throws {
        let rule = AccuracyRule()
        let completion = Completion(text: "... so the answer is \\boxed{72}.")
        for gold in ["72", "$72$", "#### 72", "She sold \\boxed{72} clips.", "72.0", "\\$72"] {
            XCTAssertEqual(try rule.score(completion, for: Sample(answer: gold)).value, 1, "gold \(gold)")
        }
        XCTAssertEqual(try rule.score(completion, for: Sample(answer: "71")).value, 0)
        XCTAssertEqual(try rule.score(completion, for: Sample(answer: "72")).extracted, "72")
    }

    func testAccuracyWithoutGoldThrowsANamedError() {
        XCTAssertThrowsError(try AccuracyRule().score(Completion(text: "\\boxed{1}"), for: Sample())) { error in
            XCTAssertEqual(error as? RewardError, .missingField(rule: "accuracy", field: "answer", expected: "the gold answer"))
        }
    }

    func testEmptyBoxIsExtractedButNotCorrect() throws {
        let outcome = try AccuracyRule().score(Completion(text: "\\boxed{}"), for: Sample(answer: "0"))
        XCTAssertEqual(outcome.extracted, "")
        XCTAssertEqual(outcome.value, 0)
    }
}

final class AnswerTagExtractionTests: XCTestCase {
    func testAnswerTagTakesTheLastAnswerBlockOrTheBoxInsideIt() {
        XCTAssertEqual(AnswerExtraction.answer(in: "<think>2+2 is 4</think> <answer> 4 </answer>", mode: .answerTag), "4")
        XCTAssertEqual(AnswerExtraction.answer(in: "<answer>3</answer> no, <answer>\\boxed{5}</answer>", mode: .answerTag), "5")
        XCTAssertNil(AnswerExtraction.answer(in: "the answer is \\boxed{4}", mode: .answerTag))
        XCTAssertNil(AnswerExtraction.answer(in: "<answer>  </answer>", mode: .answerTag))
    }

    func testAccuracyWithAnswerTagGradesTheR1ZeroFormat() throws {
        let rule = try AccuracyRule(options: RuleOptions(rule: "accuracy", ["extraction": "answer_tag"]))
        XCTAssertEqual(try rule.score(Completion(text: "<think> 12+30 </think> <answer>42</answer>"), for: Sample(answer: "42")).value, 1)
        XCTAssertEqual(try rule.score(Completion(text: "<think> 12+30 </think> <answer>41</answer>"), for: Sample(answer: "42")).value, 0)
        XCTAssertEqual(try rule.score(Completion(text: "42"), for: Sample(answer: "42")).value, 0)
    }
}

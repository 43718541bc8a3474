import Foundation
import RewardSystem
import XCTest
@testable import Experiments

final class TaskTemplateTests: XCTestCase {
    let problem = Problem(fields: ["question": "What is 2 + 3?", "expression": "2 + 3"], answer: "5")

    func testR1ZeroTemplateIsTheDeepSeekR1TableOneText() throws {
        let prompt = try PromptTemplate("r1zero").render(problem)
        XCTAssertEqual(prompt, "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: What is 2 + 3?. Assistant:")
    }

    func testCountdownTemplateIsTinyZeroBasePrompt() throws {
        let p = try TaskTesting.splits(#"{"name": "countdown", "train_size": 1, "eval_size": 0}"#).train[0]
        let prompt = try PromptTemplate("r1zero_countdown").render(p)
        XCTAssertEqual(prompt, """
            A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides the user with the answer.
            User: Using the numbers \(p.fields["numbers"]!), create an equation that equals \(p.fields["target"]!). You can use basic arithmetic operations (+, -, *, /) and each number can only be used once. Show your work in <think> </think> tags. And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>.
            Assistant: Let me solve this step by step.
            <think>
            """)
        XCTAssertEqual(try PromptTemplate("plain").render(p), p.question)
        XCTAssertEqual(PromptTemplate.builtInNames, ["r1zero", "r1zero_countdown", "plain"])
    }

    func testLiteralTemplatesFillFieldsAndKeepOtherBraces() throws {
        let t = try PromptTemplate("Q: {question}\nExpr {{literal}} {expression} {not a field} }\nA:")
        XCTAssertNil(t.name)
        XCTAssertEqual(t.fieldNames, ["question", "expression"])
        XCTAssertEqual(try t.render(problem), "Q: What is 2 + 3?\nExpr {literal} 2 + 3 {not a field} }\nA:")
    }

    func testMissingFieldNamesTheFieldAndTheTemplate() {
        TaskTesting.assertTaskError(["{target}", "\"Reach {target} with {question}\"", "expression, question"]) {
            _ = try PromptTemplate("Reach {target} with {question}").render(self.problem)
        }
        TaskTesting.assertTaskError(["'r1zero'", "{question}"]) {
            _ = try PromptTemplate("r1zero").render(Problem(fields: ["problem": "x"], answer: nil))
        }
    }

    func testTemplateWithoutPlaceholderOrWithUnclosedOneIsRejected() {
        TaskTesting.assertTaskError(["'r1-zero'".replacingOccurrences(of: "'", with: "\""), "neither a built-in"]) { _ = try PromptTemplate("r1-zero") }
        TaskTesting.assertTaskError(["{question that is not closed"]) { _ = try PromptTemplate("Answer {question") }
    }
}

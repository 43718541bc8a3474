import Foundation
import XCTest
@testable import RewardSystem

/// The format rules reproduce open-r1's and TRL's regular expressions without a regex engine. Here the
/// original patterns run through NSRegularExpression (ICU, same semantics as Python's `re` for these
/// patterns on ASCII text with `\n` line breaks) on random tag soup, and every result must agree.
final class FormatRegexCrossCheckTests: XCTestCase {
    static let pieces = ["<think>", "</think>", "<answer>", "</answer>", "\n", "\n", " ", "x", "42", "<think>\n",
                         "\n</think>\n", "\n<answer>\n", "\n</answer>", "\t", "a b", "<", ">", "/"]

    func regex(_ pattern: String, _ options: NSRegularExpression.Options) -> NSRegularExpression {
        try! NSRegularExpression(pattern: pattern, options: options)
    }

    /// `re.match`: a match that starts at the beginning of the text.
    func matchesAtStart(_ re: NSRegularExpression, _ text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        return re.firstMatch(in: text, options: [.anchored], range: range) != nil
    }

    func testFormatRulesAgreeWithTheOriginalRegexes() {
        let strict = regex("^<think>\\n.*?\\n</think>\\n<answer>\\n.*?\\n</answer>$", [.dotMatchesLineSeparators, .anchorsMatchLines])
        let lenient = regex("^\\s*<think>.*?</think>\\s*<answer>.*?</answer>\\s*$", [.dotMatchesLineSeparators])
        let think = regex("^<think>(?!.*<think>)(.*?)</think>.*$", [.dotMatchesLineSeparators, .anchorsMatchLines])
        var rng = FuzzTests.SplitMix64(state: 42)
        let templates = ["<think>\n{a}\n</think>\n<answer>\n{b}\n</answer>{c}", "<think>{a}</think>{c}<answer>{b}</answer>",
                         "{c}<think>\n{a}\n</think>\n<answer>\n{b}\n</answer>"]
        func soup(_ n: Int) -> String {
            (0..<Int.random(in: 0...n, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined()
        }
        var checked = 0
        for i in 0..<2_000 {
            let text: String
            if i % 2 == 0 {
                text = soup(12)
            } else {
                text = templates.randomElement(using: &rng)!
                    .replacingOccurrences(of: "{a}", with: soup(3)).replacingOccurrences(of: "{b}", with: soup(3))
                    .replacingOccurrences(of: "{c}", with: soup(3))
            }
            XCTAssertEqual(FormatRule.matchesStrict(text), matchesAtStart(strict, text), "strict: \(text.debugDescription)")
            XCTAssertEqual(FormatRule.matchesLenient(text), matchesAtStart(lenient, text), "lenient: \(text.debugDescription)")
            let thinkValue = (try? ThinkFormatRule().score(Completion(text: text), for: Sample()).value) ?? -1
            XCTAssertEqual(thinkValue, matchesAtStart(think, text) ? 1 : 0, "think_format: \(text.debugDescription)")
            checked += 1
        }
        XCTAssertEqual(checked, 2_000)
    }

    /// countdown's answer block is the last match of TinyZero's `<answer>(.*?)</answer>` (with newlines).
    func testCountdownAnswerBlockAgreesWithLazyRegexMatches() {
        let block = regex("<answer>(.*?)</answer>", [.dotMatchesLineSeparators])
        var rng = FuzzTests.SplitMix64(state: 7)
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...12, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined()
            let matches = block.matches(in: text, range: NSRange(text.startIndex..., in: text))
            let expected = matches.last.flatMap { Range($0.range(at: 1), in: text) }.map { String(text[$0]) }
            XCTAssertEqual(CountdownRule.lastAnswerBlock(text), expected, text.debugDescription)
        }
    }
}

import XCTest
@testable import RewardSystem

/// One table per convention of docs/rewards.md ("Math equivalence"). Cases come from the conventions
/// themselves and from the kinds of pairs the public graders test (MATH `is_equiv`, Math-Verify).
final class MathEquivalenceTests: XCTestCase {
    let checker = MathEquivalence()

    func assertTable(_ cases: [(String, String, Bool)], file: StaticString = #filePath, line: UInt = #line) {
        for (gold, answer, expected) in cases {
            XCTAssertEqual(checker.areEquivalent(gold, answer), expected,
                           "gold \(gold) vs answer \(answer): expected \(expected)", file: file, line: line)
            XCTAssertEqual(checker.areEquivalent(answer, gold), expected,
                           "symmetry: answer \(answer) vs gold \(gold): expected \(expected)", file: file, line: line)
        }
    }

    func testIntegersAndSigns() {
        assertTable([
            ("18", "18", true), ("18", "018", true), ("-5", "-5", true), ("5", "+5", true), ("-5", "5", false),
            ("18", "19", false), ("0", "-0", true), ("- 5", "-5", true), ("\u{2212}5", "-5", true),
            ("1000000000", "1000000001", false), ("123456789012345678901234567890", "123456789012345678901234567890", true),
            ("123456789012345678901234567890", "123456789012345678901234567891", false),
        ])
    }

    func testDecimals() {
        assertTable([
            ("0.5", ".5", true), ("0.4", ".4", true), ("1000", "1000.0", true), ("2.50", "2.5", true),
            ("1000000.5", "1000000.4", false), ("16386.17", "16386.169", false), ("3.14", "3.140", true),
            ("0.1", "0.10000001", false), ("5.", "5", true),
        ])
    }

    func testThousandsSeparators() {
        assertTable([
            ("7425000", "7,425,000", true), ("1000", "1\\,000", true), ("1000", "1{,}000", true), ("1000", "1 000", true),
            ("1000.0", "1,000.0", true), ("1000.99", "1,000.99", true), ("12000023", "12,\\!000,\\!023", true),
            ("14916", "14{,}916", true), ("7425000", "7,425,001", false), ("11111111100", "11,\\! 111,\\! 111,\\! 100", true),
            ("32349", "32,\\! 349", true), ("32349", "32, 349", false), ("1000000", "1 000 000", true), ("1000", "1 0000", false),
        ])
    }

    func testFractions() {
        assertTable([
            ("\\frac{3}{4}", "0.75", true), ("\\frac{3}{4}", "3/4", true), ("\\dfrac{3}{4}", "\\tfrac{3}{4}", true),
            ("\\frac{1}{3}", "\\frac13", true), ("1", "\\frac3{3}", true), ("10/9", "\\frac{10}{9}", true),
            ("-10/9", "-\\frac{10}{9}", true), ("\\frac{1}{3}", "\\cfrac{1}{3}", true), ("\\frac{2}{4}", "\\frac{1}{2}", true),
            ("\\frac{1}{3}", "0.333333", true), ("\\frac{1}{3}", "0.33", false), ("3378703", "\\frac{23650922}{7}", false),
            ("\\frac{2000000}{3}", "666666.7", true), ("\\frac{3}{4}", "\\frac{4}{3}", false),
            ("\\frac{-1}{2}", "-\\frac{1}{2}", true), ("\\frac{14}{3}", "4\\frac{2}{3}", true),
            ("\\frac{1}{2}", "\\frac{1}2", true), ("\\frac{1}{4}", "\\frac{\\frac12}{2}", true), ("\\frac{\\pi}{2}", "\\frac\\pi2", true),
            ("\\frac{1}{2}", "\\frac{1}{\\sqrt4}", true), ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}2", true),
        ])
    }

    func testMixedNumbers() {
        assertTable([
            ("2\\frac{1}{2}", "2.5", true), ("2\\frac{1}{2}", "\\frac{5}{2}", true), ("2\\frac{1}{2}", "1", false),
            ("-2\\frac{1}{2}", "-2.5", true), ("\\frac{40}{9}", "4 4/9", true), ("4", "4 4/9", false), ("-\\frac{40}{9}", "-4 4/9", true),
            ("\\frac{71}{6}", "11 5/6", true), ("4", "4 0/9", true), ("4", "4 4/0", false), ("\\frac{103}{9}", "11 + 4/9", true),
        ])
    }

    func testPercent() {
        assertTable([
            ("25\\%", "25", true), ("28\\%", "28 percent", true), ("28\\%", "28 %", true), ("28\\%", "28", true),
            ("28\\%", "$28$ \\%", true), ("28\\%", "29\\%", false),
        ])
    }

    func testScientificNotation() {
        assertTable([
            ("1500", "1.5\\times10^{3}", true), ("1500", "1.5e3", true), ("1500", "1.5 \\cdot 10^3", true),
            ("0.0002", "2\\times10^{-4}", true), ("1500", "1.5\\times10^{4}", false), ("2E-4", "0.0002", true),
        ])
    }

    func testRoots() {
        assertTable([
            ("2\\sqrt{3}", "\\sqrt{12}", true), ("\\sqrt{3}", "\\sqrt3", true), ("3\\sqrt{13}", "\\sqrt{117}", true),
            ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", true), ("\\sqrt[3]{8}", "2", true), ("\\sqrt{2}", "1.414", false),
            ("\\sqrt{2}", "1.41421356", true), ("2\\sqrt{3}", "3\\sqrt{2}", false), ("\\frac{5\\sqrt{42}}{27}", "\\frac{5}{27}\\sqrt{42}", true),
        ])
    }

    func testPi() {
        assertTable([
            ("2\\pi", "2 \\pi", true), ("\\frac{\\pi}{2}", "\\pi/2", true), ("2\\pi", "6.283185", true), ("\\pi", "3.14", false),
            ("3\\pi", "\\pi 3", true), ("\\frac{3\\pi}{4}", "\\frac{3}{4}\\pi", true),
        ])
    }

    func testDegrees() {
        assertTable([
            ("90^\\circ", "90", true), ("90^{\\circ}", "90", true), ("90\\degree", "90", true), ("90°", "90", true),
            ("45^\\circ", "90^\\circ", false), ("30", "30^\\circ", true), ("90", "90^ \\circ", true), ("90", "90^{ \\circ }", true),
            ("90", "90 ^\\circ", true), ("90", "90\\circ", true), ("(90, 45)", "(90^\\circ, 45^\\circ)", true),
        ])
    }

    func testTextAndUnits() {
        assertTable([
            ("5", "5\\text{ cm}", true), ("5", "5 \\text{cm}^2", true), ("\\frac{1}{3}", "\\frac{1}{3} \\text{meters}", true),
            ("\\frac{1}{3}", "\\frac{1}{3} \\textbf{meters}", true), ("10", "10\\mbox{ apples}", true),
            ("\\text{Evelyn}", "Evelyn", true), ("\\text{Evelyn}", "\\text{evelyn}", true), ("\\text{Evelyn}", "Briana", false),
            ("5", "5 apples", true), ("10", "10 meters", true), ("5", "\\text{The answer is } 5", true),
        ])
    }

    func testDollars() {
        assertTable([
            ("1000.99", "\\$1,000.99", true), ("1000.99", "1,000.99\\$", true), ("16386.17", "\\$16386.17", true),
            ("5", "\\$5", true), ("5", "5 dollars", true), ("18", "$18$", true),
        ])
    }

    func testLeftRight() {
        assertTable([
            ("(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", true),
            ("\\frac{1}{3}", "\\left( \\frac{1}{3} \\right)", true),
            ("\\left(\\frac{1}{5},\\frac{1}{6}\\right)", "\\left( \\frac{1}{5}, \\frac{1}{6} \\right)", true),
        ])
    }

    func testTuplesAreOrdered() {
        assertTable([
            ("(1,2)", "(1, 2)", true), ("(1,2)", "(2,1)", false), ("(1,2,3)", "(1,2,3)", true), ("(1,2,3)", "(1,2)", false),
            ("(0.5, 2)", "(\\frac{1}{2}, 2)", true), ("(4, -3)", "(4,-3)", true), ("\\left(\\frac{4}{5},\\frac{1}{5}\\right)", "(0.8, 0.2)", true),
        ])
    }

    func testSetsAreUnordered() {
        assertTable([
            ("\\{1,2\\}", "\\{2,1\\}", true), ("\\{1,2\\}", "\\{1,3\\}", false), ("\\{1,2\\}", "1, 2", true),
            ("1, 2", "2, 1", true), ("-2, 3", "3, -2", true), ("\\{1,2\\}", "\\{1,2,3\\}", false),
            ("\\emptyset", "\\varnothing", true), ("\\{\\frac{1}{2}, 3\\}", "\\{3, 0.5\\}", true),
            ("\\{1,2\\}", "{2, 1}", true), ("\\left\\{1,2\\right\\}", "\\{1, 2\\}", true),
            ("\\pm 2021", "2021", false), ("\\pm 2021", "{-2021, 2021}", true), ("1 \\pm \\sqrt{2}", "1+\\sqrt{2}, 1-\\sqrt{2}", true),
            ("n=1, 2, 3", "n=1, 2, 3", true), ("n=2, 3, 4", "n=1, 2, 3", false), ("19, 46, and 82", "19, 46, \\text{ and } 82", true),
            ("19, 46, and 82", "21, 36, and 82", false), ("12:00", "1:00", false), ("12:00", "12:00", true),
            ("1 - \\frac{1}{\\mathrm{e}}", "1 - \\frac{1}{e}", true), ("1 - \\frac{1}{\\mathrm{e}}", "1 + \\frac{1}{\\mathrm{e}}", false),
        ])
    }

    func testIntervals() {
        assertTable([
            ("[0,1)", "[0,1)", true), ("[0,9)", "[0,1)", false), ("(0,9)", "[0,9)", false), ("[0,1]", "[0,1)", false),
            ("(-\\infty, 3]", "(-\\infty,3]", true), ("(-\\infty, 3]", "(-\\infty, 3)", false),
            ("(-\\infty, -2) \\cup (-1, \\infty)", "(-1, \\infty) \\cup (-\\infty, -2)", true),
            ("(-\\infty, -2) \\cup (-1, \\infty)", "(-\\infty, -2) \\cup [-1, \\infty)", false),
            ("[-2, 7]", "x \\in [-2,7]", true), ("[-2, 7]", "x \\in [-2,8]", false), ("(-\\infty, \\infty)", "\\mathbb{R}", true),
            ("(-\\infty,\\infty)", "\\text{all real numbers}", true), ("(0, \\infty)", "\\mathbb{R}", false), ("[2, \\infty)", "[2,∞)", true), ("(1, 2)", "(1, 2)", true),
        ])
    }

    func testInequalitiesAreIntervals() {
        assertTable([
            ("(-\\infty, 3)", "x < 3", true), ("(-\\infty, 3]", "x \\le 3", true), ("(-\\infty, 3]", "x \\leq 3", true),
            ("[3, \\infty)", "x \\geq 3", true), ("(3, \\infty)", "x > 3", true), ("(3, \\infty)", "3 < x", true),
            ("(-\\infty, 3)", "3 > x", true), ("(-1, 2]", "-1 < x \\le 2", true), ("(-1, 2]", "2 \\ge x > -1", true),
            ("(-\\infty, 3)", "x \\le 3", false), ("(3, \\infty)", "x < 3", false), ("[-2, 7]", "-2 \\le x \\le 7", true),
            ("(-\\infty, -2) \\cup (3, \\infty)", "x < -2 \\cup x > 3", true), ("x < 3", "x<3", true), ("x < 3", "y < 3", true),
            ("(-\\infty, \\frac{1}{2})", "x < 0.5", true), ("x \\ge 3", "x \\le 3", false),
        ])
    }

    func testEquationsCompareTheirRightSide() {
        assertTable([
            ("5", "x = 5", true), ("x=5", "5", true), ("\\frac{1}{3}", "k = \\frac{1}{3}", true), ("5", "x = 6", false),
            ("y = 2x + 3", "2x+3", true), ("3", "a = b = 3", true), ("6", "k = 3 \\cdot 2 = 6", true),
            ("x-2y+z-1=0", "x-2y+z-1=0", true), ("x-2y+z-1=0", "x+y=0", false), ("1", "x-2y+z-1=0", false),
            // A chain of equalities against a value: the last right side counts.
            ("\\frac{10}{9}", "\\frac{1}{2} \\cdot \\frac{20}{9} = \\frac{10}{9}", true), ("5", "2 + 3 = 5", true), ("6", "2 + 3 = 5", false),
            ("(\\frac{1}{5}, \\frac{1}{6})", "(p,q) = \\left(\\frac{1}{5}, \\frac{1}{6}\\right)", true), ("x^2", "f(x) = x^2", true),
            ("5", "x_1 = 5", true), ("\\frac{\\pi}{3}", "\\theta = \\frac{\\pi}{3}", true),
        ])
    }

    func testBaseSubscriptsAreTextNotNumbers() {
        assertTable([("1112112_3", "1112122_3", false), ("1112112_3", "1112112_3", true), ("\\text{E}", "E", true)])
    }

    func testMultipleChoiceLetters() {
        assertTable([
            ("C", "(C)", true), ("(C)", "\\text{(C)}", true), ("C", "\\textbf{(C)}", true), ("C", "c", true),
            ("(B)", "(C)", false), ("\\text{(A)}", "A", true), ("D", "D)", true),
        ])
    }

    func testExpressionsWithVariables() {
        assertTable([
            ("x^2 + 2x + 1", "(x+1)^2", true), ("2-2p", "2 - 2p", true), ("2-2p", "-2p+2", true), ("2-2p", "2-p", false),
            ("x+1", "y+1", false), ("\\frac{x}{2}", "0.5x", true), ("a b", "ba", true), ("x_1 + x_2", "x_2 + x_1", true),
            ("\\sin^2 x + \\cos^2 x", "1", true), ("e^{2}", "e^2", true), ("2^{10}", "1024", true),
            ("\\pi r^2", "r^2 \\pi", true), ("\\pi r^2", "\\pi r", false), ("\\ln e", "1", true), ("\\log_2 8", "3", true),
            ("\\log_{10} 1000", "3", true), ("6", "3!", true), ("|x|", "|x|", true), ("\\sqrt{x}", "x^{1/2}", true),
        ])
    }

    func testPlainText() {
        assertTable([
            ("\\text{yes}", "Yes", true), ("no", "yes", false), ("\\text{Monday}", "monday", true),
            ("\\text{east}", "\\text{ East }", true), ("x \\geq 3", "x\\ge3", true), ("x \\geq 3", "x \\le 3", false),
        ])
    }

    func testMatrices() {
        assertTable([
            ("\\begin{pmatrix} 0 & 3 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix}0&3\\\\0&-1\\end{pmatrix}", true),
            ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}", false),
            ("\\begin{pmatrix} \\frac{1}{2} \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}", true),
        ])
    }

    func testMathDelimitersAndBoxesInsideTheAnswer() {
        assertTable([
            ("$\\frac{1}{3}$", "\\frac{1}{3}", true), ("$$9$$", "9", true), ("\\(9\\)", "9", true), ("\\[9\\]", "9", true),
            ("$\\boxed{\\frac{1}{3}}$", "1/3", true),
        ])
    }

    func testToleranceIsConfigurable() {
        let loose = MathEquivalence(relativeTolerance: 1e-2)
        XCTAssertTrue(loose.areEquivalent("\\pi", "3.14"))
        XCTAssertFalse(checker.areEquivalent("\\pi", "3.14"))
        XCTAssertTrue(loose.areEquivalent("\\sqrt{2}", "1.414"))
    }

    func testEmptyAndGarbageAreNeverEquivalentToAnAnswer() {
        assertTable([
            ("", "5", false), ("5", "", false), ("2", "AZYUK2A", false), ("5", "\\frac{", false), ("5", "}}}", false),
            ("(", ")", false),
        ])
    }

    func testNormalizationExamplesFromTheDocs() {
        XCTAssertEqual(MathNormalizer.normalize("$\\dfrac{1}{2}\\text{ cm}$"), "\\frac{1}{2}")
        XCTAssertEqual(MathNormalizer.normalize("\\left( 1, 2 \\right)"), "(1,2)")
        XCTAssertEqual(MathNormalizer.normalize("7,425,000"), "7425000")
        XCTAssertEqual(MathNormalizer.normalize("x = 5."), "5")
        XCTAssertEqual(MathNormalizer.normalize("90^\\circ"), "90")
    }
}

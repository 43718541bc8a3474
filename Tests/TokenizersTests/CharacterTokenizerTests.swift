import XCTest
@testable import Tokenizers

final class CharacterTokenizerTests: XCTestCase {
    func testAlphabetIdsFollowSpecialTokensAndRoundTrip() {
        let tokenizer = CharacterTokenizer(alphabet: "0123456789+= ")
        XCTAssertEqual(tokenizer.vocabularySize, 4 + 13)
        XCTAssertEqual(tokenizer.encode("12+3"), [5, 6, 14, 7])
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("12+30=42")), "12+30=42")
        XCTAssertEqual(tokenizer.specialTokens.bos?.id, 1)
        XCTAssertEqual(tokenizer.specialTokens.eos?.id, 2)
        XCTAssertEqual(tokenizer.specialTokens.pad?.id, 0)
    }

    func testSpecialTokensInTextAndBOSOnRequest() {
        let tokenizer = CharacterTokenizer(alphabet: "ab")
        XCTAssertEqual(tokenizer.encode("a<eos>b", addSpecialTokens: true), [1, 4, 2, 5])
        XCTAssertEqual(tokenizer.decode([1, 4, 2, 5]), "<bos>a<eos>b")
        XCTAssertEqual(tokenizer.decode([1, 4, 2, 5], skipSpecialTokens: true), "ab")
    }

    func testUnknownCharactersBecomeUnk() {
        let tokenizer = CharacterTokenizer(alphabet: "ab")
        XCTAssertEqual(tokenizer.encode("abc"), [4, 5, 3])
        XCTAssertEqual(tokenizer.id(forToken: "b"), 5)
        XCTAssertEqual(tokenizer.token(forID: 5), "b")
        XCTAssertNil(tokenizer.token(forID: 99))
    }

    func testByteModeRepresentsEveryTextAndThroughTheProtocol() {
        let tokenizer: any Tokenizer = CharacterTokenizer.bytes()
        let text = "héllo 😀 中文\n"
        XCTAssertEqual(tokenizer.encode(text).count, text.utf8.count)
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
        XCTAssertEqual(tokenizer.vocabularySize, 260)
        XCTAssertEqual(tokenizer.decode([4 + 0xF0, 4 + 0x9F]), "\u{FFFD}")
    }
}

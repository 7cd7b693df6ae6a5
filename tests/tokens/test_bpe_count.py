"""The piece cache (corpuskit.tokens.bpe_count) against tiktoken itself: token counts per document and
the token-id histogram must be tiktoken's exactly, for both encodings."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.core.records import fix_surrogates
from corpuskit.tokens import bpe_count as B
from corpuskit.tokens import tokenizers as T

EN = ("The quick brown fox jumps over the lazy dog. It's 2024, and they'll say we've won't "
      "re-run it; I'M SURE HE'D, you're 100% right: 3.14159 / 1,234,567 items!!! ")
ZH = "自然语言处理是人工智能的一个重要方向。我们在2024年发布了新版本，支持中文和English混合文本！"
TEXTS = [
    EN, ZH, EN + ZH, "", " ", "\n", "a", "'s", "'S", "'ſ", "x'ſ", "DON'T", "Don'T", "o'LL",
    "😀", "😀😀😀 👍🏽 👨‍👩‍👧‍👦 🇨🇳", "emoji😀text", "  leading", "trailing   ", "\t\tindented\n",
    "a  b   c    d", "line\r\n\r\nnext\n\n\n  \n x", "   \n\t \r\n  ", "x\u3000\u3000中文\u00a0nbsp",
    "<|endoftext|> special tokens are ordinary text <|fim_prefix|>",
    "1234567890 12 3 4567 ٣٤٥ ①②③ ⅷ", "path/to/file.txt\n/usr/bin//\n", "!!!???...\n\n",
    "Ünïcödé Çàfé naïve résumé ΑΒΓ αβγ Привет мир", "שָׁלוֹם עוֹלָם مرحبا بالعالم", "नमस्ते दुनिया",
    "e\u0301 combining a\u0308\u0304 marks \u0301\u0302 alone", "ǅungla ǈubav ǋ title-case",
    "カタカナとひらがな、漢字。한국어 텍스트", "x" * 300, "ab" * 200 + " " + "!" * 100,
    "MixedCASEWords inCamelCase HTTPServer XMLHttpRequest iPhone",
    "tab\tsep\tvalues\x0bvt\x0cff\x85nel\u2028ls\u2029ps", "\x1c\x1d\x1e\x1f info separators",
]


@pytest.fixture(params=["cl100k_base", "o200k_base"])
def name(request):
    return request.param


def reference(name: str, texts: list[str]) -> tuple[list[int], np.ndarray]:
    enc = T.tiktoken_encoding(name)
    ids = [enc.encode_ordinary(fix_surrogates(t)) for t in texts]
    flat = np.array([i for s in ids for i in s], dtype=np.int64)
    return [len(s) for s in ids], np.bincount(flat, minlength=enc.n_vocab)


def check(name: str, texts: list[str], cache: B.PieceCache | None = None) -> None:
    cache = cache or B.PieceCache(T.tiktoken_encoding(name), name)
    ntok, hist = cache.count(texts)
    ref_n, ref_hist = reference(name, texts)
    assert ntok.tolist() == ref_n
    assert np.array_equal(hist, ref_hist)


@pytest.mark.parametrize("route", [True, False])
def test_fixed_texts(name, route):
    # route: documents mostly in scripts without spaces go straight to tiktoken (ZH here);
    # without it every document goes through the cache
    cache = B.PieceCache(T.tiktoken_encoding(name), name, route=route)
    check(name, TEXTS, cache)
    check(name, [t for t in TEXTS for _ in range(3)], cache)  # again, now from the cache
    assert (cache.direct_docs > 0) == route


def test_routing_by_script():
    cache = B.PieceCache(T.tiktoken_encoding("cl100k_base"), "cl100k_base")
    texts = [ZH, EN, EN + ZH * 3, "ภาษาไทยไม่มีช่องว่าง", "カタカナ", "English with one 字", "", "😀"]
    skip = np.zeros(len(texts), np.uint8)
    _, cps, bounds = B.codepoints(texts)
    B._route(cps, bounds, B.nospace_table(), B.NOSPACE_SHARE, skip)
    assert skip.tolist() == [1, 0, 1, 1, 1, 0, 0, 0]
    check("cl100k_base", texts, cache)
    assert cache.direct_docs == 4


def test_direct_route_falls_back_to_the_cache_on_a_huge_white_space_run():
    # tiktoken's o200k_base regex panics on a million spaces; the document goes to the cache
    enc = T.tiktoken_encoding("o200k_base")
    cache = B.PieceCache(enc, "o200k_base")
    text = "中文" * 300_000 + " " * 1_000_000 + "字"
    ntok, hist = cache.count([text, "ok"])
    assert cache.direct_docs == 0 and ntok[1] == 1 and hist.sum() == ntok.sum()
    assert ntok[0] == len(enc.encode_ordinary("中文" * 300_000)) + len(
        enc._encode_single_piece(" " * 999_999)) + len(enc.encode_ordinary(" 字"))


def test_each_text_alone_and_warm_cache_gives_the_same(name):
    cache = B.PieceCache(T.tiktoken_encoding(name), name)
    for t in TEXTS:
        check(name, [t], cache)
    assert cache.entries > 0


def test_split_is_tiktokens_regex(name):
    # the pieces themselves, against the `regex` module running tiktoken's pattern (the same
    # Unicode classes on these texts)
    regex = pytest.importorskip("regex")
    pat = regex.compile(T.TIKTOKEN_SPECS[name]["pat_str"])
    cache = B.PieceCache(T.tiktoken_encoding(name), name)
    for t in TEXTS:
        assert cache.split(t) == pat.findall(t), t


def test_surrogates(name):
    texts = ["a\ud800b \udfff", "\ud83d\ude00", "ok", "x\udc80\udc80y", "\ud800"]
    check(name, texts)
    ntok, _ = B.PieceCache(T.tiktoken_encoding(name), name).count(texts)
    enc = T.tiktoken_encoding(name)
    assert ntok[1] == len(enc.encode_ordinary("😀"))
    assert ntok[0] == len(enc.encode_ordinary("a\ufffdb \ufffd"))


def test_white_space_runs(name):
    texts = [" " * n + "x" for n in range(0, 40)] + ["x" + " " * n for n in range(0, 40)]
    texts += ["\n" * n + " " * n + "\t" for n in range(1, 20)] + [" \n " * 30 + "y"]
    texts += ["a" + " " * 5000 + "b", "\r\n" * 3000, "word " + "\u3000" * 100 + "字"]
    check(name, texts)


def test_long_pieces_are_not_cached_and_still_exact(name):
    long_word = "pneumonoultramicroscopicsilicovolcanoconiosis" * 20  # > MAX_PIECE
    cache = B.PieceCache(T.tiktoken_encoding(name), name)
    check(name, [long_word, long_word + " end", "!" * 500], cache)
    assert cache.entries <= 3  # only the short pieces (" end") went in


def test_bounded_cache_clears_and_stays_exact(name):
    texts = [EN * 3, ZH * 3, *TEXTS] * 4
    cache = B.PieceCache(T.tiktoken_encoding(name), name, table_slots=64, max_entries=20,
                         max_codepoints=200, max_ids=200)
    check(name, texts, cache)
    assert cache.clears > 0
    assert cache.entries <= 20 and cache.state[1] <= 200 and cache.state[2] <= 200
    assert cache.keys.size == 64 and cache.cp_pool.size == 200 and cache.id_pool.size == 200


def test_bad_bounds_are_refused():
    enc = T.tiktoken_encoding("cl100k_base")
    with pytest.raises(ValueError):
        B.PieceCache(enc, "cl100k_base", table_slots=100)
    with pytest.raises(ValueError):
        B.PieceCache(enc, "cl100k_base", max_codepoints=B.MAX_PIECE - 1)
    with pytest.raises(ValueError):
        B.PieceCache(enc, "cl100k_base", max_ids=B.MAX_PIECE)
    with pytest.raises(ValueError):
        B.PieceCache(enc, "gpt2")


def _bpe(name: str, piece: bytes) -> list[int]:
    ranks = B.rank_tables(T.tiktoken_encoding(name))
    n = len(piece)
    buf = np.frombuffer(piece, np.uint8)
    out = np.empty(max(n, 1), np.int64)
    k = B._bpe(buf, n, *ranks, np.empty(n + 1, np.int64), np.empty(n + 1, np.int64),
               np.empty(n + 1, np.int64), out)
    return out[:k].tolist()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(min_size=1, max_size=30).map(lambda t: t.encode("utf-8", "replace")),
                 st.binary(min_size=1, max_size=30)),
       st.sampled_from(["cl100k_base", "o200k_base"]))
def test_compiled_bpe_is_tiktokens(piece, enc_name):
    # the compiled merge loop against tiktoken's own, ids in order, on any bytes
    assert _bpe(enc_name, piece) == T.tiktoken_encoding(enc_name)._encode_single_piece(piece)


def test_compiled_bpe_on_real_pieces(name):
    enc = T.tiktoken_encoding(name)
    for piece in [" the", " pneumonoultramicroscopic", "自然语言处理", " 😀👍🏽", "\n\n\n", "   ",
                  "'ll", " 1234", "ǅungla", "!!!???", "\u0301\u0302\u0303"]:
        b = piece.encode()
        assert _bpe(name, b) == enc._encode_single_piece(b), piece


# text from the characters the two patterns tell apart, and any others
_TRICKY = list("aAzZ ſ'sStTdDmMlLvVeErR0123456789 \t\n\r\x0b\x0c/!?.,-_()[]{}\"#") + [
    "\u00a0", "\u3000", "\u2028", "\u0085", "\u1680", "é", "É", "ǅ", "ʰ", "ª", "\u0301", "\u0903",
    "中", "文", "。", "，", "😀", "👍", "\u200d", "\ufe0f", "٣", "Ⅷ", "①", "ß", "İ", "ﬁ", "\x1c",
    "\u0558", "\u0cf3", "\U0001e030",  # assigned in newer Unicode than tiktoken's regex knows
]
_text = st.lists(st.one_of(st.sampled_from(_TRICKY), st.characters(), st.text(max_size=3)),
                 max_size=60).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_text, min_size=1, max_size=6), st.sampled_from(["cl100k_base", "o200k_base"]))
def test_hypothesis_texts(texts, enc_name):
    check(enc_name, texts, _shared_cache(enc_name))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=()), max_size=40),
                min_size=1, max_size=5), st.sampled_from(["cl100k_base", "o200k_base"]))
def test_hypothesis_with_surrogates(texts, enc_name):
    check(enc_name, texts, _shared_cache(enc_name))


_CACHES: dict[str, B.PieceCache] = {}


def _shared_cache(name: str) -> B.PieceCache:
    # one cache across examples, so that cached pieces are exercised too; small bounds so
    # that it also clears now and then
    if name not in _CACHES:
        _CACHES[name] = B.PieceCache(T.tiktoken_encoding(name), name, table_slots=1 << 12,
                                     max_entries=2000, max_codepoints=20_000, max_ids=10_000)
    return _CACHES[name]


@pytest.mark.parametrize("template", [*B.PROBES, " {}a"])
def test_every_code_point_against_tiktoken(name, template):
    # each code point in a context that makes its class show in the token count: the shipped
    # class table must be the installed tiktoken's on every one of them
    assert B.probe_mismatches(B.class_table(), template, name) == set()


def test_class_table_basics():
    t = B.class_table()
    assert t[ord("a")] == B.F_L | B.F_W and t[ord("A")] == B.F_L | B.F_U
    assert t[ord("中")] == B.F_L | B.F_U | B.F_W  # Lo is in both o200k letter classes
    assert t[ord("5")] == B.F_N and t[ord("\n")] == B.F_S | B.F_CRLF
    assert t[ord(" ")] == B.F_S and t[0x3000] == B.F_S and t[0x1C] == 0  # not White_Space
    assert t[0x301] == B.F_U | B.F_W  # a combining mark: in both, not a letter
    assert t[0x0CF3] != 0 and t[0x0558] == 0  # Unicode 15 is known to tiktoken 0.14, 17 is not


# ------------------------------------------------------------------ through the tokenizer
def test_count_docs_matches_encode_docs(name):
    tok = T.get_tokenizer(name, threads=1)
    doc = (EN + ZH + "\n") * 4000  # > WS_RUN characters: cut into parts, still exact
    texts = [*TEXTS, doc, "a\ud800b"]
    ntok, hist, approx = tok.count_docs(texts)
    seqs, approx2 = tok.encode_docs(texts)
    assert approx == approx2 == []
    assert ntok.tolist() == [len(s) for s in seqs]
    assert np.array_equal(hist, np.bincount(np.concatenate(seqs).astype(np.int64),
                                            minlength=tok.n_vocab))


def test_count_docs_huge_white_space_run_is_approximate(name):
    tok = T.get_tokenizer(name, threads=1)
    ntok, hist, approx = tok.count_docs(["fine", "start" + " " * 1_000_000 + "end"])
    assert approx == [1]
    assert 0 < ntok[1] < 20_000 and ntok[0] == 1 and hist.sum() == ntok.sum()

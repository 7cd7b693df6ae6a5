"""corpuskit.stages.dedup.minhash: signatures are datasketch's, tokens are shingle_tokens'."""
from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.text import WORD_RE, ngrams, shingle_tokens
from corpuskit.stages.dedup import minhash as M

TEXTS = [
    "The quick brown fox jumps over the lazy dog. It's 2024; e-mail costs 3.14 dollars!",
    "数据去重是构建大规模语料库的重要步骤，近似重复的网页会降低模型质量。我们使用MinHash。",
    "混合文本 mixed text：中文和English一起出现，还有数字１２３和全角ＡＢＣ。",
    "Ｆｕｌｌ-width ＡＳＣＩＩ and ligatures ﬁne, Straße, İstanbul, ΟΔΥΣΣΕΥΣ.",
    "日本語のテキストも、ひらがなとカタカナで書かれています。",
    "한국어는 띄어쓰기를 합니다 그래서 단어 단위로 셉니다",
    "a b c",
    "word",
    "",
    "!!! ... ???",
    "don't stop -- well-known 'quoted' x.y.z a..b end.",
    "astral 𠀀𠀁𠀂𠀃𠀄 chars 😀 emoji and a lone \ud800 surrogate \udfff here, é and e\u0301",
    "NUL\x00inside and trailing\x00",
]


def datasketch_sig(text: str, n: int = 5, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=M.shingle_hash)
    for g in ngrams(shingle_tokens(text), n):
        m.update(g)
    return m.hashvalues


@pytest.mark.parametrize("num_perm,seed", [(128, 1), (256, 42), (7, 3)])
def test_permutations_are_datasketchs(num_perm, seed):
    a, b = M.permutations(num_perm, seed)
    ref = MinHash(num_perm=num_perm, seed=seed).permutations
    assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


def test_signatures_equal_datasketch_on_each_text():
    sigs, ntok = M.MinHasher().signatures(TEXTS)
    for text, sig, k in zip(TEXTS, sigs, ntok):
        assert np.array_equal(sig, datasketch_sig(text)), text
        assert k == len(shingle_tokens(text))


@pytest.mark.parametrize("n,num_perm,seed", [(1, 64, 7), (3, 256, 2), (9, 16, 1)])
def test_signatures_equal_datasketch_other_options(n, num_perm, seed):
    sigs, _ = M.MinHasher(num_perm, seed, n).signatures(TEXTS)
    for text, sig in zip(TEXTS, sigs):
        assert np.array_equal(sig, datasketch_sig(text, n, num_perm, seed)), text


def test_empty_document_has_datasketchs_empty_signature():
    sigs, ntok = M.MinHasher().signatures(["", "  \n", "。，！"])
    assert ntok.tolist() == [0, 0, 0]
    assert (sigs == MinHash().hashvalues).all()


def test_kernel_tokens_are_shingle_tokens():
    h = M.MinHasher()
    for text in TEXTS:
        assert h.token_hashes(text).tolist() == [M.token_hash(t) for t in shingle_tokens(text)]


_ALPHABET = list("ab1２ .-'’_中文字日かカ한x\u00e9\u0301Σσ ,。\nﬁİ㎡½ᄀ\u1161\u11a8ㄱＡ－．\u3000\x1c")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=60) | st.text(max_size=40))
def test_kernel_tokens_and_key_match_on_random_text(text):
    h = M.MinHasher()
    assert h.token_hashes(text).tolist() == [M.token_hash(t) for t in shingle_tokens(text)]
    assert h.exact_key(text) == M.exact_key_reference(text)


def test_fold_table_is_nfkc_lower_for_every_easy_code_point():
    import unicodedata

    _, fold = M.tables()
    easy = np.flatnonzero(fold != 0xFFFFFFFF)
    for cp in easy.tolist():
        if 0xD800 <= cp <= 0xDFFF:
            continue
        assert unicodedata.normalize("NFKC", chr(cp)).lower() == chr(int(fold[cp])), hex(cp)
    assert fold[ord("Ａ")] == ord("a") and fold[ord("，")] == ord(",")
    assert fold[0x0301] == 0xFFFFFFFF and fold[ord("Σ")] == 0xFFFFFFFF and fold[ord("ﬁ")] == 0xFFFFFFFF


def test_exact_key_normalises_case_width_and_white_space():
    h = M.MinHasher()
    assert h.exact_key("Hello  World\n") == h.exact_key("hello world") == h.exact_key("ＨＥＬＬＯ　world")
    assert h.exact_key("hello world") != h.exact_key("hello, world")
    assert h.exact_key("") == h.exact_key(" \n ") == M.exact_key_reference("")
    for t in TEXTS:
        assert h.exact_key(t) == M.exact_key_reference(t)


def test_long_document_exact_key():
    text = "Some words here. " * 5000 + "中文" * 3000
    assert M.MinHasher(window=1000).exact_key(text) == M.exact_key_reference(text)


def test_char_classes_agree_with_word_re_for_every_code_point():
    cls = M.char_classes()
    chars = [chr(c) for c in range(0x110000)]
    # each character alone between spaces: a token by itself iff WORD_RE matches it
    found = set(WORD_RE.findall(" ".join(chars)))
    is_token = np.array([c in found for c in chars])
    assert np.array_equal(is_token, np.isin(cls, [1, 2, 3]))
    assert cls[ord("0")] == 2 and cls[ord("٣")] == 2 and cls[ord("中")] == 3 and cls[ord("_")] == 0


def test_long_document_windows_give_the_same_signature():
    text = ("这是一段很长的中文文本，没有空格。" * 300) + " ".join(f"word{i % 97} next" for i in range(3000))
    whole, n1 = M.MinHasher().signatures([text])
    windowed, n2 = M.MinHasher(window=500).signatures([text])
    assert n1[0] == n2[0] and np.array_equal(whole, windowed)
    assert np.array_equal(whole[0], datasketch_sig(text))


def test_long_document_shorter_than_n_tokens():
    text = "alpha" + " " * 3000 + "beta"
    a, _ = M.MinHasher(window=1000).signatures([text])
    assert np.array_equal(a[0], datasketch_sig(text))


def test_estimate_jaccard_is_datasketchs():
    t1, t2 = TEXTS[0], TEXTS[0] + " And then some more words were added at the end."
    sigs, _ = M.MinHasher().signatures([t1, t2])
    m1 = MinHash(hashfunc=M.shingle_hash, hashvalues=sigs[0], scheme="affine32")
    m2 = MinHash(hashfunc=M.shingle_hash, hashvalues=sigs[1], scheme="affine32")
    assert M.estimate_jaccard(sigs[:1], sigs[1:])[0] == pytest.approx(m1.jaccard(m2))


def test_shingle_set_and_exact_jaccard():
    h = M.MinHasher(ngram=3)
    a = "one two three four five six seven"
    b = "one two three four five six eight"
    sa, sb = h.shingle_set(a), h.shingle_set(b)
    ref_a = {M.shingle_hash64(g) for g in ngrams(shingle_tokens(a), 3)}
    assert sorted(ref_a) == sa.tolist()
    assert M.jaccard_exact(sa, sb) == pytest.approx(4 / 6)
    assert M.jaccard_exact(h.shingle_set(""), h.shingle_set("")) == 0.0


def test_band_keys_equal_iff_band_equal():
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(4, 12), dtype=np.uint32)
    sigs[1, :4] = sigs[0, :4]  # same first band
    keys = M.band_keys(sigs, 3, 4)
    assert keys[0, 0] == keys[1, 0] and keys[0, 1] != keys[1, 1]
    assert len(set(keys[:, 0].tolist())) == 3


def test_lsh_parameters():
    assert M.optimal_bands(0.8, 128) == (MinHashLSH(threshold=0.8, num_perm=128).b,
                                         MinHashLSH(threshold=0.8, num_perm=128).r)
    assert M.catch_probability(0.8, 21, 6) == pytest.approx(1 - (1 - 0.8 ** 6) ** 21)


def test_char_tables_cache_is_checked_and_rebuilt(tmp_path, monkeypatch):
    """The tables live under $CORPUSKIT_CACHE with a checksum: zeroed or cut, they are rebuilt
    (zeroed tables made dedup find none of 13 duplicates)."""
    monkeypatch.setenv("CORPUSKIT_CACHE", str(tmp_path))
    M.tables.cache_clear()
    try:
        cls, fold = M.tables()
        [cached] = list(tmp_path.glob("chartables-*.bin"))
        good = cached.read_bytes()
        for bad in (good[:100] + bytes(len(good) - 108) + good[-8:], good[:len(good) // 2]):
            cached.write_bytes(bad)
            M.tables.cache_clear()
            c2, f2 = M.tables()
            assert np.array_equal(c2, cls) and np.array_equal(f2, fold)
            assert cached.read_bytes() == good
        # an intact cache is read, not rebuilt
        M.tables.cache_clear()
        monkeypatch.setattr(M, "write_cache", lambda *a: pytest.fail("rebuilt"))
        c3, _ = M.tables()
        assert np.array_equal(c3, cls)
    finally:
        M.tables.cache_clear()


def test_windowed_prefold_gives_the_whole_text_signature_spaced_and_cjk():
    """A long text hashed window by window, folded (Traditional -> Simplified) a window at a
    time, gives exactly the signature, token count and exact key of the whole text folded first
    and hashed in one piece; windows cut at spaces (English) and after CJK characters (a
    Chinese run without spaces), several of each."""
    from corpuskit.core.zhscript import fold_t2s

    zh = "這是一段很長的繁體中文文本，沒有空格，資料去重時應與簡體相同。" * 80
    en = " ".join(f"Word{i % 89} and the 3.14 e-mail NEXT{i % 7}" for i in range(900))
    for text in (zh + en, en + zh + en, zh):
        whole = M.MinHasher(window=10 ** 9).hash_documents([fold_t2s(text)])
        win = M.MinHasher(window=700)
        parts = win.hash_documents([text, "短的文本 short"], prefold=fold_t2s)
        assert len(list(M._windows(text, 700, fold_t2s))) > 3
        assert "".join(M._windows(text, 700, fold_t2s)) == fold_t2s(text)
        for w, p in zip(whole, parts, strict=True):
            assert np.array_equal(w[0], p[0])
        assert whole[1][0] > 1000
        small = M.MinHasher().hash_documents([fold_t2s("短的文本 short")])
        assert all(np.array_equal(s[0], p[1]) for s, p in zip(small, parts, strict=True))
        assert np.array_equal(win.shingle_set(text, fold_t2s), M.MinHasher().shingle_set(fold_t2s(text)))


def test_windows_are_cut_where_the_folded_text_would_be_cut():
    # fold_t2s maps Traditional characters one for one: folding window by window cuts the
    # text where the folded text is cut (here after the CJK character, the only place)
    from corpuskit.core.zhscript import fold_t2s

    text = ("x" * 50 + "們" + "y" * 30) * 40
    assert [fold_t2s(p) for p in M._windows(text, 64)] == list(M._windows(text, 64, fold_t2s))
    assert list(M._windows(fold_t2s(text), 64)) == list(M._windows(text, 64, fold_t2s))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2 ** 64 - 1), max_size=60), st.lists(st.integers(0, 2 ** 64 - 1), max_size=60),
       st.integers(0, 40))
def test_sorted_unique_and_exact_jaccard_match_plain_sets(xs, ys, shared):
    xs = xs + ys[:shared]  # some overlap, some repeats
    a = M.sorted_unique(np.array(xs, dtype=np.uint64))
    b = M.sorted_unique(np.array(ys, dtype=np.uint64))
    assert a.tolist() == sorted(set(xs)) and b.tolist() == sorted(set(ys))
    sa, sb = set(xs), set(ys)
    want = len(sa & sb) / len(sa | sb) if sa | sb else 0.0
    assert M.jaccard_exact(a, b) == pytest.approx(want) and M.jaccard_exact(b, a) == pytest.approx(want)

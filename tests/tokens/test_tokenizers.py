import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.core.text import count_words
from corpuskit.tokens import tokenizers as T

EN = ("The quick brown fox jumps over the lazy dog. It's 3.14159 o'clock, and we've "
      "got 1,234,567 reasons   to count tokens\n\nexactly!\r\n    indented code();\n")
ZH = "语言模型的训练语料需要清洗。今天天气很好，我们去公园散步吧！《红楼梦》是中国古典小说。\n第二段：数据、统计与报告。"


@pytest.fixture(scope="module", params=["cl100k_base", "o200k_base"])
def enc_name(request):
    return request.param


def test_known_ids_from_tiktoken_docs_and_tests():
    # values from tiktoken's README and tests/test_encoding.py: a wrong rank file fails here
    cl = T.tiktoken_encoding("cl100k_base")
    assert cl.encode_ordinary("hello world") == [15339, 1917]
    assert cl.encode_ordinary(" \x850") == [220, 126, 227, 15]
    assert cl.n_vocab == 100277
    o2 = T.tiktoken_encoding("o200k_base")
    assert o2.encode_ordinary("hello world") == [24912, 2375]
    assert o2.n_vocab == 200019
    # the tokenizer knows its vocabulary size without building the encoding (start-up)
    for name, e in (("cl100k_base", cl), ("o200k_base", o2)):
        assert T.TIKTOKEN_SPECS[name]["n_vocab"] == e.n_vocab == e.max_token_value + 1
    # "tiktoken is great!" is 6 tokens in cl100k_base (OpenAI cookbook, How_to_count_tokens)
    assert len(cl.encode_ordinary("tiktoken is great!")) == 6


def test_same_encoding_as_tiktokens_own_constructor(enc_name, monkeypatch):
    """tiktoken's own constructor (pattern, special tokens), fed the ranks we ship, gives the
    same Encoding, and its pinned hash is the one we check."""
    import tiktoken
    import tiktoken_ext.openai_public as op

    ranks = T.load_tiktoken_ranks(enc_name)
    seen = {}

    def fake_load(url, expected_hash=None):
        seen["hash"] = expected_hash
        return ranks

    monkeypatch.setattr(op, "load_tiktoken_bpe", fake_load)
    ref = tiktoken.Encoding(**getattr(op, enc_name)())
    assert seen["hash"] == T.TIKTOKEN_SPECS[enc_name]["sha256"]
    ours = T.tiktoken_encoding(enc_name)
    assert ours._pat_str == ref._pat_str
    assert ours._special_tokens == ref._special_tokens
    tok = T.get_tokenizer(enc_name, threads=2)
    texts = [EN, ZH, EN + ZH, "<|endoftext|> is text here", "🙂🎉👩‍👩‍👧", "", "x" * 10]
    assert [list(x) for x in tok.encode_batch(texts)] == [ref.encode_ordinary(t) for t in texts]
    assert tok.count_batch(texts) == [len(ref.encode_ordinary(t)) for t in texts]


def test_rank_files_are_hash_checked(monkeypatch, tmp_path):
    import lzma

    (tmp_path / "cl100k_base.tiktoken.xz").write_bytes(lzma.compress(b"aGVsbG8= 0\n"))
    from corpuskit.tokens import encodings

    monkeypatch.setattr(encodings, "DATA_DIR", tmp_path)
    with pytest.raises(CorpusKitError, match="corrupt"):
        T.load_tiktoken_ranks("cl100k_base")


# texts built from the pieces where the pre-tokeniser is subtle: newline runs, \r, spaces
# before words, digits, apostrophes, punctuation, CJK, emoji
_ALPHABET = ["a", "Bc", "1", "12345", " ", "  ", "\n", "\r\n", "\n\n", "\t", ".", "'s", "'ll",
             "中", "文字", "。", "😀", "\u3000", "/", "-", "é", "\u0301", "Ω"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.sampled_from(_ALPHABET), max_size=80), target=st.integers(1, 12))
def test_chunked_counts_are_exact(parts, target):
    text = "".join(parts)
    for name in ("cl100k_base", "o200k_base"):
        enc = T.tiktoken_encoding(name)
        pieces, exact = T.split_for_bpe(text, target=target)
        assert exact and "".join(pieces) == text
        assert sum(len(enc.encode_ordinary(p)) for p in pieces) == len(enc.encode_ordinary(text))
        # the ids themselves are the same, not only the count
        assert [i for p in pieces for i in enc.encode_ordinary(p)] == enc.encode_ordinary(text)


def test_large_document_is_split_and_exact(enc_name):
    doc = ((EN + ZH + "\n") * 6000)  # ~1.3M characters, several chunks
    tok = T.get_tokenizer(enc_name, threads=2)
    pieces, exact = T.split_for_bpe(doc)
    assert len(pieces) > 3 and exact
    ids, approx = tok.encode_docs([doc, "short"])
    assert approx == []
    assert ids[0].tolist() == T.tiktoken_encoding(enc_name).encode_ordinary(doc)


def test_huge_whitespace_run_does_not_crash(enc_name):
    # o200k_base's regex engine panics (stack overflow) on ~1M spaces in plain tiktoken
    tok = T.get_tokenizer(enc_name, threads=2)
    text = "start" + " " * 1_000_000 + "end"
    ids, approx = tok.encode_docs(["fine", text])
    assert approx == [1]
    assert 0 < len(ids[1]) < 20_000  # a run of spaces packs into long space tokens


def test_surrogates_and_emoji(enc_name):
    tok = T.get_tokenizer(enc_name)
    enc = T.tiktoken_encoding(enc_name)
    lone = "a\ud800b \udfff"
    pair = "\ud83d\ude00"  # a surrogate pair standing for 😀 (as lenient JSON decoders give)
    counts = tok.count_batch([lone, pair, "😀😀😀", ""])
    assert counts[0] == len(enc.encode_ordinary("a\ufffdb \ufffd"))
    assert counts[1] == len(enc.encode_ordinary("😀"))
    assert counts[2] > 0 and counts[3] == 0


def _train_hf(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([EN, ZH] * 20, trainer)
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return tok, str(path)


def test_hf_tokenizer_json(tmp_path):
    ref, path = _train_hf(tmp_path)
    tok = T.get_tokenizer(path)
    texts = [EN, ZH, "", "🙂 emoji only 🎉", "a\ud800b"]
    got = tok.count_batch(texts)
    assert got[:4] == [len(ref.encode(t, add_special_tokens=False).ids) for t in texts[:4]]
    assert got[4] == len(ref.encode("a\ufffdb", add_special_tokens=False).ids)
    assert got[3] > 0 and got[2] == 0
    ids = tok.encode_batch([" the"])[0]
    assert "".join(tok.label(i) for i in ids) == " the"
    again = pickle.loads(pickle.dumps(tok))
    assert again.count_batch(texts[:2]) == got[:2]


def test_hf_bad_file(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        T.get_tokenizer(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError, match="cannot load"):
        T.get_tokenizer(str(bad))
    with pytest.raises(UsageError, match="unknown tokenizer"):
        T.get_tokenizer("gpt7_base")


def test_words_and_chars():
    w = T.get_tokenizer("words")
    assert w.count_batch([EN, ZH, "😀😀", ""]) == [count_words(EN), count_words(ZH), 0, 0]
    assert w.encode_batch(["我爱NLP and 你"])[0] == ["我", "爱", "NLP", "and", "你"]
    c = T.get_tokenizer("chars")
    assert c.count_batch(["中文 ab\n", "😀"]) == [6, 1]


def test_tiktoken_tokenizer_pickles(enc_name):
    tok = T.get_tokenizer(enc_name, threads=2)
    again = pickle.loads(pickle.dumps(tok))
    assert [x.tolist() for x in again.encode_batch([EN, ZH])] == [x.tolist() for x in tok.encode_batch([EN, ZH])]
    assert tok.label(tok.encode_batch(["hello"])[0][0]) == "hello"


def test_hf_labels_decode_byte_level(tmp_path):
    ref, path = _train_hf(tmp_path)
    tok = T.get_tokenizer(path)
    ids = tok.encode_batch(["语言", " the"])
    # whole characters decode ("è¯Ń" in the vocabulary is 语); " the" keeps its space
    assert [tok.label(i) for i in ids[0]] == ["语", "言"]
    assert "".join(tok.label(i) for i in ids[1]) == " the"
    # a piece of a character cannot decode: the raw vocabulary entry is shown instead
    piece = tok.encode_batch(["😀"])[0][0]
    assert tok.label(piece) == ref.id_to_token(piece)
    assert tok.label(10**9).startswith("<")


def test_panic_in_tiktoken_falls_back_to_pieces():
    # bypass the white-space cutting to reach the last-resort path: tiktoken's o200k_base
    # regex panics (PanicException, a BaseException) on a million spaces
    tok = T.get_tokenizer("o200k_base", threads=1)
    ids, exact = tok._encode_piece("a" + " " * 1_000_000 + "b")
    assert not exact and 0 < len(ids) < 20_000
    assert tok.count_batch(["hello world"]) == [2]  # the encoder still works afterwards


def test_count_docs_of_long_documents_equals_encoding_them(enc_name):
    """count_docs cuts a long document into pieces as it counts them (never all at once):
    the same counts, histogram and approximate documents as encode_docs."""
    doc = ((EN + ZH + "\n") * 3000)
    ws = "start" + " " * 100_000 + "end"
    tok = T.get_tokenizer(enc_name, threads=2)
    ntok, hist, approx = tok.count_docs(["short", doc, ws])
    ids, approx2 = tok.encode_docs(["short", doc, ws])
    assert ntok.tolist() == [len(x) for x in ids] and approx == approx2 == [2]
    assert hist.sum() == sum(len(x) for x in ids) and hist[ids[1][0]] > 0
    assert list(T.iter_split_for_bpe(doc)) == T.split_for_bpe(doc)[0]


@pytest.mark.parametrize("threads", [1, 3])
def test_encode_doc_parts_are_the_documents_ids_in_parts(enc_name, threads):
    """A long document's ids come in the parts they were encoded in (one a piece, never copied
    into one array): concatenated, tiktoken's own ids; short and long documents in their order,
    the approximate ones named."""
    doc = ((EN + ZH + "\n") * 3000)
    ws = "start" + " " * 100_000 + "end"
    tok = T.get_tokenizer(enc_name, threads=threads)
    enc = T.tiktoken_encoding(enc_name)
    texts = ["short", doc, "", ws, EN]
    parts, approx = tok.encode_doc_parts(texts)
    assert approx == [3] and len(parts) == len(texts) and len(parts[1]) > 1
    assert [len(p) for i, p in enumerate(parts) if i != 1 and i != 3] == [1, 1, 1]
    for i in (0, 1, 2, 4):
        assert np.concatenate(parts[i]).tolist() == enc.encode_ordinary(texts[i])
    ids, approx2 = tok.encode_docs(texts)
    assert approx2 == approx and [x.tolist() for x in ids] == [np.concatenate(p).tolist() for p in parts]


# ---------------------------------------------------------------- a tokenizer.json on a huge text

_LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def _hf_kinds(tmp_path_factory):
    """tokenizer.json files of the usual shapes, trained here: GPT-2's byte-level BPE, Llama 3's
    split pattern before a byte-level BPE, BERT's WordPiece, a SentencePiece-style Metaspace
    unigram, and GPT-2 with a prefix space (put before every input: no cut holds)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    d = tmp_path_factory.mktemp("hf")
    data = [EN, ZH, "Numbers 12345 and 3.14, e-mail a@b.org!\n\nNew  line\tend."] * 20
    out = {}

    def bpe(pre, name, normalizer=None):
        tok = Tokenizer(models.BPE(unk_token=None))
        if normalizer is not None:
            tok.normalizer = normalizer
        tok.pre_tokenizer = pre
        tok.decoder = decoders.ByteLevel()
        tok.train_from_iterator(data, trainers.BpeTrainer(
            vocab_size=500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
        out[name] = str(d / f"{name}.json")
        tok.save(out[name])

    bpe(pre_tokenizers.ByteLevel(add_prefix_space=False), "gpt2")
    bpe(pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(_LLAMA3_SPLIT), "isolated"),
                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
        "llama3", normalizer=normalizers.NFC())
    bpe(pre_tokenizers.ByteLevel(add_prefix_space=True), "gpt2_prefix_space")
    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.train_from_iterator(data, trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[UNK]"]))
    out["bert"] = str(d / "bert.json")
    wp.save(out["bert"])
    ms = Tokenizer(models.Unigram())
    ms.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always")
    ms.train_from_iterator(data, trainers.UnigramTrainer(vocab_size=200, unk_token="<unk>",
                                                         special_tokens=["<unk>"]))
    out["metaspace"] = str(d / "metaspace.json")
    ms.save(out["metaspace"])
    return out


@pytest.fixture(scope="module")
def hf_kinds(tmp_path_factory):
    return {k: T.get_tokenizer(p) for k, p in _hf_kinds(tmp_path_factory).items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(_ALPHABET + ["Hello", " world", "\n ", " \n", "!\n"]), max_size=80),
       target=st.integers(1, 12))
def test_a_tokenizer_json_cuts_only_where_the_ids_stay_the_same(hf_kinds, parts, target):
    text = "".join(parts)
    for tok in hf_kinds.values():
        pieces = list(tok.iter_pieces(text, target))
        assert "".join(pieces) == text
        whole = list(tok.encode_batch([text])[0])
        assert [i for ids in tok.encode_batch(pieces) for i in ids] == whole


def test_a_huge_text_is_encoded_in_pieces_with_the_ids_of_the_whole(hf_kinds, monkeypatch):
    doc = (EN + "\n" + ZH + "\n\n") * 400  # ~100K characters
    monkeypatch.setattr(T, "HF_LONG", 10_000)
    monkeypatch.setattr(T, "HF_PIECE", 3_000)
    for name, tok in hf_kinds.items():
        whole = list(tok.encode_batch([doc])[0])
        pieces = list(tok.iter_pieces(doc))
        parts, approx = tok.encode_doc_parts(["short text", doc])
        assert approx == [] and len(parts[0]) == 1
        assert np.concatenate(parts[1]).tolist() == whole
        ids, _ = tok.encode_docs([doc, "short text"])
        assert list(ids[0]) == whole and list(ids[1]) == list(tok.encode_batch(["short text"])[0])
        if name != "gpt2_prefix_space":
            assert len(pieces) > 20 and len(parts[1]) == len(pieces)  # cut, in pieces of about HF_PIECE
        else:  # every cut would put a space before a piece: refused, the text goes whole
            assert len(pieces) == 1 and len(parts[1]) == 1

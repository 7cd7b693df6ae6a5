"""Tokenizers for counting, all offline at run time.

* ``cl100k_base`` / ``o200k_base``: OpenAI's BPE encodings, run by tiktoken's Rust core. tiktoken
  itself downloads the rank files on first use, which fails offline, so we ship the two rank
  files (``corpuskit/data/tiktoken/*.tiktoken.xz``, MIT, see the LICENSE there) and build a
  ``tiktoken.Encoding`` from them with tiktoken's own pattern and special tokens. The
  decompressed bytes are checked against the SHA-256 that tiktoken itself pins for the
  published file, so the counts are tiktoken's, token for token.
* a path to a Hugging Face ``tokenizer.json``: run by the ``tokenizers`` package.
* ``words``: :func:`corpuskit.core.text.words` (a CJK character is one word).
* ``chars``: Unicode code points, white space included (what a character-level model sees).

Every tokenizer answers ``encode_batch(texts) -> list of token sequences`` whose items are
hashable keys (token ids, or the word/character itself) and ``label(key) -> str`` to show one.
Counts never include special tokens: text that spells ``<|endoftext|>`` counts as ordinary
text, and no BOS/EOS is added (add one per document yourself if your trainer does).
"""
from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Hashable, Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np

from corpuskit.core import text as _text
from corpuskit.core.errors import UsageError
from corpuskit.core.records import fix_surrogates
from corpuskit.tokens.bpe_count import PieceCache
from corpuskit.tokens.encodings import (  # noqa: F401 - re-exported
    _ENDOFTEXT,
    DATA_DIR,
    TIKTOKEN_SPECS,
    load_tiktoken_ranks,
    tiktoken_encoding,
)

SIMPLE = ("words", "chars")
BUILTIN = (*TIKTOKEN_SPECS, *SIMPLE)


def default_threads() -> int:
    """Cores this process may use (affinity-aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _utf8_safe(texts: Sequence[str]) -> list[str]:
    out = list(texts)
    for i, t in enumerate(out):
        try:
            t.encode("utf-8")
        except UnicodeEncodeError:
            out[i] = fix_surrogates(t)
    return out


class Tokenizer:
    """Base class; see the module doc."""

    name: str = ""
    #: size of the id space when keys are small ints (lets stats count with a flat array)
    n_vocab: int | None = None

    def encode_batch(self, texts: Sequence[str]) -> list[Sequence[Hashable]]:
        raise NotImplementedError

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in self.encode_batch(texts)]

    def encode_docs(self, texts: Sequence[str]) -> tuple[list[Sequence[Hashable]], list[int]]:
        """(token sequences, indexes of documents whose count is approximate)."""
        return self.encode_batch(texts), []

    def label(self, key: Hashable) -> str:
        return str(key)

    def token_id(self, token: str) -> int | None:
        """The id of a special (or ordinary) token given by its text, None when it has none."""
        return None

    def default_eos(self) -> int | None:
        """The tokenizer's own end-of-text id, None when it has none."""
        return None

    def decode(self, ids: Sequence[int]) -> str:
        raise NotImplementedError


# Long documents are cut into pieces of about CHUNK characters so that one 50 MB page is
# encoded by all threads at once and never as a single Rust call. A cut is made only right
# after a "\n" that is followed by a letter or digit: no alternative of the cl100k/o200k
# patterns matches across such a point, and the pieces on either side come out the same
# whether or not the text goes on (the piece before ends in the newline run either way), so
# the counts are exactly tiktoken's (tests/test_tokstats.py checks this on random text).
CHUNK = 1 << 18
# tiktoken's regex engine overflows its stack on a run of several hundred thousand white-space
# characters (o200k_base panics on 1M spaces) and slows down well before. Such runs are cut
# every WS_RUN characters and the document is counted as approximate (off by at most one
# token per cut); it is reported, never hidden.
WS_RUN = 1 << 15
# count_docs hands the piece cache at most about this many characters at a time
COUNT_GROUP = 1 << 22
_LONG_WS_RE = re.compile(rf"(?<!\s)\s{{{WS_RUN}}}\s*")  # run starts only: linear time


def _cut_points(text: str, target: int) -> list[int]:
    cuts: list[int] = []
    n = len(text)
    pos = target
    while pos < n:
        i = text.find("\n", pos)
        while i != -1 and i + 1 < n and unicodedata.category(text[i + 1])[0] not in "LN":
            i = text.find("\n", i + 1)
        if i == -1 or i + 1 >= n:
            break
        cuts.append(i + 1)
        pos = i + 1 + target
    return cuts


def split_for_bpe(text: str, target: int = CHUNK) -> tuple[list[str], bool]:
    """Pieces of `text` whose counts add up to the count of `text`, and whether that sum is
    exact (False when a huge white-space run had to be cut; see WS_RUN)."""
    exact = [True]
    pieces = list(iter_split_for_bpe(text, target, exact))
    return pieces, exact[0]


def iter_split_for_bpe(text: str, target: int = CHUNK, exact: list[bool] | None = None) -> Iterator[str]:
    """The pieces of `split_for_bpe`, one at a time (the pieces of a 200 MB text are never all
    held at once); `exact[0]` is set to False when a huge white-space run is cut."""
    if len(text) <= target and len(text) < WS_RUN:
        yield text
        return
    bounds = [0, *_cut_points(text, target), len(text)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        p = text[a:b]
        if len(p) < WS_RUN or _LONG_WS_RE.search(p) is None:
            if p:
                yield p
            continue
        if exact is not None:
            exact[0] = False
        start = 0
        for m in _LONG_WS_RE.finditer(p):
            a2, b2 = m.span()
            for c in range(a2 + WS_RUN, b2, WS_RUN):
                if p[start:c]:
                    yield p[start:c]
                start = c
        if p[start:]:
            yield p[start:]


def _is_fatal(e: BaseException) -> bool:
    return isinstance(e, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError))


class TiktokenTokenizer(Tokenizer):
    def __init__(self, name: str, threads: int = 0):
        self.name = name
        # the encoding (0.5-1 s to build from the rank file) is built on first use, so a
        # command that never counts a token (empty input, --help) does not wait for it
        self.n_vocab = TIKTOKEN_SPECS[name]["n_vocab"]
        self.threads = threads or default_threads()
        self._pool: Any = None
        self._lock = threading.Lock()
        self._cache: Any = None

    @property
    def enc(self) -> Any:
        return tiktoken_encoding(self.name)

    def _encode(self, piece: str) -> np.ndarray:
        # encode_to_numpy with no special tokens allowed and none disallowed is encode_ordinary
        # (text that spells a special token is plain text), but hands back a uint32 buffer
        # instead of a list of Python ints: 4 bytes a token, and no list to build or flatten.
        try:
            return self.enc.encode_to_numpy(piece, allowed_special=set(), disallowed_special=())
        except UnicodeEncodeError:  # surrogates: repaired the way encode_ordinary does
            return self.enc.encode_to_numpy(fix_surrogates(piece), allowed_special=set(),
                                            disallowed_special=())

    def _encode_piece(self, piece: str) -> tuple[np.ndarray, bool]:
        try:
            return self._encode(piece), True
        except BaseException as e:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
            if _is_fatal(e):
                raise
        # Last resort for input tiktoken itself cannot encode: count smaller pieces cut at
        # spaces. Marked approximate.
        parts: list[np.ndarray] = []
        step = 4096
        i = 0
        while i < len(piece):
            j = min(len(piece), i + step)
            k = piece.rfind(" ", i + 1, j) if j < len(piece) else -1
            j = k if k > i else j
            parts.append(self._encode(piece[i:j]))
            i = j
        return np.concatenate(parts) if parts else np.zeros(0, np.uint32), False

    def _map(self, pieces: list[str]) -> list[tuple[np.ndarray, bool]]:
        # tiktoken's own encode_ordinary_batch starts a new thread pool per call; keeping one
        # alive saves that on every batch. encode_ordinary releases the GIL while it works.
        if self.threads == 1 or len(pieces) < 2:
            return [self._encode_piece(p) for p in pieces]
        return list(self._executor().map(self._encode_piece, pieces))

    def _map_iter(self, pieces: Iterator[str]) -> list[tuple[np.ndarray, bool]]:
        """`_map` over pieces made as they are taken: at most 2 x threads of them are held."""
        if self.threads == 1:
            return [self._encode_piece(p) for p in pieces]
        from collections import deque

        ex = self._executor()
        window: deque = deque()
        out = []
        for p in pieces:
            window.append(ex.submit(self._encode_piece, p))
            p = None
            if len(window) >= 2 * self.threads:
                out.append(window.popleft().result())
        while window:
            out.append(window.popleft().result())
        return out

    def encode_doc_parts(self, texts: Sequence[str]) -> tuple[list[list[np.ndarray]], list[int]]:
        """(each text's ids as a list of arrays, the `encode_docs` ids cut in parts; indexes of
        documents whose ids are approximate). The texts under WS_RUN characters are encoded as
        one batch over the threads; a longer one is cut as by `split_for_bpe` and its pieces
        encoded as they are cut, so that neither its pieces (a copy of the text) nor its ids in
        one array (a copy of the parts) are ever held whole: 5.8x a 50 MB record's size before."""
        if all(len(t) < WS_RUN for t in texts):  # the usual batch: no long text
            enc = self._map(list(texts))
            return [[ids] for ids, _ in enc], [i for i, (_, ok) in enumerate(enc) if not ok]
        short = [i for i, t in enumerate(texts) if len(t) < WS_RUN]
        out: list[list[np.ndarray]] = [[]] * len(texts)
        bad: set[int] = set()
        enc = self._map([texts[i] for i in short])
        for i, (ids, ok) in zip(short, enc, strict=True):
            out[i] = [ids]
            if not ok:
                bad.add(i)
        del enc
        for i, t in enumerate(texts):
            if len(t) < WS_RUN:
                continue
            exact = [True]
            got = self._map_iter(iter_split_for_bpe(t, CHUNK, exact))
            out[i] = [r[0] for r in got]
            if not (exact[0] and all(r[1] for r in got)):
                bad.add(i)
            del got
        return out, sorted(bad)

    def encode_docs(self, texts: Sequence[str]) -> tuple[list[np.ndarray], list[int]]:
        parts, approx = self.encode_doc_parts(texts)
        return [p[0] if len(p) == 1 else np.concatenate(p) for p in parts], approx

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:  # type: ignore[override]
        return self.encode_docs(texts)[0]

    @property
    def cache(self) -> Any:
        """The piece cache (corpuskit.tokens.bpe_count), built on first use."""
        if self._cache is None:
            self._cache = PieceCache(self.enc, self.name)
        return self._cache

    def count_docs(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(tokens per document, token-id histogram over the vocabulary, indexes of documents
        whose count is approximate): what the statistics need, without the token sequences.
        Counted through the piece cache (corpuskit.tokens.bpe_count), one thread, exactly
        tiktoken's counts. A document longer than WS_RUN is cut as in `split_for_bpe` (at
        points where the pre-tokenisation never joins across, so exactly) and its parts
        counted as documents; only a huge white-space run makes a count approximate."""
        ntok = np.zeros(len(texts), np.int64)
        counts = np.zeros(self.n_vocab, np.int64)
        approx: list[int] = []
        group: list[str] = []
        owner: list[int] = []
        size = 0

        def flush() -> None:
            n, c = self.cache.count(group)
            np.add.at(ntok, np.asarray(owner, np.int64), n)
            counts[:] += c
            group.clear()
            owner.clear()

        for i, t in enumerate(texts):
            exact = [True]
            # a long document's pieces are made as they are counted, never all at once
            parts = iter_split_for_bpe(t, CHUNK, exact) if len(t) >= WS_RUN else (t,)
            for p in parts:
                group.append(p)
                owner.append(i)
                size += len(p)
                if size >= COUNT_GROUP:  # bounds the code-point copy of a batch
                    flush()
                    size = 0
            if not exact[0]:
                approx.append(i)
        if group:
            flush()
        return ntok, counts, approx

    def _executor(self) -> Any:
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="corpuskit-tok")
            return self._pool

    def label(self, key: Hashable) -> str:
        return _show_bytes(self.enc.decode_single_token_bytes(int(key)))  # type: ignore[arg-type]

    def token_id(self, token: str) -> int | None:
        special = self.enc._special_tokens
        if token in special:
            return int(special[token])
        try:
            return int(self.enc.encode_single_token(token.encode("utf-8")))
        except KeyError:
            return None

    def default_eos(self) -> int | None:
        return int(self.enc.eot_token)

    def decode(self, ids: Sequence[int]) -> str:
        return self.enc.decode([int(i) for i in ids], errors="replace")

    def __getstate__(self) -> dict:  # ship by name, rebuild (cached) on the other side
        return {"name": self.name, "threads": self.threads}

    def __setstate__(self, st: dict) -> None:
        self.__init__(st["name"], st["threads"])  # type: ignore[misc]


# A tokenizer.json encodes a text of HF_LONG characters or more in pieces of about HF_PIECE
# characters (HFTokenizer.iter_pieces), HF_GROUP of them in one call, a cut checked on
# HF_CONTEXT characters either side; HF_TRIES refused cuts in a row and the rest goes whole.
# (Pieces of 256K characters peaked at 2.9x a 50 MB record above the baseline, 64K at 2.0x,
# in the same time: `tokenizers` keeps each token's string and offsets while a call runs.)
HF_LONG = 1 << 20
HF_PIECE = 1 << 16
HF_GROUP = 2
HF_CONTEXT = 1 << 10
HF_TRIES = 8

# end-of-text tokens by their usual names (GPT-2/Qwen, Llama 3, Llama 2/Mistral/T5, Gemma, BERT)
_EOS_NAMES = ("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "[SEP]")


class HFTokenizer(Tokenizer):
    """A Hugging Face `tokenizer.json` (BPE, WordPiece, Unigram...) via the `tokenizers` package."""

    def __init__(self, path: str):
        try:
            from tokenizers import Tokenizer as _HF
        except ImportError as e:  # pragma: no cover - it is a dependency
            raise UsageError("a tokenizer.json needs the `tokenizers` package") from e
        if not os.path.isfile(path):
            raise UsageError(f"tokenizer file not found: {path} (built-in: {', '.join(BUILTIN)})")
        try:
            self.tok = _HF.from_file(path)
        except Exception as e:  # the Rust side raises a bare Exception on bad JSON
            raise UsageError(f"cannot load tokenizer {path}: {str(e).splitlines()[0][:200]}") from e
        self.path = path
        self.name = os.path.basename(path)
        self.n_vocab = self.tok.get_vocab_size(with_added_tokens=True)

    def encode_batch(self, texts: Sequence[str]) -> list[Sequence[int]]:
        # encode_batch runs on the Rust thread pool (RAYON_NUM_THREADS / TOKENIZERS_PARALLELISM).
        encs = self.tok.encode_batch_fast(_utf8_safe(texts), add_special_tokens=False) \
            if hasattr(self.tok, "encode_batch_fast") else \
            self.tok.encode_batch(_utf8_safe(texts), add_special_tokens=False)
        return [e.ids for e in encs]

    def _clean_cut(self, text: str, c: int) -> bool:
        """Whether cutting `text` at `c` leaves its ids as they are: the tokenizer itself, run on
        HF_CONTEXT characters either side, gives the joined text the ids of its two halves."""
        left, right = text[max(0, c - HF_CONTEXT):c], text[c:c + HF_CONTEXT]
        both, a, b = self.encode_batch([left + right, left, right])
        return list(both) == list(a) + list(b)

    def iter_pieces(self, text: str, target: int | None = None) -> Iterator[str]:
        """`text` in pieces of about `target` characters (HF_PIECE) whose ids, joined, are the ids of
        `text`. A cut is tried right after a line break (the nearest few past each `target`
        characters) and made only where `_clean_cut` holds: for the byte-level BPEs of GPT-2,
        Llama 3 or Qwen and for BERT's WordPiece nearly every one; a tokenizer that never
        allows one (a SentencePiece `Metaspace` that puts "▁" before every input) gives up after
        HF_TRIES refused cuts in a row and encodes the rest whole."""
        target = HF_PIECE if target is None else target
        n, a, pos, refused = len(text), 0, target, 0
        while pos < n and refused < HF_TRIES:
            i = text.find("\n", pos)
            if i == -1 or i + 1 >= n:
                break
            c = i + 1
            if self._clean_cut(text, c):
                yield text[a:c]
                a, pos, refused = c, c + target, 0
            else:
                refused += 1
                pos = c
        yield text[a:]

    def _array(self, ids: Sequence[int]) -> np.ndarray:
        return np.asarray(ids, np.uint16 if self.n_vocab <= 1 << 16 else np.uint32)

    def _long_parts(self, text: str) -> Iterator[np.ndarray]:
        """The ids of a long text, piece by piece (`iter_pieces`), HF_GROUP pieces a call."""
        group: list[str] = []
        for piece in self.iter_pieces(text):
            group.append(piece)
            if len(group) == HF_GROUP:
                yield from (self._array(ids) for ids in self.encode_batch(group))
                group = []
        if group:
            yield from (self._array(ids) for ids in self.encode_batch(group))

    def encode_doc_parts(self, texts: Sequence[str]) -> tuple[list[list[np.ndarray]], list[int]]:
        """(each text's ids as a list of arrays (uint16 for a vocabulary of 65,536 or fewer,
        else uint32) whose concatenation is its ids; no document is approximate). A text of
        HF_LONG characters or more is encoded in the pieces of `iter_pieces`, a few at a time,
        so that its ids never exist as one Python list (`tokenizers` builds every token's string
        and offsets beside its id: some 100x a huge text's size); the others as one batch."""
        out: list[list[np.ndarray]] = [[] for _ in texts]
        short = [i for i, t in enumerate(texts) if len(t) < HF_LONG]
        for i, ids in zip(short, self.encode_batch([texts[i] for i in short]), strict=True):
            out[i] = [self._array(ids)]
        for i, t in enumerate(texts):
            if len(t) >= HF_LONG:
                out[i] = list(self._long_parts(t))
        return out, []

    def encode_docs(self, texts: Sequence[str]) -> tuple[list[Sequence[int]], list[int]]:
        if all(len(t) < HF_LONG for t in texts):
            return self.encode_batch(texts), []
        parts, approx = self.encode_doc_parts(texts)
        return [p[0] if len(p) == 1 else np.concatenate(p) for p in parts], approx

    def count_docs(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(tokens per document, token-id histogram, indexes of approximate documents: none),
        without holding a long text's ids: they are counted piece by piece."""
        ntok = np.zeros(len(texts), np.int64)
        hist = np.zeros(self.n_vocab, np.int64)

        def add(ids: np.ndarray) -> np.ndarray:
            bc = np.bincount(ids, minlength=self.n_vocab)
            if bc.size > hist.size:  # ids past the declared vocabulary size
                return np.concatenate([hist, np.zeros(bc.size - hist.size, np.int64)]) + bc
            hist[:bc.size] += bc
            return hist

        short = [i for i, t in enumerate(texts) if len(t) < HF_LONG]
        seqs = self.encode_batch([texts[i] for i in short])
        for i, ids in zip(short, seqs, strict=True):
            ntok[i] = len(ids)
        if seqs:
            hist = add(np.fromiter(chain.from_iterable(seqs), np.int64, int(ntok.sum())))
        del seqs
        for i, t in enumerate(texts):
            if len(t) >= HF_LONG:
                for ids in self._long_parts(t):
                    ntok[i] += len(ids)
                    hist = add(ids)
        return ntok, hist, []

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return self.count_docs(texts)[0].tolist()

    def label(self, key: Hashable) -> str:
        # the tokenizer's own decoder shows what the token means (byte-level "Ġthe" -> " the",
        # SentencePiece "▁the" -> "the"); a piece of a multi-byte character decodes to U+FFFD,
        # so then the raw vocabulary entry is more telling
        try:
            shown = self.tok.decode([int(key)], skip_special_tokens=False)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - the Rust side raises bare exceptions
            shown = ""
        if shown and "\ufffd" not in shown:
            return shown
        tok = self.tok.id_to_token(int(key))  # type: ignore[arg-type]
        return f"<{key}>" if tok is None else tok

    def token_id(self, token: str) -> int | None:
        got = self.tok.token_to_id(token)
        return None if got is None else int(got)

    def default_eos(self) -> int | None:
        """The eos_token of a tokenizer_config.json beside the file (as transformers saves it),
        else the first special token with a usual end-of-text name."""
        cfg = os.path.join(os.path.dirname(self.path), "tokenizer_config.json")
        if os.path.isfile(cfg):
            import json

            try:
                with open(cfg, encoding="utf-8") as f:
                    eos = json.load(f).get("eos_token")
            except (OSError, ValueError):
                eos = None
            if isinstance(eos, dict):
                eos = eos.get("content")
            if isinstance(eos, str) and self.token_id(eos) is not None:
                return self.token_id(eos)
        for name in _EOS_NAMES:
            got = self.tok.token_to_id(name)
            if got is not None:
                return int(got)
        return None

    def decode(self, ids: Sequence[int]) -> str:
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=False)

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, st: dict) -> None:
        self.__init__(st["path"])  # type: ignore[misc]


class WordsTokenizer(Tokenizer):
    name = "words"

    def encode_batch(self, texts: Sequence[str]) -> list[Sequence[str]]:
        return [_text.words(t) for t in texts]


class CharsTokenizer(Tokenizer):
    name = "chars"

    def encode_batch(self, texts: Sequence[str]) -> list[Sequence[str]]:
        return [t for t in texts]  # a str is already the sequence of its code points

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]

    def label(self, key: Hashable) -> str:
        return str(key)


def _show_bytes(b: bytes) -> str:
    """A token's bytes for humans: UTF-8 where it decodes, <0xNN> for partial characters."""
    return b.decode("utf-8", "backslashreplace")


def get_tokenizer(spec: str, threads: int = 0) -> Tokenizer:
    """A tokenizer by name (see BUILTIN) or path to a Hugging Face tokenizer.json."""
    if spec in TIKTOKEN_SPECS:
        return TiktokenTokenizer(spec, threads)
    if spec == "words":
        return WordsTokenizer()
    if spec == "chars":
        return CharsTokenizer()
    if spec.endswith(".json") or os.sep in spec or os.path.exists(spec):
        return HFTokenizer(spec)
    raise UsageError(f"unknown tokenizer {spec!r}: use one of {', '.join(BUILTIN)} "
                     f"or the path to a tokenizer.json")

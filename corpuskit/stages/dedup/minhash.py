"""MinHash signatures, LSH band keys and their parameters, for `dedup`.

Signatures are the numbers datasketch's `MinHash` gives (its default scheme since 2.0,
"affine32": the 32-bit input hash is pre-mixed with the MurmurHash3 finalizer, then
permutation k maps it to ``a_k * h + b_k mod 2**32`` with datasketch's own
``RandomState(seed)`` draw of ``a`` and ``b``), for the same shingle hashes:
``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash).update(shingle)`` over the
shingles of a document gives exactly `signatures()` of it (tests/test_minhash.py uses
datasketch as the oracle).

What makes it fast: datasketch hashes every shingle with SHA-1 in Python and permutes it with
a numpy call per document. Here one compiled kernel (numba) walks the code points of a whole
batch of documents: it splits them into the tokens of `corpuskit.core.text.shingle_tokens` (the
same tokens: a test compares them), hashes tokens and n-grams of them with integer
arithmetic, and applies all permutations in a SIMD inner loop, with no Python object per
token or shingle.

Tokens (see `corpuskit.core.text.shingle_tokens`): the text is NFKC-folded and lower-cased, digits
become 0, punctuation goes; a CJK character is one token, so a run of Chinese gives character
n-grams and spaced text word n-grams, mixed text both. A document with fewer than n tokens has
one shingle of all its tokens; one without any token has no shingle and an "empty" signature
(all 2**32-1, as datasketch's empty MinHash).
"""
from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from corpuskit.core.assets import cache_dir, read_cache, write_cache
from corpuskit.core.jit import Kernels
from corpuskit.core.text import CJK_RANGES, KANA_MARKS

# numba kernels, compiled (or loaded from numba's cache) on first use: see core/jit.py
_kernels = Kernels(globals())

MAX_HASH = np.uint32(0xFFFFFFFF)
M64 = (1 << 64) - 1

# Character classes of the code-point table.
_OTHER, _WORD, _DIGIT, _CJK, _CONN, _SPACE = 0, 1, 2, 3, 4, 5
# Token hash: a polynomial over code points mod 2**64, then the 64-bit MurmurHash3 finalizer.
_TOK_SEED = 0x9E3779B97F4A7C15
_TOK_MUL = 0x100000001B3  # FNV-64 prime (odd, so the polynomial map is invertible mod 2**64)
# Shingle hash: a polynomial over token hashes, then the finalizer, top 32 bits.
_SH_MUL = 0xD6E8FEB86659FD93
_ZERO = ord("0")
# Exact-duplicate key: two polynomial hashes (different seeds and multipliers) of the folded
# text with white space runs collapsed to one space and trimmed: 128 bits.
_K1_SEED, _K1_MUL = 0x243F6A8885A308D3, 0x100000001B3
_K2_SEED, _K2_MUL = 0x13198A2E03707344, 0x9E3779B97F4A7C15

# Documents longer than this (code points) are hashed in windows cut at white space, so a
# 50 MB document needs a few MB of work space, not hundreds.
WINDOW = 1 << 20


def permutations(num_perm: int = 128, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b), drawn exactly as it draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_HARD = np.uint32(0xFFFFFFFF)
# Hangul jamo compose algorithmically under NFKC (not through the decomposition data)
_JAMO = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF), (0xFFA0, 0xFFDC))


def _table_ranges() -> list[range]:
    # Planes 4-13 hold no assigned character (checked at build time), so their code points
    # are left as they are: class "other" (they never match \w) and folded to themselves.
    return [range(0x40000), range(0xE0000, 0x110000)]


def _build_tables() -> tuple[np.ndarray, np.ndarray]:
    n = 0x110000
    for cp in range(0x40000, 0xE0000, 0x1000):
        if unicodedata.category(chr(cp)) != "Cn":  # pragma: no cover - a future Unicode
            return _build_tables_full()
    return _build_tables_from(_table_ranges(), n)


def _build_tables_full() -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    return _build_tables_from([range(0x110000)], 0x110000)


def _build_tables_from(ranges: list[range], n: int) -> tuple[np.ndarray, np.ndarray]:
    cls = np.zeros(n, dtype=np.uint8)
    fold_t = np.arange(n, dtype=np.uint32)
    second = set()  # second halves of canonical pairs: they compose with what precedes them
    nfkc = unicodedata.normalize
    comb = unicodedata.combining
    for r in ranges:
        for cp in r:
            ch = chr(cp)
            if ch.isalnum():
                cls[cp] = _DIGIT if ch.isdecimal() else _WORD
            elif ch.isspace():
                cls[cp] = _SPACE
            d = unicodedata.decomposition(ch)
            if d and not d.startswith("<"):
                parts = d.split()
                if len(parts) == 2:
                    second.add(int(parts[1], 16))
            if 0xD800 <= cp <= 0xDFFF:
                continue
            f = nfkc("NFKC", ch).lower()
            if len(f) != 1 or comb(ch) or comb(f):
                fold_t[cp] = _HARD
            else:
                fold_t[cp] = ord(f)
    for cp in second:
        fold_t[cp] = _HARD
    hard_targets = np.isin(fold_t, np.fromiter(second, dtype=np.uint32))
    fold_t[hard_targets] = _HARD
    for lo, hi in _JAMO:
        fold_t[lo:hi + 1] = _HARD
        fold_t[np.isin(fold_t, np.arange(lo, hi + 1, dtype=np.uint32))] = _HARD
    fold_t[0x03A3] = _HARD  # capital sigma: lower() depends on the context (final sigma)
    # the kana voiced-sound marks are no token of their own (core.text's words): the half-width
    # ones are letters to str.isalnum
    for ranges_s, c in ((CJK_RANGES, _CJK), (KANA_MARKS, _OTHER)):
        i = 0
        while i < len(ranges_s):
            lo = ord(ranges_s[i])
            if i + 2 < len(ranges_s) and ranges_s[i + 1] == "-":
                hi = ord(ranges_s[i + 2])
                i += 3
            else:
                hi = lo
                i += 1
            cls[lo:hi + 1] = c
    for c in "'\u2019.-":
        cls[ord(c)] = _CONN
    return cls, fold_t


@functools.lru_cache(maxsize=1)
def tables() -> tuple[np.ndarray, np.ndarray]:
    """(class of every code point, single-character NFKC+lower fold of it or HARD).

    Classes, as `corpuskit.core.text.WORD_RE` sees a folded character: word (str.isalnum, as re's
    \\w minus "_"), decimal digit (re's \\d, folded to 0), CJK (a token by itself), inner
    connector (' ’ . -, kept between two word characters), white space, other.
    A character is HARD when folding it alone is not folding it in context (combining marks,
    characters that compose with their neighbour, jamo, final sigma, one-to-many mappings):
    a text holding one goes through Python's NFKC instead of the table.
    Building takes about a second; the result is cached on disk (`core.assets.cache_dir()`)
    with a checksum of the Unicode version and builder code that made it and of its own bytes:
    a damaged or stale cache is rebuilt (zeroed tables would make dedup find no duplicate)."""
    import inspect

    import xxhash

    # what built the tables: the Unicode database and the builder's code
    # (and the CJK ranges it marks, which live in core.text)
    key = f"chartables:{unicodedata.unidata_version}:".encode() + xxhash.xxh3_128_digest(
        (inspect.getsource(_build_tables) + CJK_RANGES + KANA_MARKS).encode())
    path = cache_dir() / f"chartables-{xxhash.xxh3_64_hexdigest(key)}.bin"
    n = 0x110000
    data = read_cache(path, key)
    if data is not None and len(data) == n * 5:
        cls = np.frombuffer(data, dtype=np.uint8, count=n).copy()
        fold_t = np.frombuffer(data, dtype="<u4", offset=n).astype(np.uint32)
        return cls, fold_t
    cls, fold_t = _build_tables()
    write_cache(path, key, cls.astype(np.uint8).tobytes() + fold_t.astype("<u4").tobytes())
    return cls, fold_t


def char_classes() -> np.ndarray:
    return tables()[0]


# ------------------------------------------------------------------ scalar reference
def _fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    return h ^ (h >> 33)


def token_hash(token: str) -> int:
    """64-bit hash of one (already folded) token, as the kernel computes it."""
    h = _TOK_SEED
    for ch in token:
        h = (h * _TOK_MUL + ord(ch)) & M64
    return _fmix64(h)


def shingle_hash(shingle: Sequence[str]) -> int:
    """32-bit hash of a shingle (a tuple of folded tokens): the value fed to MinHash."""
    return shingle_hash64(shingle) >> 32


def shingle_hash64(shingle: Sequence[str]) -> int:
    h = len(shingle)
    for t in shingle:
        h = (h * _SH_MUL + token_hash(t)) & M64
    return _fmix64(h)


# ------------------------------------------------------------------ compiled kernels
@_kernels.njit(cache=True, nogil=True, inline="always")
def _nb_fmix64(h):
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@_kernels.njit(cache=True, nogil=True, inline="always")
def _nb_dec(buf, i):
    """(code point, next position) of the UTF-8 sequence at buf[i] (Python's own encoding, so
    well formed; lone surrogates come as their 3-byte forms, by surrogatepass)."""
    b0 = np.uint32(buf[i])
    if b0 < 0x80:
        return b0, i + 1
    if b0 < 0xE0:
        return ((b0 & np.uint32(0x1F)) << np.uint32(6)) | (np.uint32(buf[i + 1]) & np.uint32(0x3F)), i + 2
    if b0 < 0xF0:
        return (((b0 & np.uint32(0x0F)) << np.uint32(12)) | ((np.uint32(buf[i + 1]) & np.uint32(0x3F)) << np.uint32(6))
                | (np.uint32(buf[i + 2]) & np.uint32(0x3F))), i + 3
    return (((b0 & np.uint32(0x07)) << np.uint32(18)) | ((np.uint32(buf[i + 1]) & np.uint32(0x3F)) << np.uint32(12))
            | ((np.uint32(buf[i + 2]) & np.uint32(0x3F)) << np.uint32(6))
            | (np.uint32(buf[i + 3]) & np.uint32(0x3F))), i + 4


@_kernels.njit(cache=True, nogil=True)
def _nb_scan(buf, lo, hi, cls, fold_t, use_fold, out, state):
    """Tokens of the UTF-8 text buf[lo:hi] (WORD_RE's, on the folded text) into out as 64-bit
    hashes; returns how many, or -1 if a HARD character needs Python's NFKC (`use_fold`: fold
    through the table; else the text is folded already). `state` carries the exact key over
    windows: [k1, k2, started, pending space]; it is only updated on success."""
    m = 0
    in_tok = False
    h = np.uint64(0)
    seed = np.uint64(_TOK_SEED)
    mul = np.uint64(_TOK_MUL)
    k1 = state[0]
    k2 = state[1]
    started = state[2]
    pend = state[3]
    m1 = np.uint64(_K1_MUL)
    m2 = np.uint64(_K2_MUL)
    hard = np.uint32(0xFFFFFFFF)
    if lo < hi:
        cp, pos = _nb_dec(buf, lo)
        if use_fold:
            cp = fold_t[cp]
            if cp == hard:
                return -1
        c = cls[cp]
        while True:
            # look one ahead: a connector belongs to a token only before a word character
            has_next = pos < hi
            nxt_cp = np.uint32(0)
            nxt_c = np.uint8(0)
            if has_next:
                nxt_cp, pos = _nb_dec(buf, pos)
                if use_fold:
                    nxt_cp = fold_t[nxt_cp]
                    if nxt_cp == hard:
                        return -1
                nxt_c = cls[nxt_cp]
            if c == 5:
                pend = np.uint64(1)
            else:
                if pend and started:
                    k1 = k1 * m1 + np.uint64(32)
                    k2 = k2 * m2 + np.uint64(32)
                pend = np.uint64(0)
                started = np.uint64(1)
                k1 = k1 * m1 + np.uint64(cp)
                k2 = k2 * m2 + np.uint64(cp)
            if c == 1 or c == 2:
                v = np.uint64(_ZERO) if c == 2 else np.uint64(cp)
                if not in_tok:
                    in_tok = True
                    h = seed
                h = h * mul + v
            elif c == 4 and in_tok and (nxt_c == 1 or nxt_c == 2):
                h = h * mul + np.uint64(cp)
            else:
                if in_tok:
                    out[m] = _nb_fmix64(h)
                    m += 1
                    in_tok = False
                if c == 3:
                    out[m] = _nb_fmix64(seed * mul + np.uint64(cp))
                    m += 1
            if not has_next:
                break
            cp = nxt_cp
            c = nxt_c
    if in_tok:
        out[m] = _nb_fmix64(h)
        m += 1
    state[0] = k1
    state[1] = k2
    state[2] = started
    state[3] = pend
    return m


@_kernels.njit(cache=True, nogil=True, inline="always")
def _nb_shingle(tok, j, k):
    h = np.uint64(k)
    mul = np.uint64(_SH_MUL)
    for t in range(j, j + k):
        h = h * mul + tok[t]
    return _nb_fmix64(h)


@_kernels.njit(cache=True, nogil=True, inline="always")
def _nb_permute_min(h32, a, b, sig):
    # datasketch affine32: fmix32 pre-mix, then a*h+b mod 2**32 for every permutation
    # numba widens 32-bit integer arithmetic to 64 bits, so the mod 2**32 is spelled out
    m32 = np.uint64(0xFFFFFFFF)
    h = np.uint64(h32)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & m32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & m32
    h ^= h >> np.uint64(16)
    for k in range(a.shape[0]):
        # branch-free so that LLVM vectorises the loop over permutations
        v = np.uint32((np.uint64(a[k]) * h + np.uint64(b[k])) & m32)
        sig[k] = min(sig[k], v)


@_kernels.njit(cache=True, nogil=True)
def _nb_update(tok, m, n, a, b, sig):
    """Fold the shingles of tok[:m] (n-grams, all starting in it) into sig."""
    for j in range(m - n + 1):
        _nb_permute_min(_nb_shingle(tok, j, n) >> np.uint64(32), a, b, sig)


@_kernels.njit(cache=True, nogil=True)
def _nb_batch(cps, offsets, cls, fold_t, use_fold, n, a, b, do_sig, sigs, ntok, keys, hard):
    """Signature, token count and exact key of each UTF-8 document cps[offsets[d]:offsets[d+1]];
    hard[d] is set (and nothing else) for a document that needs Python's NFKC first."""
    longest = 0
    for d in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[d + 1] - offsets[d])
    tok = np.empty(longest + 1, dtype=np.uint64)
    state = np.empty(4, dtype=np.uint64)
    for d in range(offsets.shape[0] - 1):
        state[0] = np.uint64(_K1_SEED)
        state[1] = np.uint64(_K2_SEED)
        state[2] = 0
        state[3] = 0
        m = _nb_scan(cps, offsets[d], offsets[d + 1], cls, fold_t, use_fold, tok, state)
        if m < 0:
            hard[d] = True
            continue
        hard[d] = False
        keys[d, 0] = _nb_fmix64(state[0])
        keys[d, 1] = _nb_fmix64(state[1])
        ntok[d] = m
        if not do_sig:
            continue
        sig = sigs[d]
        sig[:] = np.uint32(0xFFFFFFFF)
        if m == 0:
            continue
        if m < n:
            _nb_permute_min(_nb_shingle(tok, 0, m) >> np.uint64(32), a, b, sig)
        else:
            _nb_update(tok, m, n, a, b, sig)


# ------------------------------------------------------------------ Python entry points
def fold(text: str) -> str:
    """What shingles are made of: NFKC, lower case (digits and punctuation are handled by the
    tokenizer). Same first step as `corpuskit.core.text.shingle_tokens`."""
    return unicodedata.normalize("NFKC", text).lower()


def _utf8(s: str) -> np.ndarray:
    # UTF-8 is CPython's fastest codec (a copy for ASCII); the kernel decodes it. surrogatepass:
    # a lone surrogate stays one code point, as in the str
    return np.frombuffer(s.encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _windows(text: str, size: int, prefold: Callable[[str], str] | None = None) -> Iterator[str]:
    """Cut a long text into pieces of about `size` characters at white space (never inside
    a token), one at a time (a 200 MB text is never copied whole); a piece without white
    space near its end is cut after a CJK character, and failing that (one giant "word") where
    it is. With `prefold` (a one-for-one character map such as `fold_t2s`), each piece comes
    folded and the cuts are placed by the folded characters: exactly the pieces of
    ``_windows(prefold(text), size)``."""
    start = 0
    n = len(text)
    while n - start > size:
        end = start + size
        cut = -1
        lo = max(start, end - 4096)
        near = text[lo:end] if prefold is None else prefold(text[lo:end])
        for j in range(end, lo, -1):
            if near[j - 1 - lo].isspace():
                cut = j
                break
        if cut < 0:
            for j in range(end, lo, -1):
                c = near[j - 1 - lo]
                if "\u3400" <= c <= "\u9fff" or "\u3040" <= c <= "\u30ff":
                    cut = j
                    break
        if cut <= start:
            cut = end
        yield text[start:cut] if prefold is None else prefold(text[start:cut])
        start = cut
    yield text[start:] if prefold is None else prefold(text[start:])


class MinHasher:
    """Computes datasketch-identical MinHash signatures (and exact-duplicate keys) of many
    documents at once."""

    def __init__(self, num_perm: int = 128, seed: int = 1, ngram: int = 5, window: int = WINDOW):
        if num_perm < 1:
            raise ValueError("num_perm must be >= 1")
        if ngram < 1:
            raise ValueError("ngram must be >= 1")
        self.num_perm = num_perm
        self.seed = seed
        self.ngram = ngram
        self.window = window

    # The permutations come from numpy.random (its import alone is a good part of a command's
    # start-up): drawn with the first document, like the tables below.
    @functools.cached_property
    def _perms(self) -> tuple[np.ndarray, np.ndarray]:
        return permutations(self.num_perm, self.seed)

    @property
    def a(self) -> np.ndarray:
        return self._perms[0]

    @property
    def b(self) -> np.ndarray:
        return self._perms[1]

    # The code-point tables (8.5 MB, read from the cache) load with the first document, so
    # that `corpuskit dedup` on empty input or a pipeline that never reaches dedup skips them.
    @property
    def cls(self) -> np.ndarray:
        return tables()[0]

    @property
    def fold(self) -> np.ndarray:
        return tables()[1]

    def signatures(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(signatures uint32 [len(texts), num_perm], token counts int64 [len(texts)]).
        A document without tokens has the all-2**32-1 signature and a count of 0."""
        sigs, ntok, _ = self.hash_documents(texts)
        return sigs, ntok

    def hash_documents(self, texts: Sequence[str], do_sig: bool = True,
                       prefold: Callable[[str], str] | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(signatures, token counts, exact keys [len(texts), 2] uint64). The exact key hashes
        the folded text (NFKC, lower case) with white space runs made one space and trimmed.
        `prefold`: a one-for-one character map (`corpuskit.core.zhscript.fold_t2s`) applied
        to every text first, the same as hashing ``[prefold(t) for t in texts]``; a long text is
        folded window by window, so that it is never copied whole."""
        d = len(texts)
        sigs = np.empty((d, self.num_perm if do_sig else 0), dtype=np.uint32)
        ntok = np.zeros(d, dtype=np.int64)
        keys = np.zeros((d, 2), dtype=np.uint64)
        small = [i for i, t in enumerate(texts) if len(t) <= self.window]
        if len(small) == d:
            self._batch(texts if prefold is None else [prefold(t) for t in texts], do_sig, sigs, ntok, keys)
            return sigs, ntok, keys
        if small:
            s_sigs, s_ntok, s_keys = self.hash_documents([texts[i] for i in small], do_sig, prefold)
            sigs[small], ntok[small], keys[small] = s_sigs, s_ntok, s_keys
        for i, t in enumerate(texts):
            if len(t) > self.window:
                sig, ntok[i], keys[i] = self._long(t, do_sig, prefold)
                if do_sig:
                    sigs[i] = sig
        return sigs, ntok, keys

    def _batch(self, texts: Sequence[str], do_sig: bool, sigs: np.ndarray, ntok: np.ndarray,
               keys: np.ndarray) -> None:
        hard = np.zeros(len(texts), dtype=np.bool_)
        self._run(list(texts), True, do_sig, sigs, ntok, keys, hard)
        if hard.any():
            # texts the table cannot fold character by character: Python's NFKC, then the
            # kernel on the folded text
            idx = np.flatnonzero(hard)
            h_sigs = np.empty((len(idx), sigs.shape[1]), dtype=np.uint32)
            h_ntok = np.zeros(len(idx), dtype=np.int64)
            h_keys = np.zeros((len(idx), 2), dtype=np.uint64)
            h_hard = np.zeros(len(idx), dtype=np.bool_)
            self._run([fold(texts[i]) for i in idx], False, do_sig, h_sigs, h_ntok, h_keys, h_hard)
            sigs[idx], ntok[idx], keys[idx] = h_sigs, h_ntok, h_keys

    def _run(self, texts: list[str], use_fold: bool, do_sig: bool, sigs: np.ndarray,
             ntok: np.ndarray, keys: np.ndarray, hard: np.ndarray) -> None:
        enc = [t.encode("utf-8", "surrogatepass") for t in texts]
        lens = np.fromiter(map(len, enc), dtype=np.int64, count=len(enc))
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        cps = np.frombuffer(b"".join(enc), dtype=np.uint8)
        _nb_batch(cps, offsets, self.cls, self.fold, use_fold, self.ngram, self.a, self.b, do_sig,
                  sigs, ntok, keys, hard)

    def _pieces(self, text: str, prefold: Callable[[str], str] | None = None):
        """(token hashes, state) window by window of a long text; the exact-key state runs on."""
        state = np.array([_K1_SEED, _K2_SEED, 0, 0], dtype=np.uint64)
        for piece in _windows(text, self.window, prefold):
            cps = _utf8(piece)
            tok = np.empty(len(cps) + 1, dtype=np.uint64)
            m = _nb_scan(cps, 0, len(cps), self.cls, self.fold, True, tok, state)
            if m < 0:
                cps = _utf8(fold(piece))
                tok = np.empty(len(cps) + 1, dtype=np.uint64)
                m = _nb_scan(cps, 0, len(cps), self.cls, self.fold, False, tok, state)
            yield tok[:m], state

    def _long(self, text: str, do_sig: bool = True, prefold: Callable[[str], str] | None = None
              ) -> tuple[np.ndarray, int, np.ndarray]:
        """One long document, window by window, carrying the last n-1 tokens over."""
        n = self.ngram
        sig = np.full(self.num_perm, MAX_HASH, dtype=np.uint32)
        carry = np.empty(0, dtype=np.uint64)
        total = 0
        state = np.array([_K1_SEED, _K2_SEED, 0, 0], dtype=np.uint64)
        for toks, st in self._pieces(text, prefold):
            state = st
            total += len(toks)
            if not do_sig:
                continue
            tok = np.concatenate([carry, toks])
            m = len(tok)
            if m >= n:
                _nb_update(tok, m, n, self.a, self.b, sig)
                carry = tok[m - n + 1:]
            else:
                carry = tok
        if do_sig and 0 < total < n:
            _nb_permute_min(_nb_shingle(carry, 0, len(carry)) >> np.uint64(32), self.a, self.b, sig)
        key = np.array([_fmix64(int(state[0])), _fmix64(int(state[1]))], dtype=np.uint64)
        return sig, total, key

    def token_hashes(self, text: str, prefold: Callable[[str], str] | None = None) -> np.ndarray:
        """The 64-bit token hashes of a document, in order (to check the kernel's tokens
        against `corpuskit.core.text.shingle_tokens`)."""
        parts = [t for t, _ in self._pieces(text, prefold)]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)

    def exact_key(self, text: str) -> tuple[int, int]:
        _, _, keys = self.hash_documents([text], do_sig=False)
        return int(keys[0, 0]), int(keys[0, 1])

    def shingle_set(self, text: str, prefold: Callable[[str], str] | None = None) -> np.ndarray:
        """Sorted unique 64-bit shingle hashes of a document (for exact Jaccard)."""
        n = self.ngram
        tok = self.token_hashes(text, prefold)
        if len(tok) == 0:
            return np.empty(0, dtype=np.uint64)
        return sorted_unique(_shingles_of_tokens(tok, min(n, len(tok))))


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """np.unique(x) for a 1-D array, by a sort and a neighbour comparison: 3-5x faster than
    numpy 2's np.unique (which hashes first) on arrays of a few thousand 64-bit hashes."""
    s = np.sort(x)
    if len(s) < 2:
        return s
    first = np.empty(len(s), dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    return s[first]


def exact_key_reference(text: str) -> tuple[int, int]:
    """The exact key computed the slow, obvious way (for tests)."""
    norm = " ".join(fold(text).split())
    k1, k2 = _K1_SEED, _K2_SEED
    for ch in norm:
        k1 = (k1 * _K1_MUL + ord(ch)) & M64
        k2 = (k2 * _K2_MUL + ord(ch)) & M64
    return _fmix64(k1), _fmix64(k2)


@_kernels.njit(cache=True, nogil=True)
def _shingles_of_tokens(tok, n):
    m = tok.shape[0]
    out = np.empty(m - n + 1, dtype=np.uint64)
    for j in range(m - n + 1):
        out[j] = _nb_shingle(tok, j, n)
    return out


def jaccard_exact(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays (two empty sets: 0)."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 0:
        return 0.0
    # each element of the smaller set looked up in the larger by binary search: 4-5x faster than
    # np.intersect1d, which concatenates and sorts both again
    at = np.searchsorted(b, a)
    at[at == len(b)] = 0
    inter = int(np.count_nonzero(b[at] == a))
    return inter / (len(a) + len(b) - inter)


# ------------------------------------------------------------------ LSH
def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band of each signature ([n, bands] uint64); a band's key mixes its
    index in, so equal keys in one band column mean equal rows in that band."""
    n = sigs.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(bands):
            h = np.full(n, np.uint64(j + 1) * np.uint64(_SH_MUL), dtype=np.uint64)
            for c in range(j * rows, (j + 1) * rows):
                h = h * np.uint64(_TOK_MUL) + sigs[:, c].astype(np.uint64)
            h ^= h >> np.uint64(33)
            h *= np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(33)
            out[:, j] = h
    return out


def catch_probability(j: float, bands: int, rows: int) -> float:
    """Probability that a pair with Jaccard j shares at least one band: 1-(1-j^r)^b."""
    return 1.0 - (1.0 - j ** rows) ** bands


@functools.lru_cache(maxsize=32)
def optimal_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising the equally weighted false positive + false negative areas
    below / above the threshold: datasketch's own MinHashLSH optimiser (weights 0.5, 0.5)."""
    from datasketch.lsh import _optimal_param

    b, r = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(b), int(r)


def estimate_jaccard(sigs_a: np.ndarray, sigs_b: np.ndarray) -> np.ndarray:
    """Row-wise share of equal signature values (datasketch's MinHash.jaccard)."""
    return np.count_nonzero(sigs_a == sigs_b, axis=1) / sigs_a.shape[1]

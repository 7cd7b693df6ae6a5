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
batch of documents: it splits them into the tokens of `corpuskit.text.shingle_tokens` (the
same tokens: a test compares them), hashes tokens and n-grams of them with integer
arithmetic, and applies all permutations in a SIMD inner loop, with no Python object per
token or shingle.

Tokens (see `corpuskit.text.shingle_tokens`): the text is NFKC-folded and lower-cased, digits
become 0, punctuation goes; a CJK character is one token, so a run of Chinese gives character
n-grams and spaced text word n-grams, mixed text both. A document with fewer than n tokens has
one shingle of all its tokens; one without any token has no shingle and an "empty" signature
(all 2**32-1, as datasketch's empty MinHash).
"""
from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

import numpy as np

from .text import CJK_RANGES

try:  # numba is a runtime dependency; the import is here so the error names it
    import numba
except ImportError as e:  # pragma: no cover
    raise ImportError("corpuskit's dedup needs numba (pip install numba)") from e

MAX_HASH = np.uint32(0xFFFFFFFF)
M64 = (1 << 64) - 1

# Character classes of the code-point table.
_OTHER, _WORD, _DIGIT, _CJK, _CONN = 0, 1, 2, 3, 4
# Token hash: a polynomial over code points mod 2**64, then the 64-bit MurmurHash3 finalizer.
_TOK_SEED = 0x9E3779B97F4A7C15
_TOK_MUL = 0x100000001B3  # FNV-64 prime (odd, so the polynomial map is invertible mod 2**64)
# Shingle hash: a polynomial over token hashes, then the finalizer, top 32 bits.
_SH_MUL = 0xD6E8FEB86659FD93
_ZERO = ord("0")

# Documents longer than this (code points) are hashed in windows cut at white space, so a
# 50 MB document needs a few MB of work space, not hundreds.
WINDOW = 1 << 20


def permutations(num_perm: int = 128, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b), drawn exactly as it draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


@functools.lru_cache(maxsize=1)
def char_classes() -> np.ndarray:
    """Class of every code point, as `corpuskit.text.WORD_RE` sees it: word character
    (str.isalnum, as re's \\w minus "_"), decimal digit (re's \\d, folded to 0), CJK (a token
    by itself), inner connector (' ’ . -, kept between two word characters), other."""
    n = 0x110000
    chars = "".join(map(chr, range(n)))
    # surrogates cannot go through str methods one by one, but isalnum() is False for them
    alnum = np.fromiter((c.isalnum() for c in chars), dtype=bool, count=n)
    dec = np.fromiter((c.isdecimal() for c in chars), dtype=bool, count=n)
    cls = np.zeros(n, dtype=np.uint8)
    cls[alnum] = _WORD
    cls[dec] = _DIGIT
    ranges = CJK_RANGES
    i = 0
    while i < len(ranges):
        lo = ord(ranges[i])
        if i + 2 < len(ranges) and ranges[i + 1] == "-":
            hi = ord(ranges[i + 2])
            i += 3
        else:
            hi = lo
            i += 1
        cls[lo:hi + 1] = _CJK
    for c in "'\u2019.-":
        cls[ord(c)] = _CONN
    return cls


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
@numba.njit(cache=True, nogil=True, inline="always")
def _nb_fmix64(h):
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@numba.njit(cache=True, nogil=True)
def _nb_tokens(cps, lo, hi, cls, out):
    """Token hashes of cps[lo:hi] into out; returns how many (WORD_RE's tokenisation)."""
    m = 0
    in_tok = False
    h = np.uint64(0)
    seed = np.uint64(_TOK_SEED)
    mul = np.uint64(_TOK_MUL)
    i = lo
    while i < hi:
        cp = cps[i]
        c = cls[cp]
        if c == 1 or c == 2:
            if c == 2:
                cp = np.uint32(_ZERO)
            if not in_tok:
                in_tok = True
                h = seed
            h = h * mul + np.uint64(cp)
        elif c == 4 and in_tok and i + 1 < hi and (cls[cps[i + 1]] == 1 or cls[cps[i + 1]] == 2):
            h = h * mul + np.uint64(cp)
        else:
            if in_tok:
                out[m] = _nb_fmix64(h)
                m += 1
                in_tok = False
            if c == 3:
                out[m] = _nb_fmix64(seed * mul + np.uint64(cp))
                m += 1
        i += 1
    if in_tok:
        out[m] = _nb_fmix64(h)
        m += 1
    return m


@numba.njit(cache=True, nogil=True, inline="always")
def _nb_shingle(tok, j, k):
    h = np.uint64(k)
    mul = np.uint64(_SH_MUL)
    for t in range(j, j + k):
        h = h * mul + tok[t]
    return _nb_fmix64(h)


@numba.njit(cache=True, nogil=True, inline="always")
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


@numba.njit(cache=True, nogil=True)
def _nb_update(tok, m, n, a, b, sig):
    """Fold the shingles of tok[:m] (n-grams, all starting in it) into sig."""
    for j in range(m - n + 1):
        _nb_permute_min(_nb_shingle(tok, j, n) >> np.uint64(32), a, b, sig)


@numba.njit(cache=True, nogil=True)
def _nb_batch(cps, offsets, cls, n, a, b, sigs, ntok):
    """Signatures of the documents cps[offsets[d]:offsets[d+1]] (each shorter than WINDOW)."""
    longest = 0
    for d in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[d + 1] - offsets[d])
    tok = np.empty(longest + 1, dtype=np.uint64)
    for d in range(offsets.shape[0] - 1):
        sig = sigs[d]
        sig[:] = np.uint32(0xFFFFFFFF)
        m = _nb_tokens(cps, offsets[d], offsets[d + 1], cls, tok)
        ntok[d] = m
        if m == 0:
            continue
        if m < n:
            _nb_permute_min(_nb_shingle(tok, 0, m) >> np.uint64(32), a, b, sig)
        else:
            _nb_update(tok, m, n, a, b, sig)


# ------------------------------------------------------------------ Python entry points
def fold(text: str) -> str:
    """What shingles are made of: NFKC, lower case (digits and punctuation are handled by the
    tokenizer). Same first step as `corpuskit.text.shingle_tokens`."""
    return unicodedata.normalize("NFKC", text).lower()


def _codepoints(s: str) -> np.ndarray:
    # surrogatepass: a lone surrogate is one code point, like in the str
    return np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _windows(text: str, size: int) -> list[str]:
    """Cut a long text into pieces of about `size` characters at white space (never inside
    a token); a piece without white space near its end is cut after a CJK character, and
    failing that (one giant "word") where it is."""
    out = []
    start = 0
    n = len(text)
    while n - start > size:
        end = start + size
        cut = -1
        for j in range(end, max(start, end - 4096), -1):
            if text[j - 1].isspace():
                cut = j
                break
        if cut < 0:
            for j in range(end, max(start, end - 4096), -1):
                if "\u3400" <= text[j - 1] <= "\u9fff" or "\u3040" <= text[j - 1] <= "\u30ff":
                    cut = j
                    break
        if cut <= start:
            cut = end
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


class MinHasher:
    """Computes datasketch-identical MinHash signatures of many documents at once."""

    def __init__(self, num_perm: int = 128, seed: int = 1, ngram: int = 5, window: int = WINDOW):
        if num_perm < 1:
            raise ValueError("num_perm must be >= 1")
        if ngram < 1:
            raise ValueError("ngram must be >= 1")
        self.num_perm = num_perm
        self.seed = seed
        self.ngram = ngram
        self.window = window
        self.a, self.b = permutations(num_perm, seed)
        self.cls = char_classes()

    def signatures(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(signatures uint32 [len(texts), num_perm], token counts int64 [len(texts)]).
        A document without tokens has the all-2**32-1 signature and a count of 0."""
        d = len(texts)
        sigs = np.empty((d, self.num_perm), dtype=np.uint32)
        ntok = np.zeros(d, dtype=np.int64)
        small = [i for i, t in enumerate(texts) if len(t) <= self.window]
        if len(small) == d:
            self._batch(texts, sigs, ntok)
        else:
            if small:
                s_sigs = np.empty((len(small), self.num_perm), dtype=np.uint32)
                s_ntok = np.zeros(len(small), dtype=np.int64)
                self._batch([texts[i] for i in small], s_sigs, s_ntok)
                sigs[small] = s_sigs
                ntok[small] = s_ntok
            for i, t in enumerate(texts):
                if len(t) > self.window:
                    sigs[i], ntok[i] = self._long(t)
        return sigs, ntok

    def _batch(self, texts: Sequence[str], sigs: np.ndarray, ntok: np.ndarray) -> None:
        folded = [fold(t) for t in texts]
        lens = np.fromiter(map(len, folded), dtype=np.int64, count=len(folded))
        offsets = np.zeros(len(folded) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        cps = _codepoints("".join(folded))
        _nb_batch(cps, offsets, self.cls, self.ngram, self.a, self.b, sigs, ntok)

    def _long(self, text: str) -> tuple[np.ndarray, int]:
        """One long document, window by window, carrying the last n-1 tokens over."""
        n = self.ngram
        sig = np.full(self.num_perm, MAX_HASH, dtype=np.uint32)
        carry = np.empty(0, dtype=np.uint64)
        total = 0
        for piece in _windows(text, self.window):
            cps = _codepoints(fold(piece))
            tok = np.empty(len(carry) + len(cps) + 1, dtype=np.uint64)
            tok[:len(carry)] = carry
            m = _nb_tokens(cps, 0, len(cps), self.cls, tok[len(carry):])
            total += m
            m += len(carry)
            if m >= n:
                _nb_update(tok, m, n, self.a, self.b, sig)
                carry = tok[m - n + 1:m].copy()
            else:
                carry = tok[:m].copy()
        if 0 < total < n:
            _nb_permute_min(_nb_shingle(carry, 0, len(carry)) >> np.uint64(32), self.a, self.b, sig)
        return sig, total

    def shingle_set(self, text: str) -> np.ndarray:
        """Sorted unique 64-bit shingle hashes of a document (for exact Jaccard)."""
        parts = []
        n = self.ngram
        carry = np.empty(0, dtype=np.uint64)
        total = 0
        for piece in _windows(text, self.window):
            cps = _codepoints(fold(piece))
            tok = np.empty(len(carry) + len(cps) + 1, dtype=np.uint64)
            tok[:len(carry)] = carry
            m = _nb_tokens(cps, 0, len(cps), self.cls, tok[len(carry):])
            total += m
            m += len(carry)
            if m >= n:
                parts.append(_shingles_of_tokens(tok[:m], n))
                carry = tok[m - n + 1:m].copy()
            else:
                carry = tok[:m].copy()
        if 0 < total < n:
            parts.append(_shingles_of_tokens(carry, len(carry)))
        if not parts:
            return np.empty(0, dtype=np.uint64)
        return np.unique(np.concatenate(parts))


@numba.njit(cache=True, nogil=True)
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
    inter = len(np.intersect1d(a, b, assume_unique=True))
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

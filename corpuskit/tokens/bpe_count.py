"""Exact cl100k_base / o200k_base token counts through a cache of pre-tokenised pieces.

tiktoken's ``encode_ordinary(text)`` is, by construction, the concatenation over the matches of
the encoding's pre-tokenisation regex (the *pieces*: a word with its leading space, a number
of up to three digits, a punctuation run, a white-space run) of the BPE tokens of each piece,
and a piece's tokens depend on the piece alone. Natural text repeats its pieces heavily (a
few tens of thousands of distinct pieces make up a megabyte of English), so:

* one compiled kernel (numba) walks the code points of a batch of documents and splits them
  exactly as the regex does (a hand-written matcher of each of the two patterns, below, over a
  shipped table of the Unicode classes they use, as tiktoken's Rust regex knows them: see
  `class_table`);
* each piece is looked up in an open-addressing hash table keyed by its code points (compared
  in full on a hit, so a hash collision cannot give a wrong count); a hit adds the cached token
  ids to the document's count and to the token-id histogram;
* a piece seen for the first time is BPE-encoded in the same kernel by a step-for-step copy of
  tiktoken's own merge loop (``_byte_pair_merge``) over the same ranks, and stored. Pieces
  longer than MAX_PIECE code points are encoded by tiktoken itself
  (``CoreBPE.encode_single_piece``, the step encode_ordinary applies to each piece) every time;
* documents mostly in scripts written without spaces (Chinese, Japanese, Thai...), where a
  piece is a whole clause and rarely repeats, go straight to tiktoken's encode_ordinary.

So the counts and ids are tiktoken's token for token (tests/test_bpe_count.py compares them on
English, Chinese, mixed scripts, emoji, white space runs, surrogates, every code point, and
hypothesis-generated text). Text that spells a special token (``<|endoftext|>``) is ordinary
text, as in encode_ordinary.

Memory bound: the cache holds at most MAX_ENTRIES pieces in a table of TABLE_SLOTS slots
(8 + 4 * 4 bytes a slot: 24 MB), their code points (at most MAX_CODEPOINTS: 32 MB) and token ids
(about MAX_IDS: 16 MB); when the next batch could pass a bound the cache is emptied and
refills from the text that follows. About 72 MB per tokenizer at most; the table's pages are
all touched after a few thousand pieces, the pools grow as they fill.
"""
from __future__ import annotations

import functools
import lzma
import sys
import threading
from collections.abc import Sequence

import numpy as np

from corpuskit.core.assets import DATA_DIR as ASSETS
from corpuskit.core.jit import Kernels
from corpuskit.core.records import fix_surrogates
from corpuskit.tokens.encodings import tiktoken_encoding

# numba kernels, compiled (or loaded from numba's cache) on first use: see core/jit.py
_kernels = Kernels(globals())

# class bits of the code-point table
F_L = 1      # \p{L}
F_N = 2      # \p{N}
F_S = 4      # \s (Unicode White_Space)
F_CRLF = 8   # \r or \n
F_U = 16     # [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]  (o200k_base)
F_W = 32     # [\p{Ll}\p{Lm}\p{Lo}\p{M}]        (o200k_base)

MODE_CL100K = 0
MODE_O200K = 1
MODES = {"cl100k_base": MODE_CL100K, "o200k_base": MODE_O200K}

MAX_PIECE = 48                 # code points; longer pieces are encoded each time, not stored
TABLE_SLOTS = 1 << 20          # power of two
MAX_ENTRIES = 700_000          # load factor <= 2/3
MAX_CODEPOINTS = 8 << 20       # 32 MB of uint32
MAX_IDS = 4 << 20              # 16 MB of uint32
# per scan call: long pieces handed back to Python
LONG_BUF = 1 << 12

_APOS = 39


TABLE_FILE = ASSETS / "tiktoken" / "pretok_classes.u8.xz"


def regex_class_table() -> np.ndarray:
    """uint8 flags for every code point from the installed `regex` module's Unicode classes
    (the starting point of `derive_class_table`)."""
    import regex

    cps = np.arange(0x110000, dtype=np.uint32)
    cps[0xD800:0xE000] = 0xFFFD  # surrogates never reach the kernel (repaired first)
    s = cps.astype("<u4").tobytes().decode("utf-32-le")
    table = np.zeros(0x110000, dtype=np.uint8)
    for pat, bit in ((r"\p{L}+", F_L), (r"\p{N}+", F_N), (r"\s+", F_S), (r"[\r\n]+", F_CRLF),
                     (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+", F_U), (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+", F_W)):
        for m in regex.finditer(pat, s):
            table[m.start():m.end()] |= bit
    table[0xD800:0xE000] = table[0xFFFD]
    return table


@functools.cache
def class_table() -> np.ndarray:
    """uint8 flags for every code point, as tiktoken's regex engine classifies them.

    Shipped (data/tiktoken/pretok_classes.u8.xz, 2.6 kB) rather than built from `unicodedata`
    or the `regex` module, because each follows its own Unicode version: Python 3.11's
    unicodedata is Unicode 14, `regex` 2026.11 is Unicode 17, and tiktoken 0.14's Rust regex
    sits between them (a code point assigned after its version is "unassigned" there, neither a
    letter nor a number, and pre-tokenises differently). `derive_class_table` builds it;
    tests/test_bpe_count.py checks every code point against the installed tiktoken."""
    table = np.frombuffer(lzma.decompress(TABLE_FILE.read_bytes()), dtype=np.uint8)
    if table.shape != (0x110000,):  # pragma: no cover - a broken install
        raise ValueError(f"{TABLE_FILE} is corrupt; reinstall corpuskit")
    return table


PROBES = ("{}'S", "{}000")


def probe_mismatches(table: np.ndarray, template: str, name: str, chunk: int = 64,
                     codepoints_: np.ndarray | None = None) -> set[int]:
    """Code points c whose probe text `template.format(c, c)` gets a different token count from
    tiktoken than from a PieceCache using `table`. Probes are joined `chunk` at a time with
    newlines (few tiktoken calls); the chunks that differ are then probed one by one."""
    enc = tiktoken_encoding(name)
    pc = PieceCache(enc, name)
    pc.cls = table
    cps = codepoints_ if codepoints_ is not None else np.array(
        [c for c in range(0x110000) if not 0xD800 <= c < 0xE000], dtype=np.int64)
    chars = [chr(c) for c in cps.tolist()]

    def differ(docs: list[str]) -> np.ndarray:
        ref = enc.encode_ordinary_batch(docs, num_threads=2)
        ours, _ = pc.count(docs)
        return np.flatnonzero(np.fromiter(map(len, ref), np.int64, len(ref)) != ours)

    docs = ["\n".join(template.format(c, c) for c in chars[k:k + chunk])
            for k in range(0, len(chars), chunk)]
    bad = differ(docs)
    if not len(bad):
        return set()
    cand = np.concatenate([np.arange(d * chunk, min(len(cps), (d + 1) * chunk)) for d in bad])
    single = differ([template.format(chars[i], chars[i]) for i in cand])
    return set(cps[cand[single]].tolist())


def derive_class_table() -> np.ndarray:
    """The class table of the installed tiktoken: the `regex` module's classes, with every code
    point that tiktoken's engine does not know (probed: PROBES, both encodings) made
    unassigned. Takes a minute; `python -m corpuskit.tokens.bpe_count --write-table` stores it."""
    table = regex_class_table()
    for template in PROBES:
        for name in MODES:
            for c in probe_mismatches(table, template, name):
                table[c] = 0
    return table


# ------------------------------------------------------------------ the two pre-tokenisers
@_kernels.njit(cache=True, nogil=True, inline="always")
def _ci(c, lower):
    """c case-insensitively equal to the ASCII lower-case letter `lower` (Unicode simple case
    folding adds U+017F LONG S to s; no other letter of the contractions has extra forms)."""
    return c == lower or c == lower - 32 or (lower == 115 and c == 0x17F)


@_kernels.njit(cache=True, nogil=True, inline="always")
def _ws_end(cps, cls, i, n, dollar_first):
    r"""End of the white-space piece at i (cps[i] is white space). cl100k_base tries
    ``\s++$ | \s*[\r\n] | \s+(?!\S) | \s``, o200k_base ``\s*[\r\n]+ | \s+(?!\S) | \s+``:
    the same pieces except for a run that reaches the end of the text and holds a line break,
    which cl100k_base takes whole and o200k_base cuts after its last line break."""
    k = i
    while k < n and cls[cps[k]] & F_S:
        k += 1
    if k == n and dollar_first:
        return n
    r = k - 1
    while r >= i and not (cls[cps[r]] & F_CRLF):
        r -= 1
    if r >= i:
        return r + 1
    if k == n:
        return n
    if k - 1 > i:
        return k - 1
    return i + 1


@_kernels.njit(cache=True, nogil=True, inline="always")
def _digits_punct_ws(cps, cls, i, n, cl100k):
    """The patterns' last three alternatives, the same in both but for o200k's slash:
    \\p{N}{1,3}, then ` ?[^\\s\\p{L}\\p{N}]+` followed by line breaks (cl100k: [\\r\\n]*;
    o200k: [\\r\\n/]*), then the white-space alternatives."""
    c = cps[i]
    f = cls[c]
    if f & F_N:
        j = i + 1
        while j < n and j < i + 3 and cls[cps[j]] & F_N:
            j += 1
        return j
    j = i + 1 if c == 32 else i
    if j < n and not (cls[cps[j]] & (F_S | F_L | F_N)):
        j += 1
        while j < n and not (cls[cps[j]] & (F_S | F_L | F_N)):
            j += 1
        while j < n and (cls[cps[j]] & F_CRLF or (not cl100k and cps[j] == 47)):
            j += 1
        return j
    return _ws_end(cps, cls, i, n, cl100k)


@_kernels.njit(cache=True, nogil=True, inline="always")
def _contraction_end(cps, q, n):
    # (?i:'s|'t|'re|'ve|'m|'ll|'d) at q: where it ends, or q when there is none (cl100k's
    # '(?i:[sdmt]|ll|ve|re) alternative and o200k's optional suffix are the same set)
    if q + 1 < n and cps[q] == _APOS:
        c1 = cps[q + 1]
        if _ci(c1, 115) or _ci(c1, 116) or _ci(c1, 109) or _ci(c1, 100):
            return q + 2
        if q + 2 < n:
            c2 = cps[q + 2]
            if (_ci(c1, 114) and _ci(c2, 101)) or (_ci(c1, 118) and _ci(c2, 101)) \
                    or (_ci(c1, 108) and _ci(c2, 108)):
                return q + 3
    return q


@_kernels.njit(cache=True, nogil=True)
def _next_cl100k(cps, cls, i, n):
    c = cps[i]
    f = cls[c]
    # '(?i:[sdmt]|ll|ve|re)
    if c == _APOS:
        e = _contraction_end(cps, i, n)
        if e != i:
            return e
    # [^\r\n\p{L}\p{N}]?+\p{L}++
    j = i
    if not (f & (F_L | F_N | F_CRLF)):
        j = i + 1
    if j < n and cls[cps[j]] & F_L:
        j += 1
        while j < n and cls[cps[j]] & F_L:
            j += 1
        return j
    return _digits_punct_ws(cps, cls, i, n, True)


@_kernels.njit(cache=True, nogil=True)
def _next_o200k(cps, cls, i, n):
    c = cps[i]
    f = cls[c]
    prefix = not (f & (F_L | F_N | F_CRLF))
    # [^\r\n\p{L}\p{N}]?[U]*[W]+(?i:...)?  -- with the optional first character, then without;
    # U* is greedy and gives back one character at a time until W+ can match
    for attempt in range(2):
        if attempt == 0 and not prefix:
            continue
        s = i + 1 if attempt == 0 else i
        e = s
        while e < n and cls[cps[e]] & F_U:
            e += 1
        p = e
        while p >= s:
            if p < n and cls[cps[p]] & F_W:
                q = p + 1
                while q < n and cls[cps[q]] & F_W:
                    q += 1
                return _contraction_end(cps, q, n)
            p -= 1
    # [^\r\n\p{L}\p{N}]?[U]+[W]*(?i:...)?
    for attempt in range(2):
        if attempt == 0 and not prefix:
            continue
        s = i + 1 if attempt == 0 else i
        if s < n and cls[cps[s]] & F_U:
            e = s + 1
            while e < n and cls[cps[e]] & F_U:
                e += 1
            while e < n and cls[cps[e]] & F_W:
                e += 1
            return _contraction_end(cps, e, n)
    return _digits_punct_ws(cps, cls, i, n, False)


@_kernels.njit(cache=True, nogil=True)
def _next(cps, cls, i, n, mode):
    if mode == 0:
        return _next_cl100k(cps, cls, i, n)
    return _next_o200k(cps, cls, i, n)


@_kernels.njit(cache=True, nogil=True)
def split_bounds(cps, cls, mode):
    """Piece end offsets of the whole of `cps` (one document): for tests."""
    n = cps.shape[0]
    out = np.empty(n, dtype=np.int64)
    m = 0
    i = 0
    while i < n:
        i = _next(cps, cls, i, n, mode)
        out[m] = i
        m += 1
    return out[:m]


# ------------------------------------------------------------------ BPE (tiktoken's, compiled)
@_kernels.njit(cache=True, nogil=True, inline="always")
def _bhash(buf, a, b):
    h = np.uint64(0xCBF29CE484222325) ^ np.uint64(b - a)
    for k in range(a, b):
        h = (h ^ np.uint64(buf[k])) * np.uint64(0x100000001B3)
    h ^= h >> np.uint64(31)
    if h == 0:
        h = np.uint64(1)
    return h


@_kernels.njit(cache=True, nogil=True)
def _build_ranks(pool, off, ln, rkeys, rvals):
    mask = rkeys.shape[0] - 1
    for r in range(off.shape[0]):
        if ln[r] < 0:
            continue
        h = _bhash(pool, off[r], off[r] + ln[r])
        s = np.int64(h & np.uint64(mask))
        while rkeys[s] != 0:
            s = (s + 1) & mask
        rkeys[s] = h
        rvals[s] = r


@_kernels.njit(cache=True, nogil=True)
def _rank_of(buf, a, b, pool, off, ln, rkeys, rvals):
    """The rank (= token id) of the bytes buf[a:b], or -1 if they are no token."""
    mask = rkeys.shape[0] - 1
    h = _bhash(buf, a, b)
    s = np.int64(h & np.uint64(mask))
    n = b - a
    while True:
        k = rkeys[s]
        if k == 0:
            return -1
        if k == h:
            r = rvals[s]
            if ln[r] == n:
                o = off[r]
                same = True
                for t in range(n):
                    if pool[o + t] != buf[a + t]:
                        same = False
                        break
                if same:
                    return r
        s = (s + 1) & mask


@_kernels.njit(cache=True, nogil=True)
def _bpe(buf, n, pool, off, ln, rkeys, rvals, pair, starts, ranks, toks, out):
    """tiktoken's encode_single_piece of the bytes buf[:n], step for step (CoreBPE's
    byte_pair_encode / _byte_pair_merge): the whole piece if it is a token, else merge the
    adjacent pair whose joined bytes have the lowest rank, leftmost first, until none is a
    token. Writes the ids to out and returns how many. pair[b0 * 256 + b1] is the rank of a
    two-byte token (-1: none); starts/ranks/toks are scratch of n + 1."""
    r = _rank_of(buf, 0, n, pool, off, ln, rkeys, rvals)
    if r >= 0:
        out[0] = r
        return 1
    big = np.int64(1) << np.int64(40)
    m = n + 1  # parts: start, rank of the pair that starts there, the part's own token
    for i in range(n + 1):
        starts[i] = i
        ranks[i] = big
    for i in range(n):
        toks[i] = _rank_of(buf, i, i + 1, pool, off, ln, rkeys, rvals)
    for i in range(n - 1):
        rr = pair[np.int64(buf[i]) * 256 + np.int64(buf[i + 1])]
        if rr >= 0:
            ranks[i] = rr
    while True:
        best = big
        bi = -1
        for i in range(m - 1):
            if ranks[i] < best:
                best = ranks[i]
                bi = i
        if bi < 0:
            break
        i = bi
        if i > 0:
            rr = _rank_of(buf, starts[i - 1], starts[i + 2], pool, off, ln, rkeys, rvals) \
                if i + 2 < m else -1
            ranks[i - 1] = rr if rr >= 0 else big
        rr = _rank_of(buf, starts[i], starts[i + 3], pool, off, ln, rkeys, rvals) if i + 3 < m else -1
        ranks[i] = rr if rr >= 0 else big
        toks[i] = best  # the merged part is the token whose rank was the pair's
        for k in range(i + 1, m - 1):
            starts[k] = starts[k + 1]
            ranks[k] = ranks[k + 1]
            toks[k] = toks[k + 1]
        m -= 1
    for i in range(m - 1):
        out[i] = toks[i]
    return m - 1


@_kernels.njit(cache=True, nogil=True, inline="always")
def _utf8(cps, a, b, buf):
    n = 0
    for k in range(a, b):
        c = cps[k]
        if c < 0x80:
            buf[n] = c
            n += 1
        elif c < 0x800:
            buf[n] = 0xC0 | (c >> 6)
            buf[n + 1] = 0x80 | (c & 0x3F)
            n += 2
        elif c < 0x10000:
            buf[n] = 0xE0 | (c >> 12)
            buf[n + 1] = 0x80 | ((c >> 6) & 0x3F)
            buf[n + 2] = 0x80 | (c & 0x3F)
            n += 3
        else:
            buf[n] = 0xF0 | (c >> 18)
            buf[n + 1] = 0x80 | ((c >> 12) & 0x3F)
            buf[n + 2] = 0x80 | ((c >> 6) & 0x3F)
            buf[n + 3] = 0x80 | (c & 0x3F)
            n += 4
    return n


# ------------------------------------------------------------------ the cache kernel
@_kernels.njit(cache=True, nogil=True, inline="always")
def _hash(cps, a, b):
    h = np.uint64(0xCBF29CE484222325) ^ np.uint64(b - a)
    for k in range(a, b):
        h = (h ^ np.uint64(cps[k])) * np.uint64(0x100000001B3)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(29)
    if h == 0:
        h = np.uint64(1)
    return h


@_kernels.njit(cache=True, nogil=True, inline="always")
def _stop(res, d, i, n_long, why):
    res[0] = d
    res[1] = i
    res[2] = n_long
    res[3] = why


@_kernels.njit(cache=True, nogil=True)
def _scan(cps, bounds, skip, d0, pos0, cls, mode, new_cap,
          keys, cp_off, cp_len, id_off, id_len, cp_pool, id_pool, state,
          pool, off, ln, rkeys, rvals, pair, buf, starts, ranks, toks, out,
          ntok, counts, long_a, long_b, long_doc, res):
    """Split documents d0.. (document d is cps[bounds[d]:bounds[d+1]]; those with skip[d] are
    left alone) from position pos0 and count every piece: ntok[d] += its token count,
    counts[id] += 1 for each of its ids. A piece not in the table is BPE-encoded (`_bpe`) and
    entered (at most new_cap new ones); pieces longer than MAX_PIECE are listed in long_* for
    the caller. res = [next document, next position, #long, why stopped: 0 done, 1 long list
    full, 2 cache full]. state = [entries, code points used, ids used]."""
    mask = keys.shape[0] - 1
    ndocs = bounds.shape[0] - 1
    n_long = 0
    n_new = 0
    cp_cap = cp_pool.shape[0]
    id_cap = id_pool.shape[0]
    d = d0
    i = pos0
    while d < ndocs:
        end = bounds[d + 1]
        if i < bounds[d]:
            i = bounds[d]
        if skip[d]:
            i = end
        while i < end:
            j = _next(cps, cls, i, end, mode)
            ln_ = j - i
            if ln_ > MAX_PIECE:
                if n_long == long_a.shape[0]:
                    _stop(res, d, i, n_long, 1)
                    return
                long_a[n_long] = i
                long_b[n_long] = j
                long_doc[n_long] = d
                n_long += 1
                i = j
                continue
            h = _hash(cps, i, j)
            slot = np.int64(h & np.uint64(mask))
            while True:
                k = keys[slot]
                if k == 0:
                    break
                if k == h and cp_len[slot] == ln_:
                    o = cp_off[slot]
                    same = True
                    for t in range(ln_):
                        if cp_pool[o + t] != cps[i + t]:
                            same = False
                            break
                    if same:
                        break
                slot = (slot + 1) & mask
            if keys[slot] == 0:  # a new piece: its BPE, then into the table
                nb = _utf8(cps, i, j, buf)
                nid = _bpe(buf, nb, pool, off, ln, rkeys, rvals, pair, starts, ranks, toks, out)
                if n_new == new_cap or state[1] + ln_ > cp_cap or state[2] + nid > id_cap:
                    _stop(res, d, i, n_long, 2)
                    return
                o = state[1]
                for t in range(ln_):
                    cp_pool[o + t] = cps[i + t]
                state[1] = o + ln_
                o = state[2]
                for t in range(nid):
                    id_pool[o + t] = out[t]
                state[2] = o + nid
                state[0] += 1
                n_new += 1
                keys[slot] = h
                cp_off[slot] = state[1] - ln_
                cp_len[slot] = ln_
                id_off[slot] = o
                id_len[slot] = nid
            il = id_len[slot]
            ntok[d] += il
            o = id_off[slot]
            for t in range(il):
                counts[id_pool[o + t]] += 1
            i = j
        d += 1
    _stop(res, d, 0, n_long, 0)


# Scripts written without spaces between words (Han, kana, Thai, Lao, Myanmar, Khmer): there a
# piece is a whole run of letters up to the next punctuation, nearly every one new, so the
# cache only adds work. Documents mostly in them go straight to tiktoken (routing is a matter
# of speed only: both ways give tiktoken's tokens).
NOSPACE_RANGES = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3005, 0x3007),
                  (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                  (0xF900, 0xFAFF), (0x20000, 0x3134F))
NOSPACE_SHARE = 0.2  # of a document's code points, white space included


@functools.cache
def nospace_table() -> np.ndarray:
    t = np.zeros(0x110000, np.uint8)
    for a, b in NOSPACE_RANGES:
        t[a:b + 1] = 1
    return t


@_kernels.njit(cache=True, nogil=True)
def _route(cps, bounds, nospace, share, out):
    """out[d] = 1 when document d has at least `share` of its code points in NOSPACE scripts."""
    for d in range(bounds.shape[0] - 1):
        a = bounds[d]
        b = bounds[d + 1]
        k = 0
        for i in range(a, b):
            k += nospace[cps[i]]
        out[d] = 1 if b > a and k >= share * (b - a) else 0


def codepoints(texts: Sequence[str]) -> tuple[str, np.ndarray, np.ndarray]:
    """(the documents joined, their code points as uint32, document bounds). Documents holding
    surrogates are repaired first, the way tiktoken's encode_ordinary does."""
    try:
        joined = "".join(texts)
        buf = joined.encode("utf-32-le")
    except UnicodeEncodeError:
        texts = [fix_surrogates(t) if not _utf8_ok(t) else t for t in texts]
        joined = "".join(texts)
        buf = joined.encode("utf-32-le")
    bounds = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=bounds[1:])
    return joined, np.frombuffer(buf, dtype=np.uint32), bounds


def _utf8_ok(t: str) -> bool:
    try:
        t.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def rank_tables(enc) -> tuple[np.ndarray, ...]:
    """The encoding's mergeable ranks as arrays for `_bpe`: the token bytes one after another
    (pool), each rank's offset and length (-1: no token has that rank), an open-addressing
    table from the bytes' hash to the rank, and the ranks of two-byte tokens by their bytes. Built once per encoding and process (~0.3 s)."""
    with _RANKS_LOCK:
        got = _RANKS.get(id(enc))
        if got is None or got[0] is not enc:
            got = _RANKS[id(enc)] = (enc, _rank_tables(enc))
        return got[1]


_RANKS: dict[int, tuple] = {}
_RANKS_LOCK = threading.Lock()


def _rank_tables(enc) -> tuple[np.ndarray, ...]:
    items = list(enc._mergeable_ranks.items())
    nr = max(r for _, r in items) + 1
    lens = np.fromiter((len(b) for b, _ in items), np.int64, len(items))
    rks = np.fromiter((r for _, r in items), np.int64, len(items))
    pool = np.frombuffer(b"".join(b for b, _ in items), np.uint8)
    off = np.zeros(nr, np.int64)
    ln = np.full(nr, -1, np.int64)
    off[rks] = np.concatenate(([0], np.cumsum(lens)[:-1]))
    ln[rks] = lens
    slots = 1 << int(np.ceil(np.log2(nr * 2)))
    rkeys = np.zeros(slots, np.uint64)
    rvals = np.zeros(slots, np.int64)
    _build_ranks(pool, off, ln, rkeys, rvals)
    pair = np.full(1 << 16, -1, np.int64)  # the two-byte tokens, looked up directly
    for b, r in items:
        if len(b) == 2:
            pair[b[0] * 256 + b[1]] = r
    return pool, off, ln, rkeys, rvals, pair


class PieceCache:
    """Exact token counts of one tiktoken encoding, through the piece cache (module doc).

    Not thread-safe: one call at a time per instance (the stage tokenises one batch at a time
    on its worker thread; the kernels release the GIL)."""

    def __init__(self, enc, name: str, table_slots: int = TABLE_SLOTS,
                 max_entries: int = MAX_ENTRIES, max_codepoints: int = MAX_CODEPOINTS,
                 max_ids: int = MAX_IDS, route: bool = True):
        if name not in MODES:
            raise ValueError(f"no pre-tokeniser for {name}")
        if table_slots & (table_slots - 1) or table_slots < 4:
            raise ValueError("table_slots must be a power of two")
        if max_codepoints < MAX_PIECE or max_entries < 1 or max_ids < 4 * MAX_PIECE:
            raise ValueError("the cache must hold at least one piece")
        self.enc = enc
        self._single = enc._core_bpe.encode_single_piece
        self.mode = MODES[name]
        self.n_vocab = enc.n_vocab
        self.cls = class_table()
        self.ranks = rank_tables(enc)
        self.table_slots = table_slots
        self.max_entries = max(1, min(max_entries, table_slots * 2 // 3))
        self.max_codepoints = max_codepoints
        self.max_ids = max_ids
        self.clears = 0
        self.route = route  # documents in scripts without spaces straight to tiktoken
        self.direct_docs = 0
        self._lock = threading.Lock()
        self._alloc()
        self._buf = np.empty(4 * MAX_PIECE, np.uint8)
        self._starts = np.empty(4 * MAX_PIECE + 1, np.int64)
        self._ranks = np.empty(4 * MAX_PIECE + 1, np.int64)
        self._toks = np.empty(4 * MAX_PIECE + 1, np.int64)
        self._out = np.empty(4 * MAX_PIECE, np.int64)
        self._long_a = np.empty(LONG_BUF, np.int64)
        self._long_b = np.empty(LONG_BUF, np.int64)
        self._long_doc = np.empty(LONG_BUF, np.int64)
        self._res = np.zeros(4, np.int64)

    def _alloc(self) -> None:
        # zeros/empty map pages lazily: memory grows with what is actually stored
        self.keys = np.zeros(self.table_slots, np.uint64)
        self.cp_off = np.zeros(self.table_slots, np.int32)
        self.cp_len = np.zeros(self.table_slots, np.int32)
        self.id_off = np.zeros(self.table_slots, np.int32)
        self.id_len = np.zeros(self.table_slots, np.int32)
        self.cp_pool = np.empty(self.max_codepoints, np.uint32)
        self.id_pool = np.empty(self.max_ids, np.uint32)
        self.state = np.zeros(3, np.int64)  # entries, code points used, ids used

    def clear(self) -> None:
        self.keys[:] = 0
        self.state[:] = 0
        self.clears += 1

    @property
    def entries(self) -> int:
        return int(self.state[0])

    def count(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(tokens per document, token-id histogram of length n_vocab)."""
        with self._lock:
            return self._count(texts)

    def _count(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        joined, cps, bounds = codepoints(texts)
        ntok = np.zeros(len(texts), np.int64)
        counts = np.zeros(self.n_vocab, np.int64)
        ndocs = len(texts)
        skip = np.zeros(ndocs, np.uint8)
        if self.route:
            _route(cps, bounds, nospace_table(), NOSPACE_SHARE, skip)
            self._direct(joined, bounds, skip, ntok, counts)
        d, pos = 0, 0
        res = self._res
        while d < ndocs:
            _scan(cps, bounds, skip, d, pos, self.cls, self.mode,
                  self.max_entries - int(self.state[0]), self.keys, self.cp_off, self.cp_len,
                  self.id_off, self.id_len, self.cp_pool, self.id_pool, self.state, *self.ranks,
                  self._buf, self._starts, self._ranks, self._toks, self._out, ntok, counts,
                  self._long_a, self._long_b, self._long_doc, res)
            d, pos, n_long, why = (int(x) for x in res)
            # pieces too long to keep: tiktoken's BPE of each, every time
            for a, b, doc in zip(self._long_a[:n_long].tolist(), self._long_b[:n_long].tolist(),
                                 self._long_doc[:n_long].tolist()):
                ids = self._single(joined[a:b].encode())
                ntok[doc] += len(ids)
                if ids:
                    np.add.at(counts, np.asarray(ids, np.int64), 1)
            if why == 2:  # a bound reached: start afresh
                self.clear()
        return ntok, counts

    def _direct(self, joined: str, bounds: np.ndarray, skip: np.ndarray, ntok: np.ndarray,
                counts: np.ndarray) -> None:
        """tiktoken's encode_ordinary for the documents marked in `skip`; one it cannot encode
        (its regex engine fails on huge white-space runs) is unmarked and goes to the cache."""
        ids = []
        for d in np.flatnonzero(skip).tolist():
            try:
                got = self.enc.encode_to_numpy(joined[bounds[d]:bounds[d + 1]], allowed_special=set(),
                                               disallowed_special=())
            except BaseException as e:  # noqa: BLE001 - pyo3's PanicException is a BaseException
                if isinstance(e, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
                    raise
                skip[d] = 0
                continue
            ntok[d] = got.size
            ids.append(got)
        if ids:
            counts += np.bincount(np.concatenate(ids), minlength=self.n_vocab)[: self.n_vocab]
        self.direct_docs += len(ids)

    def split(self, text: str) -> list[str]:
        """The pieces of one document (for tests: tiktoken's regex gives the same)."""
        _, cps, _ = codepoints([text])
        ends = split_bounds(cps, self.cls, self.mode).tolist()
        return [text[a:b] for a, b in zip([0, *ends], ends)] if _utf8_ok(text) else \
            [fix_surrogates(text)[a:b] for a, b in zip([0, *ends], ends)]


if __name__ == "__main__":  # python -m corpuskit.tokens.bpe_count --write-table
    if sys.argv[1:] != ["--write-table"]:
        sys.exit("usage: python -m corpuskit.tokens.bpe_count --write-table")
    t = derive_class_table()
    TABLE_FILE.write_bytes(lzma.compress(t.tobytes(), preset=9))
    changed = int(np.count_nonzero(t != regex_class_table()))
    print(f"wrote {TABLE_FILE} ({changed} code points unassigned for tiktoken but not for regex)")

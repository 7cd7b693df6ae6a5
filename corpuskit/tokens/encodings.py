"""The two OpenAI encodings we ship (cl100k_base, o200k_base): their patterns, special tokens
and rank files (corpuskit/data/tiktoken, checked against tiktoken's pinned SHA-256), and a
`tiktoken.Encoding` built from them offline."""
from __future__ import annotations

import hashlib
import lzma
from functools import cache
from typing import Any

from corpuskit.core.assets import DATA_DIR as ASSETS
from corpuskit.core.errors import CorpusKitError

# tiktoken_ext/openai_public.py (tiktoken 0.14, MIT): the SHA-256 of the published rank files,
# the pre-tokenisation patterns and the special tokens. Copied rather than imported because
# tiktoken's constructors download the ranks as they build the dict; a test checks that
# tiktoken's own constructors, fed our ranks, give the same Encoding.
_ENDOFTEXT = "<|endoftext|>"
_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PAT = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
TIKTOKEN_SPECS: dict[str, dict[str, Any]] = {
    "cl100k_base": {
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "n_vocab": 100277,  # the largest token id + 1 (a test checks it against the Encoding)
        "pat_str": _CL100K_PAT,
        "special_tokens": {
            _ENDOFTEXT: 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276,
        },
    },
    "o200k_base": {
        "sha256": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "n_vocab": 200019,
        "pat_str": _O200K_PAT,
        "special_tokens": {_ENDOFTEXT: 199999, "<|endofprompt|>": 200018},
    },
}
DATA_DIR = ASSETS / "tiktoken"
def load_tiktoken_ranks(name: str) -> dict[bytes, int]:
    """The mergeable ranks of a shipped tiktoken encoding, checked against tiktoken's pinned
    SHA-256 of the published file."""
    import base64

    spec = TIKTOKEN_SPECS[name]
    blob = (DATA_DIR / f"{name}.tiktoken.xz").read_bytes()
    data = lzma.decompress(blob)
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec["sha256"]:  # a corrupted install must not give silently wrong counts
        raise CorpusKitError(f"shipped rank file for {name} is corrupt (sha256 {digest[:12]}…, "
                         f"expected {spec['sha256'][:12]}…); reinstall corpuskit")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


@cache
def tiktoken_encoding(name: str) -> Any:
    """A `tiktoken.Encoding` for `name`, built from the shipped ranks (cached per process)."""
    import tiktoken

    spec = TIKTOKEN_SPECS[name]
    return tiktoken.Encoding(name=name, pat_str=spec["pat_str"],
                             mergeable_ranks=load_tiktoken_ranks(name),
                             special_tokens=dict(spec["special_tokens"]))

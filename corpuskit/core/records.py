"""Record ids: the one place an id is made.

`stable_id(basis)` hashes a string (a WARC record id, a file's content hash, ...);
`make_id(record)` is the id the reader gives a record that has none: from its `url`, else its
text (or html), else the whole record. The same input gets the same id on every run.
"""
from __future__ import annotations

import hashlib

import orjson


def stable_id(basis: str | bytes) -> str:
    if isinstance(basis, str):
        basis = basis.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(basis, digest_size=10).hexdigest()


def make_id(record: dict, text_field: str = "text") -> str:
    for key in ("url", text_field, "html"):
        v = record.get(key)
        if isinstance(v, str) and v:
            return stable_id(key.encode() + b"\0" + v.encode("utf-8", "surrogatepass"))
    return stable_id(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))


def fix_surrogates(text: str) -> str:
    """A str holding surrogates (from lenient JSON decoders or `surrogateescape`) cannot be
    encoded as UTF-8, which both Rust tokenizers need. Joined pairs become their character,
    lone ones U+FFFD: the same repair tiktoken applies in `encode_ordinary`."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

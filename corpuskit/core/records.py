"""Record ids: the one place an id is made.

`stable_id(basis)` hashes a string (a WARC record id, a file's content hash, ...);
`make_id(record)` is the id the reader gives a record that has none: a hash of its `url`
together with its content (the text field, else `html`), so the same record gets the same id on
every run while two different texts from one URL (crawl snapshots of a page that changed) get
different ids. A record with neither url nor content is hashed whole (keys sorted).
"""
from __future__ import annotations

import hashlib
import json

import orjson


def stable_id(basis: str | bytes) -> str:
    if isinstance(basis, str):
        basis = basis.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(basis, digest_size=10).hexdigest()


def make_id(record: dict, text_field: str = "text") -> str:
    h = hashlib.blake2b(digest_size=10)
    found = False
    for key in ("url", text_field if text_field != "url" else "text", "html"):
        v = record.get(key)
        if isinstance(v, str) and v:
            h.update(key.encode("utf-8", "surrogatepass") + b"\0")
            h.update(v.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
            found = True
            if key != "url":  # the content: the text, else the html (not both)
                break
    if found:
        return h.hexdigest()
    try:
        whole = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits: the standard library keeps them exact
        whole = json.dumps(record, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":")).encode("utf-8", "surrogatepass")
    return stable_id(whole)


def fix_surrogates(text: str) -> str:
    """A str holding surrogates (from lenient JSON decoders or `surrogateescape`) cannot be
    encoded as UTF-8, which both Rust tokenizers need. Joined pairs become their character,
    lone ones U+FFFD: the same repair tiktoken applies in `encode_ordinary`."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

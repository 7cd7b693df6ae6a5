"""Readers for raw web material that is not JSONL: folders of saved pages, WARC/WET files and
URL lists. They yield page records (or `Rejected` for what is not a usable page), so `fetch`
and the pipeline (which lets raw/ hold HTML and WARC files) share one implementation.

A page record is ``{id, url, html, meta: {fetch: {status, final_url, content_type, encoding,
bytes, elapsed_ms, fetched_at, source, ...}}}``; WET "conversion" records carry ``text``
instead of ``html`` (the text Common Crawl already extracted).

WARC parsing uses FastWARC (Resiliparse): a maintained C++/Cython reader several times faster
than warcio (see benchmarks/bench_fetch.py). FastWARC stops quietly at a truncated record, so
every record's block length is checked against its Content-Length and the last gzip member
is checked for its end-of-stream marker: a cut file is a `BadInput` naming the byte offset.
"""
from __future__ import annotations

import datetime as _dt
import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import xxhash

from corpuskit.core.decode import decode_page
from corpuskit.core.errors import BadInput
from corpuskit.core.records import stable_id
from corpuskit.core.stage import Rejected, Rejection
from corpuskit.io.paths import is_html_path, walk

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xhtml")
_SNIFF_RE = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b",
                       re.I | re.S)
_SAVED_FROM_RE = re.compile(rb"<!--\s*saved from url=\(\d+\)\s*(https?://[^\s>]+?)\s*-->", re.I)
_CANONICAL_RE = re.compile(
    rb"""<link\b[^>]*?\brel\s*=\s*["']?canonical["']?[^>]*?\bhref\s*=\s*["']([^"'\s>]+)""", re.I)
_CANONICAL_RE2 = re.compile(
    rb"""<link\b[^>]*?\bhref\s*=\s*["']([^"'\s>]+)["'][^>]*?\brel\s*=\s*["']?canonical""", re.I)


# ------------------------------------------------------------------ small helpers
def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_html_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() in _HTML_TYPES


def looks_like_html(raw: bytes) -> bool:
    """For bodies without a Content-Type: does the start look like markup?"""
    return bool(_SNIFF_RE.match(raw[:2048].lstrip(b"\xef\xbb\xbf")))


def page_record(*, id: str, url: str | None, html: str | None = None, text: str | None = None,  # noqa: A002
                fetch: dict[str, Any]) -> dict:
    rec: dict[str, Any] = {"id": id}
    if url is not None:
        rec["url"] = url
    if html is not None:
        rec["html"] = html
    if text is not None:
        rec["text"] = text
    rec["meta"] = {"fetch": fetch}
    return rec


# ------------------------------------------------------------------ HTML files
def _page_url(raw: bytes) -> str | None:
    """The address a saved page came from, when the file says so (browser "saved from" comment,
    else <link rel=canonical> with an absolute URL)."""
    head = raw[:65536]
    m = _SAVED_FROM_RE.search(head)
    if m:
        return m.group(1).decode("ascii", "replace")
    m = _CANONICAL_RE.search(head) or _CANONICAL_RE2.search(head)
    if m and m.group(1).lower().startswith((b"http://", b"https://")):
        return m.group(1).decode("utf-8", "replace")
    return None


def html_file_record(path: Path, max_bytes: int | None = None) -> dict | Rejected:
    """One saved page -> a page record (or Rejected too_large)."""
    try:
        st = path.stat()
        fetched_at = _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        if max_bytes and st.st_size > max_bytes:
            raw = None
        else:
            raw = path.read_bytes()
    except OSError as e:
        raise BadInput(str(path), None, "unreadable", f"cannot read file ({e.strerror})") from e
    fetch = {"status": None, "final_url": None, "content_type": "text/html", "encoding": None,
             "bytes": st.st_size, "elapsed_ms": None, "fetched_at": fetched_at,
             "source": "file", "path": str(path)}
    if raw is None:
        rec = page_record(id=stable_id("file:" + str(path)), url=None, fetch=fetch)
        return Rejected(rec, Rejection("too_large", f"{st.st_size} > {max_bytes} bytes"))
    url = _page_url(raw)
    html, enc, replaced = decode_page(raw, None)
    fetch["final_url"] = url
    fetch["encoding"] = enc
    if replaced:
        fetch["replaced"] = replaced
    # url and content hash: the same page gets the same id wherever the folder is, and two
    # saved snapshots of one address (different content) get different ids
    content = "xxh3:" + xxhash.xxh3_128_hexdigest(raw)
    return page_record(id=stable_id(f"{url}\0{content}" if url else content), url=url,
                       html=html, fetch=fetch)


def iter_html_files(path: str | os.PathLike, max_bytes: int | None = None) -> Iterator[dict | Rejected]:
    """Page records from one .html/.htm file or every such file under a folder (recursive,
    sorted, hidden entries skipped). Other files in the folder are not read."""
    p = Path(path)
    if p.is_dir():
        for f in walk(p):
            if is_html_path(f):
                yield html_file_record(f, max_bytes)
    else:
        yield html_file_record(p, max_bytes)


# ------------------------------------------------------------------ WARC / WET
def _parse_http_head(block: bytes) -> tuple[int | None, dict[str, str], bytes]:
    """Split an HTTP response block into (status, lower-cased headers, body)."""
    end = block.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end = block.find(b"\n\n")
        sep = 2
    if end < 0:
        return None, {}, block
    head = block[:end].decode("latin-1").splitlines()
    body = block[end + sep:]
    status = None
    if head and head[0].startswith("HTTP/"):
        parts = head[0].split(None, 2)
        if len(parts) >= 2 and parts[1].isdigit():
            status = int(parts[1])
    headers: dict[str, str] = {}
    for line in head[1:]:
        k, sep_, v = line.partition(":")
        if sep_:
            k = k.strip().lower()
            # repeated headers: keep them all, as HTTP folds them
            headers[k] = f"{headers[k]}, {v.strip()}" if k in headers else v.strip()
    return status, headers, body


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        nl = body.find(b"\r\n", pos)
        if nl < 0:
            raise ValueError("chunk size line missing")
        size = int(body[pos:nl].split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += body[nl + 2:nl + 2 + size]
        pos = nl + 2 + size + 2


def decode_body(body: bytes, headers: dict[str, str]) -> bytes:
    """Undo Transfer-Encoding: chunked and Content-Encoding (gzip, deflate, br) as stored by
    crawlers that keep the raw payload (wget --warc-file, warcio capture). Common Crawl strips
    them already (and renames the headers X-Crawler-*), so this is a no-op there."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        try:
            body = _dechunk(body)
        except ValueError:
            pass  # not really chunked: keep the bytes as stored
    for enc in reversed([e.strip().lower() for e in headers.get("content-encoding", "").split(",")]):
        try:
            if enc in ("gzip", "x-gzip"):
                body = zlib.decompressobj(47).decompress(body)
            elif enc == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:  # raw deflate without zlib header, as some servers send
                    body = zlib.decompressobj(-15).decompress(body)
            elif enc == "br":
                import brotli

                body = brotli.decompress(body)
        except Exception:  # noqa: BLE001 - a mislabelled encoding: keep the stored bytes
            break
    return body


class _Truncated(Exception):
    pass


def _check_gzip_tail(f: IO[bytes], start: int) -> int | None:
    """Walk the gzip members from byte `start` to the end; return the offset of the first
    member that does not end properly (a truncated file), or None if all are complete."""
    f.seek(start)
    pos = start
    d = zlib.decompressobj(31)
    member_start = pos
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            return None if d.eof or pos == member_start else member_start
        data = chunk
        while data:
            try:
                d.decompress(data)
            except zlib.error:
                return member_start
            if d.eof:
                used = len(data) - len(d.unused_data)
                pos += used
                data = d.unused_data
                member_start = pos
                d = zlib.decompressobj(31)
                if not data.strip(b"\0"):  # zero padding after the last member is harmless
                    pos += len(data)
                    data = b""
            else:
                pos += len(data)
                data = b""


def iter_warc(path: str | os.PathLike | IO[bytes], *, html_only: bool = True,
              max_bytes: int | None = None, stats: dict[str, int] | None = None,
              name: str | None = None) -> Iterator[dict | Rejected]:
    """Page records from a WARC or WET file (plain or .gz): `response` records (HTTP) and
    `resource` records with an HTML type become records with ``html``; WET `conversion`
    records become records with ``text``. With `html_only`, responses that are not HTML become
    Rejected ``not_html`` and non-2xx responses Rejected ``http_<code>``. Request, metadata,
    warcinfo and revisit records are skipped and counted in `stats` (``warc_<type>``).

    Raises BadInput naming the file and byte offset if the file is truncated or corrupt."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    label = name or (os.fspath(path) if isinstance(path, (str, os.PathLike)) else "<stream>")
    stats = stats if stats is not None else {}
    own = isinstance(path, (str, os.PathLike))
    last_pos = 0
    gz = False
    src: Any = path
    f_own = None
    if own:
        src = os.fspath(path)
        try:
            with open(src, "rb") as f0:
                gz = f0.read(2) == b"\x1f\x8b"
            # a path lets FastWARC use its native file reader (faster than a Python file), but
            # it picks the codec from the suffix: a gzip file named otherwise is sniffed instead
            if gz != src.endswith(".gz"):
                src = f_own = open(src, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise BadInput(label, None, "unreadable", f"cannot open ({e.strerror})") from e
    wanted = (WarcRecordType.response | WarcRecordType.resource | WarcRecordType.conversion
              | WarcRecordType.request | WarcRecordType.metadata | WarcRecordType.warcinfo
              | WarcRecordType.revisit | WarcRecordType.continuation | WarcRecordType.unknown)
    try:
        it = ArchiveIterator(src, record_types=wanted, parse_http=False, fsspec_args=False)
        n = 0
        while True:
            try:
                rec = next(it)
            except StopIteration:
                break
            except OSError as e:
                raise BadInput(label, None, "truncated_warc",
                               f"corrupt or truncated WARC data after byte offset {last_pos} ({e})") from e
            last_pos = rec.stream_pos
            h = rec.headers
            cl = (h.get("Content-Length") or "").strip()
            block = rec.reader.read()
            if not cl.isdigit() or int(cl) != len(block) or h.get("WARC-Type") is None \
                    or h.get("WARC-Record-ID") is None:
                raise BadInput(label, None, "truncated_warc",
                               f"truncated WARC record at byte offset {rec.stream_pos} "
                               f"({len(block)} of {cl or '?'} bytes)")
            n += 1
            wtype = h.get("WARC-Type", "").strip().lower()
            if wtype not in ("response", "resource", "conversion"):
                key = f"warc_{wtype or 'unknown'}"
                stats[key] = stats.get(key, 0) + 1
                continue
            yield _warc_page(label, rec.stream_pos, wtype, h, block, html_only, max_bytes)
    finally:
        if f_own is not None:
            f_own.close()
    if own and gz:
        with open(path, "rb") as f1:  # type: ignore[arg-type]
            bad = _check_gzip_tail(f1, last_pos)
        if bad is not None:
            raise BadInput(label, None, "truncated_warc",
                           f"truncated gzip member at byte offset {bad} (the file was cut short)")
    elif own and not gz and n == 0 and os.path.getsize(path) > 0:  # type: ignore[arg-type]
        raise BadInput(label, None, "truncated_warc", "no WARC record found at byte offset 0")


def _warc_page(label: str, offset: int, wtype: str, h: Any, block: bytes, html_only: bool,
               max_bytes: int | None) -> dict | Rejected:
    url = (h.get("WARC-Target-URI") or "").strip().strip("<>") or None
    rid = (h.get("WARC-Record-ID") or "").strip()
    fetch: dict[str, Any] = {"status": None, "final_url": url, "content_type": None,
                             "encoding": None, "bytes": 0, "elapsed_ms": None,
                             "fetched_at": (h.get("WARC-Date") or "").strip() or None,
                             "source": "warc", "warc_file": label, "warc_offset": offset,
                             "warc_record_id": rid}
    rec_id = stable_id(rid or f"{label}@{offset}")
    if wtype == "conversion":  # WET: already plain text
        fetch["source"] = "wet"
        fetch["content_type"] = (h.get("Content-Type") or "text/plain").strip()
        fetch["encoding"] = "utf-8"
        fetch["bytes"] = len(block)
        text = block.decode("utf-8", "replace")
        return page_record(id=rec_id, url=url, text=text, fetch=fetch)
    if wtype == "response":
        status, headers, body = _parse_http_head(block)
        body = decode_body(body, headers)
        ctype = headers.get("content-type")
    else:  # resource: the block is the document itself
        status, body = None, block
        ctype = (h.get("Content-Type") or "").strip() or None
    fetch.update(status=status, content_type=ctype, bytes=len(body))
    rec = page_record(id=rec_id, url=url, fetch=fetch)
    if html_only:
        if status is not None and not 200 <= status < 300:
            detail = ""
            if 300 <= status < 400 and wtype == "response":
                detail = "redirect to " + headers.get("location", "?")
            return Rejected(rec, Rejection(f"http_{status}", detail))
        if not (is_html_type(ctype) or (not ctype and looks_like_html(body))):
            return Rejected(rec, Rejection("not_html", ctype or "no content type"))
    if max_bytes and len(body) > max_bytes:
        return Rejected(rec, Rejection("too_large", f"{len(body)} > {max_bytes} bytes"))
    html, enc, replaced = decode_page(body, ctype)
    fetch["encoding"] = enc
    if replaced:
        fetch["replaced"] = replaced
    rec["html"] = html
    rec["meta"] = rec.pop("meta")  # keep meta last, as everywhere else
    return rec


# ------------------------------------------------------------------ URL lists
def open_text_input(path: str) -> IO[bytes]:
    """A binary stream for a URL list: '-' is stdin; .gz and .zst by suffix."""
    if path == "-":
        return sys.stdin.buffer
    try:
        if path.endswith(".gz"):
            return gzip.open(path, "rb")
        if path.endswith(".zst"):
            import zstandard

            return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")))
        return open(path, "rb")
    except OSError as e:
        raise BadInput(path, None, "unreadable", f"cannot open ({e.strerror})") from e


def _bad_utf8(path: str, lineno: int, raw: bytes, col: int) -> BadInput:
    """The error for a URL line that is not UTF-8, naming the first bad byte (at 0-based `col`
    of the raw line)."""
    return BadInput(path, lineno, "invalid_utf8",
                    f"invalid UTF-8 (byte 0x{raw[col:col + 1].hex()} at column {col + 1}); if the "
                    f"file is in another encoding, convert it first, e.g. "
                    f"`iconv -f GB18030 -t UTF-8 FILE`", raw)


def iter_url_list(path: str, stream: IO[bytes] | None = None,
                  on_bad: Callable[[bytes, BadInput], None] | None = None,
                  ) -> Iterator[tuple[int, str | None, dict | None]]:
    """(line number, url, record) for each entry of a URL list: one URL a line, or a JSONL
    record with a ``url`` key (then `record` is the parsed dict and `url` its value, None if it
    has none). Blank lines and lines starting with '#' are skipped; a UTF-8 byte order mark at
    the start is dropped.

    A bad line (invalid UTF-8, which names the byte; a JSON line that does not parse or is not
    an object) raises BadInput, or with `on_bad` is handed to it verbatim and skipped."""
    import orjson

    f = stream or open_text_input(path)
    try:
        for lineno, raw in enumerate(f, 1):
            bom = 3 if lineno == 1 and raw.startswith(b"\xef\xbb\xbf") else 0
            line = raw[bom:].strip()
            if not line or line.startswith(b"#"):
                continue
            err = None
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as u:
                indent = len(raw) - bom - len(raw[bom:].lstrip())
                err = _bad_utf8(path, lineno, raw, bom + indent + u.start)
            if err is None and line.startswith(b"{"):
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as e:
                    err = BadInput(path, lineno, "invalid_json", f"invalid JSON ({e})", raw)
                else:
                    if not isinstance(obj, dict):
                        err = BadInput(path, lineno, "not_an_object",
                                       "a JSON line must be an object", raw)
                if err is None:
                    u = obj.get("url")
                    yield lineno, (u if isinstance(u, str) else None), obj
                    continue
            if err is not None:
                if on_bad is None:
                    raise err
                on_bad(raw, err)
                continue
            yield lineno, text, None
    except (OSError, EOFError, zlib.error) as e:
        raise BadInput(path, None, "unreadable", f"cannot read ({e})") from e
    finally:
        if stream is None and f is not sys.stdin.buffer:
            f.close()

"""`fetch`: URL lists -> page records, politely; WARC/WET files and folders of saved pages too.

Crawling runs on an asyncio loop (aiohttp) in a background thread; `read()` is an ordinary
generator on the caller's side. Results come out in input order: a bounded window of URLs is
in flight or waiting to be emitted, so memory stays flat however long the list is, and a slow
URL only holds back the output, never the fetching of the next `window - 1` URLs.

Politeness: at most `per_host` requests in flight to one host, their starts spaced `delay`
seconds apart (raised by robots.txt Crawl-delay, up to 60 s, and by Retry-After on 429/503, which
also holds back the host's other URLs), robots.txt per origin (RFC 9309, via Protego), and a
User-Agent that names corpuskit.

Safety: only http/https. Host names are resolved by a resolver that drops private, loopback,
link-local and other non-global addresses, and aiohttp connects to the addresses that resolver
returned, so the address checked is the address used (no DNS rebinding between check and
connect). IP literals are checked before each request and each redirect hop, which are
followed here (not by aiohttp) for that reason. `allow_private` lifts the check.
"""
from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from corpuskit import __version__
from corpuskit.core import interrupts
from corpuskit.core.errors import UsageError
from corpuskit.core.stage import Rejected, SourceStage, opt
from corpuskit.io.paths import classify, is_html_path, is_warc_path, require, walk
from corpuskit.io.sources import (
    iter_html_files,
    iter_url_list,
    iter_warc,
)
from corpuskit.stages.fetch import crawler, guard
from corpuskit.stages.fetch.resume import _complete_lines, repair_tail

DEFAULT_USER_AGENT = f"corpuskit/{__version__} (+https://pypi.org/project/corpuskit/)"


@dataclass
class Fetch(SourceStage):
    """Fetch pages from URL lists (plain or JSONL with `url`), or read WARC/WET files and
    folders of saved .html pages, into page records."""

    name: ClassVar[str] = "fetch"
    summary: ClassVar[str] = ("Fetch URL lists politely (robots.txt, per-host limits, retries) or read "
                              "WARC/WET files and folders of .html pages into page records.")
    input_help: ClassVar[str] = (
        "URL lists (.urls/.txt: one URL a line, or JSONL records with a url), WARC/WET files "
        "(.warc, .warc.gz), .html pages, or folders of them; '-' or nothing reads URLs from stdin.")
    reasons: ClassVar[dict[str, str]] = {
        "bad_url": "not an http(s) URL that can be fetched (also: a redirect to one)",
        "duplicate_url": "the same URL (after normalisation) appeared earlier in the input",
        "robots_disallowed": "robots.txt forbids this URL for our user agent (or robots.txt "
                             "answered 5xx, which RFC 9309 says means 'disallow all')",
        "private_address": "the host is or resolves to a private/loopback/link-local address",
        "dns_error": "the host name does not resolve",
        "connection_error": "connection refused/reset or broken response, after retries",
        "timeout": "connect, read or total timeout, after retries",
        "tls_error": "TLS handshake failed (bad or expired certificate, wrong host name)",
        "redirect_loop": "a redirect led back to a URL already in the chain",
        "too_many_redirects": "more redirects than --max-redirects",
        "too_large": "body larger than --max-bytes (aborted while streaming)",
        "not_html": "content type is not HTML (text/html, application/xhtml+xml)",
        "http_4xx": "the server answered with this status (e.g. http_404, http_403)",
        "fetch_error": "an unexpected error while fetching (the detail names it; please report it)",
        "http_5xx": "the server kept answering with this status after retries (e.g. http_500, "
                    "http_503; http_429 when Retry-After is longer than --max-backoff)",
    }

    # fetch makes the records (and their ids) itself: no --id-field
    id_field: str = opt("id", "Record key holding the record's id.", cli=False)
    concurrency: int = opt(64, "Requests in flight at once, over all hosts.")
    per_host: int = opt(2, "Requests in flight at once to one host (0: no limit).")
    delay: float = opt(1.0, "Seconds between the starts of two requests to the same host "
                            "(robots.txt Crawl-delay raises it, up to 60).", metavar="SECONDS")
    user_agent: str = opt(DEFAULT_USER_AGENT, "User-Agent header; its first word is the "
                                              "robots.txt agent name.", metavar="TEXT")
    ignore_robots: bool = opt(False, "Do not read or honour robots.txt.")
    allow_private: bool = opt(False, "Allow private, loopback and link-local addresses "
                                     "(refused by default so a URL list cannot probe your network).")
    retries: int = opt(3, "Retries after a timeout, connection error, 429 or 5xx.")
    backoff: float = opt(1.0, "First retry wait in seconds; doubles each retry, with jitter.", metavar="SECONDS")
    max_backoff: float = opt(60.0, "Longest wait before a retry, Retry-After included (a longer "
                                   "Retry-After gives up).", metavar="SECONDS")
    connect_timeout: float = opt(10.0, "Seconds to connect (DNS + TCP + TLS).", metavar="SECONDS")
    read_timeout: float = opt(30.0, "Seconds without receiving any data.", metavar="SECONDS")
    timeout: float = opt(60.0, "Total seconds for one request and its body.", metavar="SECONDS")
    max_redirects: int = opt(10, "Redirects followed per URL.")
    max_bytes: int = opt(10_000_000, "Largest body kept, in bytes (after decompression; "
                                     "bigger ones are aborted: too_large).")
    window: int = opt(1000, "URLs in flight or waiting to be written in input order; bounds "
                            "memory.")
    resume: bool = opt(False, "Finish an interrupted run: skip URLs already in -o FILE (and "
                              "--rejected FILE) and append to them.")
    resume_from: str = opt("", "Earlier output file(s) (comma-separated): URLs found there are "
                               "not fetched again. Set by --resume.", cli=False)

    def __post_init__(self) -> None:
        for name in ("concurrency", "window"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1")
        for name in ("per_host", "retries", "max_redirects"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be 0 or more")
        for name in ("delay", "backoff", "max_backoff"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be 0 or more")
        for name in ("connect_timeout", "read_timeout", "timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name.replace('_', '-')} must be more than 0")
        if self.max_bytes < 1:
            raise ValueError("--max-bytes must be at least 1")
        if not self.user_agent.strip():
            raise ValueError("--user-agent must not be empty")
        self.counters: dict[str, Any] = {}
        self._reset_counters()

    # ---- counters (read by the CLI's progress bar from another thread: plain ints)
    def _reset_counters(self) -> None:
        self.counters = {"urls": 0, "done": 0, "pages": 0, "rejected": 0, "bytes": 0,
                         "in_flight": 0, "retries": 0, "robots_fetched": 0,
                         "skipped_resume": 0, "ignored_files": 0, "bad_lines": 0,
                         "started": time.monotonic()}
        self._warc_stats: dict[str, int] = {}

    def progress(self) -> dict[str, Any]:
        """A snapshot for a progress display: urls read, done, pages kept, rejected, bytes,
        in flight, retries so far, and pages/s."""
        c = dict(self.counters)
        el = max(1e-9, time.monotonic() - c.pop("started"))
        c["elapsed_s"] = el
        c["pages_per_s"] = c["done"] / el
        return c

    def result(self) -> dict:
        c = self.progress()
        out = {k: c[k] for k in ("urls", "pages", "rejected", "bytes", "retries", "robots_fetched",
                                 "skipped_resume", "ignored_files", "bad_lines")}
        out.update(self._warc_stats)
        return out

    # ---- inputs
    def _classify(self, path: str) -> str:
        if path == "-":
            return "stdin"
        if require(path).is_dir():
            return "dir"
        kind = classify(path, other="urls")
        return "urls" if kind == "jsonl" else kind  # a record file given to fetch: its lines are URLs

    def _note_ignored(self, path: str) -> None:
        self.counters["ignored_files"] += 1

    def _iter_items(self, inputs: list[str]) -> Iterator[tuple[str, Any]]:
        """("ready", record|Rejected) for pages read from disk, ("url", (source, line, url,
        record)) for entries of URL lists; in input order."""
        for path in inputs or ["-"]:
            kind = self._classify(path)
            if kind == "dir":
                for f in walk(path, on_loop=self._note_ignored):
                    if is_html_path(f):
                        yield from (("ready", r) for r in iter_html_files(f, self.max_bytes))
                    elif is_warc_path(f):
                        yield from (("ready", r) for r in iter_warc(
                            f, max_bytes=self.max_bytes, stats=self._warc_stats))
                    else:
                        self.counters["ignored_files"] += 1
            elif kind == "warc":
                yield from (("ready", r) for r in iter_warc(path, max_bytes=self.max_bytes,
                                                            stats=self._warc_stats))
            elif kind == "html":
                yield from (("ready", r) for r in iter_html_files(path, self.max_bytes))
            else:
                stream = None
                if kind == "stdin":
                    stream = sys.stdin.buffer
                    head = stream.peek(5)[:5] if hasattr(stream, "peek") else b""
                    if head.startswith((b"WARC/", b"\x1f\x8b")):
                        yield from (("ready", r) for r in iter_warc(
                            stream, max_bytes=self.max_bytes, stats=self._warc_stats, name="<stdin>"))
                        continue
                label = "<stdin>" if kind == "stdin" else path
                on_bad = self._quarantine if self.bad_sink is not None else None
                for lineno, url, rec in iter_url_list(path if stream is None else label, stream,
                                                      on_bad):
                    yield "url", (label, lineno, url, rec)

    def _quarantine(self, raw: bytes, err: Exception) -> None:
        self.counters["bad_lines"] += 1
        self.bad_sink(raw, err)  # type: ignore[misc]

    # ---- resume
    def _load_resume(self) -> dict[int, int]:
        """URL key -> how many records/rejections with that URL earlier runs wrote."""
        import orjson

        done: dict[int, int] = {}
        for path in [p.strip() for p in self.resume_from.split(",") if p.strip()]:
            if not os.path.exists(path):
                continue  # nothing written yet: nothing to skip
            for line in _complete_lines(path):
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                url = obj.get("url") if isinstance(obj, dict) else None
                if isinstance(url, str):
                    k = guard.url_key(url)
                    done[k] = done.get(k, 0) + 1
        return done

    def prepare_resume(self, output: str, rejected: str | None = None) -> None:
        """Get ready to finish the run that wrote `output` (and `rejected`): cut a torn last
        line left by a killed process, and skip every URL those files already hold."""
        paths = [p for p in (output, rejected) if p and p != "-"]
        for p in paths:
            repair_tail(p)
        self.resume_from = ",".join(paths)

    # ---- main entry
    def read(self, inputs: list[str]) -> Iterator[dict | Rejected]:
        """Records (or Rejected) for every input entry, in input order."""
        if self.resume and not self.resume_from:
            raise UsageError("--resume needs -o FILE (the output of the interrupted run)")
        self._reset_counters()
        items = self._iter_items(list(inputs))
        has_urls = any(self._classify(p) in ("urls", "stdin") for p in (inputs or ["-"]))
        if not has_urls:
            for _, r in items:
                self._count(r)
                yield r
            return
        yield from self._crawl(items)

    def _count(self, r: dict | Rejected) -> None:
        c = self.counters
        c["done"] += 1
        if isinstance(r, Rejected):
            c["rejected"] += 1
        else:
            c["pages"] += 1
            f = r.get("meta", {}).get("fetch", {})
            c["bytes"] += f.get("bytes") or 0

    def _crawl(self, items: Iterator[tuple[str, Any]]) -> Iterator[dict | Rejected]:
        out: queue.Queue = queue.Queue()
        crawl = crawler.Crawler(self, items, out)
        t = threading.Thread(target=crawl.thread_main, name="corpuskit-fetch", daemon=True)
        t.start()
        # Ctrl-C: rather than dropping pages already fetched, drain them (then raise
        # KeyboardInterrupt), so `--resume` never fetches a page twice. A second Ctrl-C stops
        # at once. Only when we own the main thread and nobody changed the default handler.
        # SIGTERM and SIGHUP too, where the command line takes them as Ctrl-C (core.interrupts).
        interrupted = []
        old_handlers: dict = {}
        if threading.current_thread() is threading.main_thread():
            def on_sigint(signum: int, frame: Any) -> None:
                interrupts.note()
                if interrupted:
                    raise KeyboardInterrupt
                interrupted.append(True)
                crawl.request_drain()

            for sig in (signal.SIGINT, *interrupts.STOP_SIGNALS):
                if interrupts.is_python_default(signal.getsignal(sig)):
                    old_handlers[sig] = signal.signal(sig, on_sigint)
        try:
            while True:
                kind, val = out.get()
                if kind == "items":
                    for rec in val:
                        self._count(rec)
                        yield rec
                    crawl.release_slots(len(val))
                elif kind == "error":
                    raise val
                else:
                    break
            if interrupted:
                raise KeyboardInterrupt
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            crawl.stop()
            t.join(timeout=10)

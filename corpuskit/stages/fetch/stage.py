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

import asyncio
import contextlib
import email.utils
import ipaddress
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import xxhash

from corpuskit import __version__
from corpuskit.core.decode import decode_html
from corpuskit.core.errors import BadInput, UsageError
from corpuskit.core.records import make_id
from corpuskit.core.stage import Rejected, Rejection, SourceStage, opt, set_meta
from corpuskit.io.jsonl import RecordWriter
from corpuskit.io.paths import classify, is_html_path, is_warc_path, require, walk
from corpuskit.io.sources import (
    is_html_type,
    iter_html_files,
    iter_url_list,
    iter_warc,
    looks_like_html,
    open_text_input,
    utc_now,
)

DEFAULT_USER_AGENT = f"corpuskit/{__version__} (+https://pypi.org/project/corpuskit/)"
# Crawl-delay values above this are treated as this (a site asking for 1 page a day would
# otherwise stall the whole ordered output).
MAX_CRAWL_DELAY = 60.0
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
DRAIN_GRACE = 10.0  # seconds requests on the wire get to finish after Ctrl-C


# ------------------------------------------------------------------ URLs and addresses
def normalize_url(raw: str) -> tuple[str | None, str]:
    """(normalised URL, "") or (None, why it is not a fetchable URL).

    Lower-case scheme and host (IDNA for non-ASCII hosts), default port dropped, fragment
    dropped, empty path -> "/", path and query percent-encoded the way browsers send them."""
    import yarl

    s = raw.strip()
    if not s:
        return None, "empty URL"
    if any(c in s for c in "\r\n\t"):
        return None, "control character in URL"
    try:
        u = yarl.URL(s)
    except (ValueError, TypeError, UnicodeError) as e:
        return None, str(e) or "malformed URL"
    if not u.scheme:
        return None, "no scheme (expected http:// or https://)"
    if u.scheme not in ("http", "https"):
        return None, f"scheme {u.scheme}: is not http or https"
    host = u.raw_host
    if not host:
        return None, "no host"
    if ":" not in host:  # not an IPv6 literal: a DNS name or IPv4
        h = host.rstrip(".")
        if not h or any(not (c.isalnum() or c in "-._") for c in h) or ".." in h:
            return None, f"invalid host {host!r}"
    try:
        out = str(u.with_fragment(None))
        parts = urlsplit(out)
        if not parts.path:  # yarl prints "http://h" and "http://h?q": browsers send "/"
            out = urlunsplit(parts._replace(path="/"))
    except (ValueError, TypeError, UnicodeError) as e:
        return None, str(e) or "malformed URL"
    return out, ""


def url_key(url: str) -> int:
    """Dedup/resume key: a 64-bit hash of the normalised URL (or of the raw string when it does
    not normalise), so the seen-set costs ~70 bytes a URL instead of the URL itself."""
    norm, _ = normalize_url(url)
    return xxhash.xxh3_64_intdigest((norm or url.strip()).encode("utf-8", "surrogatepass"))


def is_public_ip(addr: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved, CGNAT and other
    non-global addresses (IPv4-mapped IPv6 included)."""
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
    return ip.is_global and not ip.is_multicast


class PrivateAddressError(OSError):
    """A host name resolved only to addresses we refuse to connect to."""

    def __init__(self, host: str, addr: str):
        super().__init__(f"{host} resolves to non-public address {addr}")
        self.host = host
        self.addr = addr


def _make_resolver(allow_private: bool) -> Any:
    from aiohttp.abc import AbstractResolver
    from aiohttp.resolver import ThreadedResolver

    class GuardedResolver(AbstractResolver):
        """Resolves, then keeps only public addresses. aiohttp's connector connects to exactly
        what this returns, so the checked address is the connected one."""

        def __init__(self) -> None:
            self._inner = ThreadedResolver()

        async def resolve(self, host: str, port: int = 0,
                          family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
            infos = await self._inner.resolve(host, port, family)
            if allow_private:
                return infos
            ok = [i for i in infos if is_public_ip(i["host"])]
            if not ok:
                raise PrivateAddressError(host, infos[0]["host"] if infos else "?")
            return ok

        async def close(self) -> None:
            await self._inner.close()

    return GuardedResolver()


# ------------------------------------------------------------------ outcome of one attempt
class _Fail(Exception):
    """A URL's final rejection, raised inside the crawler and turned into a Rejected."""

    def __init__(self, reason: str, detail: str = "", status: int | None = None,
                 retry: bool = False, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retry = retry
        self.wait = wait


@dataclass
class _Resp:
    status: int
    url: str
    headers: Any
    body: bytes | None = None
    location: str | None = None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


# ------------------------------------------------------------------ the stage
@dataclass
class Fetch(SourceStage):
    """Fetch pages from URL lists (plain or JSONL with `url`), or read WARC/WET files and
    folders of saved .html pages, into page records."""

    name: ClassVar[str] = "fetch"
    summary: ClassVar[str] = ("Fetch URL lists politely (robots.txt, per-host limits, retries) or read "
                              "WARC/WET files and folders of .html pages into page records.")
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

    concurrency: int = opt(64, "Requests in flight at once, over all hosts.")
    per_host: int = opt(2, "Requests in flight at once to one host (0: no limit).")
    delay: float = opt(1.0, "Seconds between the starts of two requests to the same host "
                            "(robots.txt Crawl-delay raises it, up to 60).")
    user_agent: str = opt(DEFAULT_USER_AGENT, "User-Agent header; its first word is the "
                                              "robots.txt agent name.")
    ignore_robots: bool = opt(False, "Do not read or honour robots.txt.")
    allow_private: bool = opt(False, "Allow private, loopback and link-local addresses "
                                     "(refused by default so a URL list cannot probe your network).")
    retries: int = opt(3, "Retries after a timeout, connection error, 429 or 5xx.")
    backoff: float = opt(1.0, "First retry wait in seconds; doubles each retry, with jitter.")
    max_backoff: float = opt(60.0, "Longest wait before a retry, Retry-After included (a longer "
                                   "Retry-After gives up).")
    connect_timeout: float = opt(10.0, "Seconds to connect (DNS + TCP + TLS).")
    read_timeout: float = opt(30.0, "Seconds without receiving any data.")
    timeout: float = opt(60.0, "Total seconds for one request and its body.")
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
                         "skipped_resume": 0, "ignored_files": 0, "started": time.monotonic()}
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
                                 "skipped_resume", "ignored_files")}
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
                for lineno, url, rec in iter_url_list(path, stream):
                    yield "url", (label, lineno, url, rec)

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
                    k = url_key(url)
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
        crawler = _Crawler(self, items, out)
        t = threading.Thread(target=crawler.thread_main, name="corpuskit-fetch", daemon=True)
        t.start()
        # Ctrl-C: rather than dropping pages already fetched, drain them (then raise
        # KeyboardInterrupt), so `--resume` never fetches a page twice. A second Ctrl-C stops
        # at once. Only when we own the main thread and nobody changed the default handler.
        interrupted = []
        old_handler = None
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            def on_sigint(signum: int, frame: Any) -> None:
                if interrupted:
                    raise KeyboardInterrupt
                interrupted.append(True)
                crawler.request_drain()

            old_handler = signal.signal(signal.SIGINT, on_sigint)
        try:
            while True:
                kind, val = out.get()
                if kind == "items":
                    for rec in val:
                        self._count(rec)
                        yield rec
                    crawler.release_slots(len(val))
                elif kind == "error":
                    raise val
                else:
                    break
            if interrupted:
                raise KeyboardInterrupt
        finally:
            if old_handler is not None:
                signal.signal(signal.SIGINT, old_handler)
            crawler.stop()
            t.join(timeout=10)


class _Host:
    __slots__ = ("sem", "next_at", "delay")

    def __init__(self, limit: int, delay: float):
        self.sem = asyncio.Semaphore(limit) if limit > 0 else None
        self.next_at = 0.0
        self.delay = delay


class _Crawler:
    """The asyncio side: reads items, fetches URLs, hands results to `out` in input order."""

    def __init__(self, stage: Fetch, items: Iterator[tuple[str, Any]], out: queue.Queue):
        self.st = stage
        self.items = items
        self.out = out
        self.loop: asyncio.AbstractEventLoop | None = None
        self.main_task: asyncio.Task | None = None
        self.window: asyncio.Semaphore | None = None
        self.hosts: dict[str, _Host] = {}
        self.robots: dict[str, asyncio.Future] = {}
        self.agent = stage.user_agent.strip().split()[0].split("/")[0] or "corpuskit"
        self._stopped = False
        self.draining = False
        self.sources: list[str] = []  # input labels, in order (for duplicate_url details)
        self.drain_requested: asyncio.Event | None = None
        # tasks with a request on the wire (count: a fetch may wait on a robots.txt request)
        self.active: dict[Any, int] = {}

    # -- thread plumbing
    def thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            self.main_task = loop.create_task(self.run())
            loop.run_until_complete(self.main_task)
            self.out.put(("end", None))
        except asyncio.CancelledError:
            self.out.put(("end", None))
        except BaseException as e:  # noqa: BLE001 - handed to the reading thread, raised there
            self.out.put(("error", e))
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def release_slots(self, n: int) -> None:
        """Called from the reading thread once it has taken n results: n more URLs may start."""
        loop, w = self.loop, self.window
        if loop is not None and w is not None and not loop.is_closed():

            def release() -> None:
                for _ in range(n):
                    w.release()

            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(release)

    def request_drain(self) -> None:
        """From the reading thread (on Ctrl-C): finish what is on the wire, then end."""
        loop, ev = self.loop, self.drain_requested
        if loop is not None and ev is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(ev.set)

    def stop(self) -> None:
        self._stopped = True
        loop, task = self.loop, self.main_task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)

    # -- the run
    async def run(self) -> None:
        import aiohttp

        st = self.st
        self.window = asyncio.Semaphore(st.window)
        self.global_sem = asyncio.Semaphore(st.concurrency)
        done_before = st._load_resume() if st.resume_from else {}
        # url key -> where it first appeared (source index << 32 | line): ints, not strings,
        # so a list of millions of URLs stays affordable
        seen: dict[int, int] = {}
        connector = aiohttp.TCPConnector(
            resolver=_make_resolver(st.allow_private), limit=st.concurrency,
            limit_per_host=0, ttl_dns_cache=300,  # per-host limits are ours (_slot)
            enable_cleanup_closed=True)
        timeout = aiohttp.ClientTimeout(total=st.timeout, connect=st.connect_timeout,
                                        sock_read=st.read_timeout)
        pending: deque[asyncio.Future] = deque()
        have = asyncio.Event()
        state = {"reading_done": False}
        loop = asyncio.get_running_loop()

        batch: list = []  # results taken from `pending` but not yet handed over

        async def emitter() -> None:
            nonlocal batch
            while True:
                while not pending:
                    if state["reading_done"]:
                        return
                    have.clear()
                    await have.wait()
                await asyncio.wait({pending[0]})
                batch.append(pending.popleft().result())
                # hand over every result that is ready in one go: one thread wake-up per
                # batch instead of per page (the GIL handoff is what costs)
                deadline = loop.time() + 0.02
                while len(batch) < 512:
                    if pending and pending[0].done():
                        batch.append(pending.popleft().result())
                        continue
                    left = deadline - loop.time()
                    if not pending or left <= 0:
                        break
                    # wait briefly for the next one: 20 ms of latency saves a wake-up a page
                    await asyncio.wait({pending[0]}, timeout=left)
                out, batch = batch, []
                self.out.put(("items", out))

        async def producer() -> None:
            it = self.items
            try:
                while True:
                    # file reading (and stdin) happens off the loop, in batches
                    batch, err = await loop.run_in_executor(None, _take, it, 256)
                    if not batch and err is None:
                        return
                    for kind, val in batch:
                        await self.window.acquire()
                        fut: asyncio.Future
                        if kind == "ready":
                            fut = loop.create_future()
                            fut.set_result(val)
                        else:
                            res = self._prepare(val, seen, done_before)
                            if res is None:
                                self.window.release()
                                continue
                            if isinstance(res, Rejected):
                                fut = loop.create_future()
                                fut.set_result(res)
                            else:
                                st.counters["urls"] += 1
                                fut = asyncio.ensure_future(self.fetch_one(*res))
                        pending.append(fut)
                        have.set()
                    if err is not None:
                        raise err
            finally:
                state["reading_done"] = True
                have.set()

        async with aiohttp.ClientSession(
                connector=connector, timeout=timeout, trust_env=False, auto_decompress=True,
                headers={"User-Agent": st.user_agent,
                         "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
                max_line_size=16384, max_field_size=16384) as session:
            self.session = session
            em = asyncio.ensure_future(emitter())
            pr = asyncio.ensure_future(producer())
            self.drain_requested = asyncio.Event()
            dr = asyncio.ensure_future(self.drain_requested.wait())
            try:
                # the emitter ends once the producer is done and everything is handed over;
                # a bad input line (producer error) stops the run only after that
                while not em.done() and not dr.done():
                    await asyncio.wait({em, dr} if pr.done() else {em, dr, pr},
                                       return_when=asyncio.FIRST_COMPLETED)
                if dr.done():
                    await self._drain(em, pr, pending, batch)
                    return
                if em.exception() is not None:
                    raise em.exception()  # type: ignore[misc]
                if pr.done() and not pr.cancelled() and pr.exception() is not None:
                    raise pr.exception()  # type: ignore[misc]
            finally:
                dr.cancel()
                for t in (em, pr, *pending):
                    t.cancel()
                await asyncio.gather(em, pr, *pending, return_exceptions=True)

    async def _drain(self, em: asyncio.Task, pr: asyncio.Task, pending: deque,
                     batch: list) -> None:
        """Ctrl-C: start nothing new, let requests already on the wire finish (up to
        DRAIN_GRACE seconds), hand over every completed result (input order, with gaps
        where a URL was not done) so that --resume will not fetch any of them again."""
        self.draining = True
        pr.cancel()
        for f in pending:
            if f not in self.active:
                f.cancel()
        on_wire = [f for f in pending if not f.done()]
        if on_wire:
            await asyncio.wait(on_wire, timeout=DRAIN_GRACE)
        em.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await em
        done = list(batch)
        for f in pending:
            if f.done() and not f.cancelled() and f.exception() is None:
                done.append(f.result())
        if done:
            self.out.put(("items", done))

    def _prepare(self, val: tuple, seen: dict[int, int],
                 done_before: dict[int, int]) -> tuple | Rejected | None:
        """Normalise and de-duplicate one URL entry: (url, base record) to fetch, a Rejected,
        or None when an earlier run already wrote it (resume)."""
        source, lineno, raw_url, rec = val
        where = f"{source}:{lineno}"
        if not self.sources or self.sources[-1] != source:
            self.sources.append(source)
        code = (len(self.sources) - 1) << 32 | lineno
        if rec is None:
            norm, why = normalize_url(raw_url)
            u = norm or raw_url.strip()
            base: dict = {"id": make_id({"url": u}), "url": u}
        else:
            base = dict(rec)
            if raw_url is None:
                return Rejected(base, Rejection("bad_url", f"{where}: record has no string 'url'"))
            norm, why = normalize_url(raw_url)
            if "id" not in base:
                base = {"id": make_id(base), **base}
        key = xxhash.xxh3_64_intdigest((norm or raw_url.strip()).encode("utf-8", "surrogatepass"))
        if done_before.get(key):
            # the k-th occurrence is skipped if earlier runs wrote at least k records for it
            done_before[key] -= 1
            seen.setdefault(key, code)
            self.st.counters["skipped_resume"] += 1
            return None
        if norm is None:
            return Rejected(base, Rejection("bad_url", why))
        first = seen.get(key)
        if first is not None:
            src = self.sources[first >> 32]
            return Rejected(base, Rejection("duplicate_url", f"same URL as {src}:{first & 0xFFFFFFFF}"))
        seen[key] = code
        return norm, base

    # -- politeness
    def _host(self, host: str) -> _Host:
        h = self.hosts.get(host)
        if h is None:
            h = self.hosts[host] = _Host(self.st.per_host, self.st.delay)
        return h

    @contextlib.asynccontextmanager
    async def _slot(self, host: str):  # type: ignore[no-untyped-def]
        h = self._host(host)
        if h.sem is not None:
            await h.sem.acquire()
        try:
            # reserve a start time, then wait for it: starts to one host stay `delay` apart
            now = time.monotonic()
            start = max(now, h.next_at)
            h.next_at = start + h.delay
            if start > now:
                await asyncio.sleep(start - now)
            async with self.global_sem:
                if self.draining:
                    raise asyncio.CancelledError
                task = asyncio.current_task()
                self.active[task] = self.active.get(task, 0) + 1
                self.st.counters["in_flight"] += 1
                try:
                    yield
                finally:
                    self.st.counters["in_flight"] -= 1
                    if self.active[task] <= 1:
                        del self.active[task]
                    else:
                        self.active[task] -= 1
        finally:
            if h.sem is not None:
                h.sem.release()

    def _hold_host(self, host: str, seconds: float) -> None:
        """After 429/503 with Retry-After: hold back every request to that host."""
        h = self._host(host)
        h.next_at = max(h.next_at, time.monotonic() + seconds)

    # -- one request (with retries), no redirect following
    async def _request(self, url: str, *, max_bytes: int, html_only: bool,
                       info: dict | None = None) -> _Resp:
        import aiohttp
        import yarl

        st = self.st
        u = yarl.URL(url, encoded=True)
        host = u.raw_host or ""
        if not st.allow_private and _is_ip(host) and not is_public_ip(host):
            raise _Fail("private_address", f"{host} is not a public address")
        attempt = 0
        while True:
            try:
                async with self._slot(host):
                    return await self._attempt(session=self.session, u=u, max_bytes=max_bytes,
                                               html_only=html_only)
            except _Fail as f:
                fail = f
            except asyncio.TimeoutError:
                fail = _Fail("timeout", f"no answer within the timeouts ({url})", retry=True)
            except aiohttp.ClientConnectorDNSError as e:
                cause = e.os_error
                if isinstance(cause, PrivateAddressError):
                    raise _Fail("private_address", str(cause)) from None
                temporary = isinstance(cause, socket.gaierror) and cause.errno == socket.EAI_AGAIN
                fail = _Fail("dns_error", f"{host}: {cause.strerror or cause}", retry=temporary)
            except aiohttp.ClientSSLError as e:  # a bad certificate does not get better
                fail = _Fail("tls_error", f"{host}: {e}")
            except aiohttp.ClientConnectorError as e:
                fail = _Fail("connection_error", f"{host}: {e.os_error.strerror or e.os_error}",
                             retry=True)
            except aiohttp.ClientResponseError as e:  # malformed status line / headers
                fail = _Fail("connection_error", f"bad HTTP response: {e.message}", retry=True)
            except (aiohttp.ClientError, OSError) as e:
                fail = _Fail("connection_error", f"{type(e).__name__}: {e}", retry=True)
            if not fail.retry or attempt >= st.retries:
                raise fail
            wait = min(st.max_backoff, st.backoff * (2 ** attempt))
            wait = wait / 2 + random.uniform(0, wait / 2)  # "equal jitter"
            if fail.wait is not None:
                if fail.wait > st.max_backoff:
                    fail.detail = f"Retry-After {fail.wait:.0f} s > --max-backoff {st.max_backoff:g}"
                    raise fail
                wait = max(wait, fail.wait)
                self._hold_host(host, fail.wait)
            attempt += 1
            st.counters["retries"] += 1
            if info is not None:
                info["attempts"] = info.get("attempts", 1) + 1
            await asyncio.sleep(wait)

    async def _attempt(self, session: Any, u: Any, max_bytes: int, html_only: bool) -> _Resp:
        async with session.get(u, allow_redirects=False) as resp:
            status = resp.status
            hdrs = resp.headers
            if status in _REDIRECT_STATUS and "Location" in hdrs:
                return _Resp(status, str(resp.url), hdrs, location=hdrs["Location"])
            if status in _RETRY_STATUS:
                wait = _retry_after(hdrs.get("Retry-After")) if status in (429, 503) else None
                raise _Fail(f"http_{status}", resp.reason or "", status=status, retry=True, wait=wait)
            if status >= 400:
                raise _Fail(f"http_{status}", resp.reason or "", status=status)
            ctype = hdrs.get("Content-Type")
            if html_only and ctype and not is_html_type(ctype):
                raise _Fail("not_html", ctype.split(";")[0].strip(), status=status)
            clen = hdrs.get("Content-Length")
            if clen and clen.isdigit() and int(clen) > max_bytes:
                raise _Fail("too_large", f"Content-Length {clen} > {max_bytes} bytes", status=status)
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                buf += chunk
                if len(buf) > max_bytes:
                    raise _Fail("too_large", f"more than {max_bytes} bytes (aborted)", status=status)
            body = bytes(buf)
            if html_only and not ctype and not looks_like_html(body):
                raise _Fail("not_html", "no content type and the body does not look like HTML",
                            status=status)
            return _Resp(status, str(resp.url), hdrs, body=body)

    # -- robots.txt
    async def _allowed(self, url: str) -> tuple[bool, str]:
        import yarl

        if self.st.ignore_robots:
            return True, ""
        u = yarl.URL(url, encoded=True)
        origin = str(u.origin())
        fut = self.robots.get(origin)
        if fut is None:
            fut = self.robots[origin] = asyncio.ensure_future(self._load_robots(origin))
        rp = await fut
        if isinstance(rp, _Fail):
            raise _Fail(rp.reason, rp.detail)
        if rp is None:
            return True, ""
        if isinstance(rp, str):
            return False, rp
        delay = rp.crawl_delay(self.agent)
        if delay:
            h = self._host(u.raw_host or "")
            h.delay = max(h.delay, min(float(delay), MAX_CRAWL_DELAY))
        if rp.can_fetch(url, self.agent):
            return True, ""
        return False, f"robots.txt of {origin} disallows it"

    async def _load_robots(self, origin: str) -> Any:
        """Protego parser; None = allow all; str = disallow all (why); _Fail = network failure
        (the URL gets that reason: a dead host is dns_error, not robots_disallowed)."""
        from protego import Protego

        self.st.counters["robots_fetched"] += 1
        url = origin + "/robots.txt"
        try:
            for _ in range(6):  # RFC 9309: follow at least five redirects
                r = await self._request(url, max_bytes=ROBOTS_MAX_BYTES, html_only=False)
                if r.location is None:
                    break
                nxt, _why = normalize_url(str(_join(url, r.location)))
                if nxt is None:
                    return None
                url = nxt
            else:
                return None
        except _Fail as f:
            if f.reason == "too_large":
                return None
            if f.status is not None and 400 <= f.status < 500:
                return None  # RFC 9309: "unavailable" -> no restrictions
            if f.status is not None:
                return f"robots.txt of {origin} answered {f.status} (RFC 9309: treat as disallow all)"
            return f
        text = (r.body or b"").decode("utf-8", "replace")
        try:
            return Protego.parse(text)
        except Exception:  # noqa: BLE001 - unparsable robots.txt: nothing to honour
            return None

    # -- one URL, following redirects
    async def fetch_one(self, url: str, base: dict) -> dict | Rejected:
        st = self.st
        t0 = time.monotonic()
        chain = [url]
        info: dict[str, Any] = {"status": None, "final_url": url, "content_type": None,
                                "encoding": None, "bytes": 0, "elapsed_ms": None,
                                "fetched_at": None, "attempts": 1, "redirects": 0}
        try:
            while True:
                ok, why = await self._allowed(url)
                if not ok:
                    raise _Fail("robots_disallowed", why)
                r = await self._request(url, max_bytes=st.max_bytes, html_only=True, info=info)
                info["status"] = r.status
                if r.location is None:
                    break
                nxt, why = normalize_url(str(_join(url, r.location)))
                if nxt is None:
                    raise _Fail("bad_url", f"redirect to {r.location!r}: {why}", status=r.status)
                if nxt in chain:
                    raise _Fail("redirect_loop", " -> ".join(chain + [nxt])[:500], status=r.status)
                if len(chain) > st.max_redirects:
                    raise _Fail("too_many_redirects", f"more than {st.max_redirects}", status=r.status)
                chain.append(nxt)
                url = nxt
                info["final_url"] = url
                info["redirects"] += 1
        except Exception as e:  # noqa: BLE001 - one odd URL must not end a long crawl
            f = e if isinstance(e, _Fail) else _Fail("fetch_error", f"{type(e).__name__}: {e}")
            info["status"] = f.status if f.status is not None else info["status"]
            info["elapsed_ms"] = round((time.monotonic() - t0) * 1000)
            info["fetched_at"] = utc_now()
            rec = dict(base)
            set_meta(rec, "fetch", info)
            return Rejected(rec, Rejection(f.reason, f.detail))
        body = r.body or b""
        ctype = r.headers.get("Content-Type")
        html, enc = decode_html(body, ctype)
        info.update(content_type=ctype, encoding=enc, bytes=len(body),
                    elapsed_ms=round((time.monotonic() - t0) * 1000), fetched_at=utc_now())
        rec = dict(base)
        meta = rec.pop("meta", None)
        rec["html"] = html
        if meta is not None:
            rec["meta"] = meta
        set_meta(rec, "fetch", info)
        return rec


def _complete_lines(path: str) -> Iterator[bytes]:
    """The newline-terminated lines of a (possibly .gz/.zst) file, stopping quietly where a
    killed process left a torn line or a damaged compressed block."""
    try:
        f = open_text_input(path)
    except BadInput:
        return
    try:
        for line in f:
            if not line.endswith(b"\n"):
                return
            yield line
    except (OSError, EOFError, ValueError):
        return
    finally:
        f.close()


def repair_tail(path: str) -> None:
    """Make `path` end at a record boundary so appending to it is safe: truncate a plain file
    after its last newline; rewrite a compressed one whose tail is damaged (a killed run) with
    its readable complete lines."""
    if not os.path.exists(path):
        return
    if path.endswith((".gz", ".zst")):
        ok = True
        n_good = 0
        try:
            with open_text_input(path) as f:
                for line in f:
                    if not line.endswith(b"\n"):
                        ok = False
                        break
                    n_good += 1
        except (OSError, EOFError, ValueError):
            ok = False
        if ok:
            return
        w = RecordWriter(path + ".repair", atomic=True)
        try:
            for line in _complete_lines(path):
                w.write_raw(line)
            w.close()
        except BaseException:
            w.abort()
            raise
        os.replace(path + ".repair", path)
        return
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        pos = size
        while pos > 0:
            start = max(0, pos - 65536)
            f.seek(start)
            chunk = f.read(pos - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                end = start + nl + 1
                if end != size:
                    f.truncate(end)
                return
            pos = start
        f.truncate(0)


def _join(base: str, location: str) -> Any:
    import yarl

    try:
        return yarl.URL(base, encoded=True).join(yarl.URL(location.strip()))
    except (ValueError, TypeError):
        return location


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return True
    except ValueError:
        return False


def _take(it: Iterator, n: int) -> tuple[list, BaseException | None]:
    """Up to n items, and the error that stopped the input early (raised by the caller after
    the items before it have gone through)."""
    out: list = []
    try:
        for x in it:
            out.append(x)
            if len(out) >= n:
                break
    except Exception as e:  # noqa: BLE001 - re-raised by the producer
        return out, e
    return out, None


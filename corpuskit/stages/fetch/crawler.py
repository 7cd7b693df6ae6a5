"""fetch's crawler: an asyncio loop (aiohttp) in a background thread that reads the items,
fetches URLs politely (per-host limits and delays, robots.txt, Retry-After) and hands results
back in input order through a bounded window."""
from __future__ import annotations

import asyncio
import contextlib
import email.utils
import queue
import random
import socket
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import xxhash

from corpuskit.core.decode import decode_page
from corpuskit.core.records import make_id
from corpuskit.core.stage import Rejected, Rejection, set_meta
from corpuskit.io.sources import is_html_type, looks_like_html, utc_now
from corpuskit.stages.fetch import guard

# Crawl-delay values above this are treated as this (a site asking for 1 page a day would
# otherwise stall the whole ordered output).
MAX_CRAWL_DELAY = 60.0
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse (at least) the first 500 KiB; the rest is ignored
DRAIN_GRACE = 10.0  # seconds requests on the wire get to finish after Ctrl-C


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



class _Host:
    __slots__ = ("sem", "next_at", "delay")

    def __init__(self, limit: int, delay: float):
        self.sem = asyncio.Semaphore(limit) if limit > 0 else None
        self.next_at = 0.0
        self.delay = delay


class Crawler:
    """The asyncio side: reads items, fetches URLs, hands results to `out` in input order."""

    def __init__(self, stage: Any, items: Iterator[tuple[str, Any]], out: queue.Queue):
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
            resolver=guard._make_resolver(st.allow_private), limit=st.concurrency,
            limit_per_host=0, ttl_dns_cache=300,  # per-host limits are ours (_slot)
            enable_cleanup_closed=True)
        timeout = aiohttp.ClientTimeout(total=st.timeout, connect=st.connect_timeout,
                                        sock_read=st.read_timeout)
        # (result future, URL key or None) in input order; the key lets a drain hold back a
        # later duplicate's rejection when the URL's first occurrence was not finished
        pending: deque[tuple[asyncio.Future, int | None]] = deque()
        have = asyncio.Event()
        state = {"reading_done": False}
        loop = asyncio.get_running_loop()
        # results taken from `pending` but not yet handed over; the emitter's only list, read
        # by the drain once the emitter has been stopped
        box: dict[str, list] = {"batch": []}

        async def emitter() -> None:
            batch = box["batch"]
            while True:
                while not pending:
                    if state["reading_done"]:
                        return
                    have.clear()
                    await have.wait()
                await asyncio.wait({pending[0][0]})
                batch.append(pending.popleft()[0].result())
                # hand over every result that is ready in one go: one thread wake-up per
                # batch instead of per page (the GIL handoff is what costs)
                deadline = loop.time() + 0.02
                while len(batch) < 512:
                    if pending and pending[0][0].done():
                        batch.append(pending.popleft()[0].result())
                        continue
                    left = deadline - loop.time()
                    if not pending or left <= 0:
                        break
                    # wait briefly for the next one: 20 ms of latency saves a wake-up a page
                    await asyncio.wait({pending[0][0]}, timeout=left)
                out, batch = batch, []
                box["batch"] = batch
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
                        key: int | None = None
                        if kind == "ready":
                            fut = loop.create_future()
                            fut.set_result(val)
                        else:
                            key, res = self._prepare(val, seen, done_before)
                            if res is None:
                                self.window.release()
                                continue
                            if isinstance(res, Rejected):
                                fut = loop.create_future()
                                fut.set_result(res)
                            else:
                                st.counters["urls"] += 1
                                fut = asyncio.ensure_future(self.fetch_one(*res))
                        pending.append((fut, key))
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
                    await self._drain(em, pr, pending, box)
                    return
                if em.exception() is not None:
                    raise em.exception()  # type: ignore[misc]
                if pr.done() and not pr.cancelled() and pr.exception() is not None:
                    raise pr.exception()  # type: ignore[misc]
            finally:
                dr.cancel()
                futs = [f for f, _ in pending]
                for t in (em, pr, *futs):
                    t.cancel()
                await asyncio.gather(em, pr, *futs, return_exceptions=True)

    async def _drain(self, em: asyncio.Task, pr: asyncio.Task, pending: deque,
                     box: dict[str, list]) -> None:
        """Ctrl-C: start nothing new, let requests already on the wire finish (up to
        DRAIN_GRACE seconds), hand over every completed result (input order, with gaps
        where a URL was not done) so that --resume will not fetch any of them again.

        The emitter is stopped first, so the drain alone hands over what it had taken and
        what is left. A gap must not be followed by a `duplicate_url` rejection of the same
        URL: resume counts the occurrences written, so that rejection would stand for the
        unfinished first occurrence, which would then never be fetched."""
        self.draining = True
        pr.cancel()
        em.cancel()
        await asyncio.gather(pr, em, return_exceptions=True)
        for f, _ in pending:
            if f not in self.active:
                f.cancel()
        on_wire = [f for f, _ in pending if not f.done()]
        if on_wire:
            await asyncio.wait(on_wire, timeout=DRAIN_GRACE)
        done = box["batch"]
        box["batch"] = []
        unfinished: set[int] = set()
        for f, key in pending:
            if not f.done() or f.cancelled() or f.exception() is not None:
                if key is not None:
                    unfinished.add(key)
                continue
            r = f.result()
            if key in unfinished and isinstance(r, Rejected) and \
                    r.rejection.reason == "duplicate_url":
                continue
            done.append(r)
        if done:
            self.out.put(("items", done))

    def _prepare(self, val: tuple, seen: dict[int, int],
                 done_before: dict[int, int]) -> tuple[int | None, tuple | Rejected | None]:
        """Normalise and de-duplicate one URL entry: its URL key (None for a record without a
        URL) and (url, base record) to fetch, a Rejected, or None when an earlier run already
        wrote it (resume)."""
        source, lineno, raw_url, rec = val
        where = f"{source}:{lineno}"
        if not self.sources or self.sources[-1] != source:
            self.sources.append(source)
        code = (len(self.sources) - 1) << 32 | lineno
        if rec is None:
            norm, why = guard.normalize_url(raw_url)
            u = norm or raw_url.strip()
            base: dict = {"id": make_id({"url": u}), "url": u}
        else:
            base = dict(rec)
            if raw_url is None:
                return None, Rejected(base, Rejection("bad_url",
                                                      f"{where}: record has no string 'url'"))
            norm, why = guard.normalize_url(raw_url)
            if "id" not in base:
                base = {"id": make_id(base), **base}
        key = xxhash.xxh3_64_intdigest((norm or raw_url.strip()).encode("utf-8", "surrogatepass"))
        if done_before.get(key):
            # the k-th occurrence is skipped if earlier runs wrote at least k records for it
            done_before[key] -= 1
            seen.setdefault(key, code)
            self.st.counters["skipped_resume"] += 1
            return key, None
        if norm is None:
            return key, Rejected(base, Rejection("bad_url", why))
        first = seen.get(key)
        if first is not None:
            src = self.sources[first >> 32]
            return key, Rejected(base, Rejection("duplicate_url",
                                                 f"same URL as {src}:{first & 0xFFFFFFFF}"))
        seen[key] = code
        return key, (norm, base)

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
                       info: dict | None = None, truncate: bool = False) -> _Resp:
        import aiohttp
        import yarl

        st = self.st
        u = yarl.URL(url, encoded=True)
        host = u.raw_host or ""
        if not st.allow_private and guard.is_ip(host) and not guard.is_public_ip(host):
            raise _Fail("private_address", f"{host} is not a public address")
        attempt = 0
        while True:
            try:
                async with self._slot(host):
                    return await self._attempt(session=self.session, u=u, max_bytes=max_bytes,
                                               html_only=html_only, truncate=truncate)
            except _Fail as f:
                fail = f
            except asyncio.TimeoutError:
                fail = _Fail("timeout", f"no answer within the timeouts ({url})", retry=True)
            except aiohttp.ClientConnectorDNSError as e:
                cause = e.os_error
                if isinstance(cause, guard.PrivateAddressError):
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

    async def _attempt(self, session: Any, u: Any, max_bytes: int, html_only: bool,
                       truncate: bool = False) -> _Resp:
        """One GET. A body over max_bytes is too_large, or with `truncate` its first max_bytes
        are kept (robots.txt)."""
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
            if clen and clen.isdigit() and int(clen) > max_bytes and not truncate:
                raise _Fail("too_large", f"Content-Length {clen} > {max_bytes} bytes", status=status)
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                buf += chunk
                if len(buf) > max_bytes:
                    if truncate:
                        del buf[max_bytes:]
                        break
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
                r = await self._request(url, max_bytes=ROBOTS_MAX_BYTES + 1, html_only=False,
                                        truncate=True)
                if r.location is None:
                    break
                nxt, _why = guard.normalize_url(str(guard.join_url(url, r.location)))
                if nxt is None:
                    return None
                url = nxt
            else:
                return None
        except _Fail as f:
            if f.status is not None and 400 <= f.status < 500:
                return None  # RFC 9309: "unavailable" -> no restrictions
            if f.status is not None:
                return f"robots.txt of {origin} answered {f.status} (RFC 9309: treat as disallow all)"
            return f
        body = r.body or b""
        if len(body) > ROBOTS_MAX_BYTES:  # parse the first 500 KiB, up to its last whole line
            body = body[:body.rfind(b"\n", 0, ROBOTS_MAX_BYTES) + 1]
        text = body.decode("utf-8", "replace")
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
                nxt, why = guard.normalize_url(str(guard.join_url(url, r.location)))
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
        html, enc, replaced = decode_page(body, ctype)
        info.update(content_type=ctype, encoding=enc, bytes=len(body),
                    elapsed_ms=round((time.monotonic() - t0) * 1000), fetched_at=utc_now())
        if replaced:  # bytes the declared or sniffed codec could not decode
            info["replaced"] = replaced
        rec = dict(base)
        meta = rec.pop("meta", None)
        rec["html"] = html
        if meta is not None:
            rec["meta"] = meta
        set_meta(rec, "fetch", info)
        return rec



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

"""Benchmark for `fetch`: crawl speed against a local server, memory as the URL list grows,
and WARC read throughput. Every figure comes with a baseline run in the same script on the
same input (median of several runs: the machine is shared and noisy).

    python benchmarks/bench_fetch.py [--quick]

1. pages/s fetching N pages from a local aiohttp server (its own process) with per-host limits
   lifted (--per-host 0 --delay 0), vs a plain `aiohttp` gather loop with the same
   concurrency (no robots, no ordering, no checks): the cost of being polite and careful.
2. peak RSS of a process fetching 1k vs 10k URLs (output discarded): the ordered window keeps
   memory flat.
3. WARC read MB/s: corpuskit's reader (FastWARC + truncation checks + decoding) vs warcio
   (ArchiveIterator + content_stream + the same decoding) on a generated .warc.gz.

Writes benchmarks/results/fetch.json.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import require_packages, save  # noqa: E402

SERVER = r'''
import sys, random
from aiohttp import web
random.seed(1)
words = ["data", "corpus", "language", "model", "crawl", "page", "text", "web", "clean", "token"]
zh = "中文网页数据清洗语言模型训练文本质量过滤去重"
def page(n):
    rnd = random.Random(n)
    paras = []
    for _ in range(40):
        en = " ".join(rnd.choice(words) for _ in range(40))
        cn = "".join(rnd.choice(zh) for _ in range(60))
        paras.append(f"<p>{en}</p><p>{cn}</p>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>page %d</title></head><body>%s</body></html>"
            % (n, "".join(paras))).encode()
PAGES = [page(i) for i in range(64)]
async def handle(request):
    n = int(request.match_info["n"])
    return web.Response(body=PAGES[n % 64], content_type="text/html", charset="utf-8")
async def robots(request):
    return web.Response(text="User-agent: *\nDisallow: /private\n", content_type="text/plain")
app = web.Application()
app.router.add_get("/page/{n}", handle)
app.router.add_get("/robots.txt", robots)
async def main():
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    import asyncio
    await asyncio.Event().wait()
import asyncio
asyncio.run(main())
'''

MEM_CHILD = r'''
import resource, sys
sys.path.insert(0, sys.argv[3])
from corpuskit.stages.fetch.stage import Fetch
st = Fetch(allow_private=True, per_host=0, delay=0.0, concurrency=64)
n = 0
for r in st.read([sys.argv[1]]):
    n += 1
assert n == int(sys.argv[2]), n
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
'''


def start_server() -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline())
    return p, port


def write_urls(path: Path, port: int, n: int, start: int = 0) -> None:
    path.write_text("".join(f"http://127.0.0.1:{port}/page/{i}\n" for i in range(start, start + n)))


def run_fetch(urls: Path, n: int) -> float:
    from corpuskit.stages.fetch.stage import Fetch

    st = Fetch(allow_private=True, per_host=0, delay=0.0, concurrency=64)
    t0 = time.perf_counter()
    got = sum(1 for r in st.read([str(urls)]) if isinstance(r, dict))
    dt = time.perf_counter() - t0
    assert got == n, f"fetched {got} of {n}"
    return n / dt


def run_baseline(port: int, n: int, start: int) -> float:
    import aiohttp

    async def main() -> int:
        sem = asyncio.Semaphore(64)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as s:
            async def one(i: int) -> int:
                async with sem, s.get(f"http://127.0.0.1:{port}/page/{i}") as r:
                    await r.read()
                    return r.status
            res = await asyncio.gather(*(one(i) for i in range(start, start + n)))
        return sum(1 for x in res if x == 200)

    t0 = time.perf_counter()
    got = asyncio.run(main())
    dt = time.perf_counter() - t0
    assert got == n
    return n / dt


def peak_rss_mb(urls: Path, n: int) -> float:
    out = subprocess.run([sys.executable, "-c", MEM_CHILD, str(urls), str(n), str(ROOT)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def make_warc(path: Path, n: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rnd = random.Random(7)
    words = ["data", "corpus", "language", "model", "crawl", "page", "text", "web"]
    raw_bytes = 0
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for i in range(n):
            paras = "".join(f"<p>{' '.join(rnd.choice(words) for _ in range(30))} 中文网页文本</p>"
                            for _ in range(60))
            body = (f"<html><head><meta charset='utf-8'><title>{i}</title></head>"
                    f"<body>{paras}</body></html>").encode()
            raw_bytes += len(body)
            h = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(f"http://ex.com/{i}", "response",
                                                payload=io.BytesIO(body), http_headers=h))
            if i % 4 == 0:  # request and metadata records, as in Common Crawl
                hq = StatusAndHeaders("GET / HTTP/1.1", [("Host", "ex.com")], is_http_request=True)
                w.write_record(w.create_warc_record(f"http://ex.com/{i}", "request",
                                                    payload=io.BytesIO(b""), http_headers=hq))
    return raw_bytes


def read_corpuskit(path: Path) -> int:
    from corpuskit.io.sources import iter_warc

    return sum(len(r["html"]) for r in iter_warc(path) if isinstance(r, dict))


def read_warcio(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    from corpuskit.core.decode import decode_html

    total = 0
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type != "response":
                continue
            body = rec.content_stream().read()
            ctype = rec.http_headers.get_header("Content-Type")
            html, _ = decode_html(body, ctype)
            total += len(html)
    return total


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = ap.parse_args()
    require_packages("aiohttp", "warcio", "fastwarc")
    n_pages = 500 if args.quick else 2000
    reps = 1 if args.quick else 3
    mem_sizes = (1000, 4000) if args.quick else (1000, 10000)
    n_warc = 500 if args.quick else 3000

    results: dict = {"quick": args.quick}
    tmp = Path(tempfile.mkdtemp(prefix="bench_fetch_"))
    srv, port = start_server()
    try:
        # warm up the server and the client imports
        write_urls(tmp / "warm.txt", port, 50, 10**7)
        run_fetch(tmp / "warm.txt", 50)
        ours, base = [], []
        for r in range(reps):
            # fresh URLs each run, so nothing is cached or de-duplicated across runs
            write_urls(tmp / "u.txt", port, n_pages, r * 2 * n_pages)
            ours.append(run_fetch(tmp / "u.txt", n_pages))
            base.append(run_baseline(port, n_pages, r * 2 * n_pages + n_pages))
        results["crawl"] = {"pages": n_pages, "runs": reps, "corpuskit_pages_per_s": round(med(ours), 1),
                            "aiohttp_gather_pages_per_s": round(med(base), 1),
                            "ratio": round(med(ours) / med(base), 3),
                            "target_pages_per_s": 300, "met": med(ours) >= 300}
        rss = {}
        for n in mem_sizes:
            write_urls(tmp / f"m{n}.txt", port, n, 5 * 10**6 + n * 10)
            rss[n] = peak_rss_mb(tmp / f"m{n}.txt", n)
        a, b = mem_sizes
        results["memory"] = {"urls": list(mem_sizes), "peak_rss_mb": [round(rss[a], 1), round(rss[b], 1)],
                             "ratio": round(rss[b] / rss[a], 3)}
    finally:
        srv.terminate()
        srv.wait()

    warc = tmp / "bench.warc.gz"
    raw_bytes = make_warc(warc, n_warc)
    size = warc.stat().st_size
    ck, wi = [], []
    for _ in range(reps + 1):
        t0 = time.perf_counter()
        a1 = read_corpuskit(warc)
        ck.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        a2 = read_warcio(warc)
        wi.append(time.perf_counter() - t0)
        assert a1 == a2, (a1, a2)
    results["warc"] = {"records": n_warc, "file_mb": round(size / 1e6, 2),
                       "payload_mb": round(raw_bytes / 1e6, 2),
                       "corpuskit_mb_per_s": round(raw_bytes / 1e6 / med(ck), 1),
                       "warcio_mb_per_s": round(raw_bytes / 1e6 / med(wi), 1),
                       "ratio": round(med(wi) / med(ck), 2)}

    c, m, w = results["crawl"], results["memory"], results["warc"]
    rows = [
        ("crawl pages/s (local server, per-host limits lifted)", f"{c['corpuskit_pages_per_s']:,.0f}",
         f"aiohttp gather {c['aiohttp_gather_pages_per_s']:,.0f}", f"{c['ratio']:.2f}x"),
        (f"peak RSS {m['urls'][0]:,} -> {m['urls'][1]:,} URLs (MB)", f"{m['peak_rss_mb'][1]:,.0f}",
         f"{m['peak_rss_mb'][0]:,.0f} at {m['urls'][0]:,}", f"{m['ratio']:.2f}x"),
        ("WARC read MB/s of HTML payload (.warc.gz)", f"{w['corpuskit_mb_per_s']:,.1f}",
         f"warcio {w['warcio_mb_per_s']:,.1f}", f"{w['ratio']:.2f}x"),
    ]
    print(f"\nfetch benchmark ({'quick' if args.quick else 'full'}; median of {reps} runs; {os.cpu_count()} CPUs)")
    print(f"{'measure':<55} {'corpuskit':>10}  {'baseline':>24}  {'ratio':>7}")
    for r in rows:
        print(f"{r[0]:<55} {r[1]:>10}  {r[2]:>24}  {r[3]:>7}")
    print(f"target >= 300 pages/s: {'met' if c['met'] else 'NOT met'}")
    out = save("fetch", results)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

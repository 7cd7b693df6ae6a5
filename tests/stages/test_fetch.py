"""fetch: against a real HTTP server on 127.0.0.1 (a pytest fixture); nothing touches the
internet. Every network test passes allow_private=True because the server is on loopback."""
from __future__ import annotations

import gzip
import http.server
import json
import socket
import threading
import time
from pathlib import Path

import brotli
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core.errors import BadInput
from corpuskit.core.stage import Rejected
from corpuskit.io.jsonl import read_records
from corpuskit.stages.fetch.guard import is_public_ip, normalize_url, url_key
from corpuskit.stages.fetch.stage import Fetch

PAGE = "<html><head><title>t</title></head><body><p>page {n}</p></body></html>"
ZH = "<html><head><title>中文</title></head><body><p>这是一个中文网页，用来测试编码。</p></body></html>"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # keep pytest output clean
        pass

    def _send(self, status, body=b"", ctype="text/html; charset=utf-8", headers=(), length=True):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
            self.close_connection = True

    def do_GET(self):  # noqa: C901 - one route table
        srv = self.server
        path = self.path
        with srv.lock:
            srv.hits[path] = srv.hits.get(path, 0) + 1
            n_hit = srv.hits[path]
            srv.log.append((time.monotonic(), path, self.headers.get("User-Agent")))
        if path == "/robots.txt":
            if srv.robots is None:
                return self._send(404, b"no", "text/plain")
            if srv.robots == 500:
                return self._send(500, b"oops", "text/plain")
            return self._send(200, srv.robots.encode(), "text/plain")
        if path.startswith("/page/"):
            return self._send(200, PAGE.format(n=path[6:]).encode())
        if path.startswith("/slowpage/"):
            time.sleep(0.3 if path.endswith("/0") else 0)
            return self._send(200, PAGE.format(n=path[10:]).encode())
        if path == "/slow":
            time.sleep(1.5)
            return self._send(200, b"<html>late</html>")
        if path == "/flaky429":
            if n_hit == 1:
                return self._send(429, b"slow down", "text/plain", [("Retry-After", "1")])
            return self._send(200, PAGE.format(n="429").encode())
        if path == "/429-long":
            return self._send(429, b"slow down", "text/plain", [("Retry-After", "3600")])
        if path == "/flaky500":
            if n_hit == 1:
                return self._send(500, b"oops", "text/plain")
            return self._send(200, PAGE.format(n="500").encode())
        if path == "/500":
            return self._send(500, b"oops", "text/plain")
        if path == "/404":
            return self._send(404, b"<html>not found</html>")
        if path == "/loop-a":
            return self._send(302, b"", None, [("Location", "/loop-b")])
        if path == "/loop-b":
            return self._send(302, b"", None, [("Location", f"http://127.0.0.1:{srv.port}/loop-a#x")])
        if path.startswith("/chain/"):
            k = int(path[7:])
            return self._send(301, b"", None, [("Location", f"/chain/{k + 1}")])
        if path == "/redir":
            return self._send(301, b"", None, [("Location", "/page/target")])
        if path == "/redir-private-ip":
            return self._send(302, b"", None, [("Location", f"http://127.0.0.2:{srv.port}/page/1")])
        if path == "/redir-private-name":
            return self._send(302, b"", None, [("Location", f"http://intranet.test:{srv.port}/page/1")])
        if path == "/redir-ftp":
            return self._send(302, b"", None, [("Location", "ftp://example.com/x")])
        if path == "/big":  # no Content-Length: only the streamed cap can stop it
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"<p>" + b"x" * 10_000 + b"</p>")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return None
        if path == "/big-cl":
            return self._send(200, b"<p>" + b"y" * 300_000 + b"</p>")
        if path == "/gzip":
            return self._send(200, gzip.compress(PAGE.format(n="gzip").encode()),
                              headers=[("Content-Encoding", "gzip")])
        if path == "/br":
            return self._send(200, brotli.compress(PAGE.format(n="brotli").encode()),
                              headers=[("Content-Encoding", "br")])
        if path == "/gzip-bomb":  # small on the wire, large once decoded
            return self._send(200, gzip.compress(b"<html>" + b"a" * 2_000_000),
                              headers=[("Content-Encoding", "gzip")])
        if path == "/pdf":
            return self._send(200, b"%PDF-1.4 ...", "application/pdf")
        if path == "/notype":
            return self._send(200, b"<!DOCTYPE html><html><body>no type</body></html>", None)
        if path == "/zh-wrong-charset":  # UTF-8 body, header claims Latin-1
            return self._send(200, ZH.encode("utf-8"), "text/html; charset=iso-8859-1")
        if path == "/zh-gbk":  # GBK body, declared only in <meta>
            body = ZH.replace("<head>", '<head><meta charset="gb2312">').encode("gbk")
            return self._send(200, body, "text/html")
        if path.startswith("/private") or path.startswith("/nocorpuskit"):
            return self._send(200, PAGE.format(n="secret").encode())
        return self._send(404, b"<html>no route</html>")


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.hits = {}
    srv.log = []
    srv.lock = threading.Lock()
    srv.robots = "User-agent: *\nDisallow: /private\n\nUser-agent: corpuskit\nDisallow: /nocorpuskit\nDisallow: /private\n"
    srv.port = srv.server_address[1]
    srv.base = f"http://127.0.0.1:{srv.port}"
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


FAST = dict(allow_private=True, delay=0.0, per_host=8, backoff=0.01, max_backoff=5.0,
            retries=2, timeout=5.0, connect_timeout=2.0, read_timeout=5.0)


def fetch(urls, tmp_path, **kw):
    opts = {**FAST, **kw}
    st = Fetch(**opts)
    p = tmp_path / "urls.txt"
    p.write_text("\n".join(urls) + "\n")
    out = list(st.read([str(p)]))
    return st, out


def reason(r):
    return r.rejection.reason if isinstance(r, Rejected) else None


# ------------------------------------------------------------------ pure helpers
def test_normalize_url():
    assert normalize_url("HTTP://Example.COM:80/a b?x=1#frag") == ("http://example.com/a%20b?x=1", "")
    assert normalize_url("https://ex.com:443")[0] == "https://ex.com/"
    assert normalize_url("http://ex.com:8080/p")[0] == "http://ex.com:8080/p"
    assert normalize_url("http://münchen.de/ä")[0] == "http://xn--mnchen-3ya.de/%C3%A4"
    assert normalize_url("http://例子.中国/路径")[0].startswith("http://xn--")
    for bad in ("ftp://ex.com/", "example.com/page", "http://", "http://a b.com/", "mailto:x@y",
                "http://ex.com:99999/", "javascript:alert(1)", ""):
        assert normalize_url(bad)[0] is None, bad
    assert url_key("http://EX.com/#a") == url_key("http://ex.com/")


@settings(max_examples=300, deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]),
       host=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,10}(\.[A-Za-z]{2,5}){1,2}", fullmatch=True)
       | st.sampled_from(["例子.中国", "münchen.de", "[2001:db8::1]", "1.2.3.4"]),
       port=st.sampled_from(["", ":80", ":443", ":8080"]),
       path=st.text(alphabet=st.sampled_from(list("abc/%?=&#. 中文é~+")), max_size=20))
def test_normalize_url_is_idempotent(scheme, host, port, path):
    norm, why = normalize_url(f"{scheme}://{host}{port}/{path}")
    if norm is None:
        assert why
        return
    assert normalize_url(norm) == (norm, "")
    assert "#" not in norm and norm.startswith(("http://", "https://"))
    assert url_key(norm) == url_key(f"{scheme}://{host}{port}/{path}")


def test_public_ip():
    for a in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.0.1", "169.254.169.254", "::1",
              "fe80::1", "fc00::1", "100.64.0.1", "0.0.0.0", "::ffff:127.0.0.1", "224.0.0.1"):
        assert not is_public_ip(a), a
    for a in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"):
        assert is_public_ip(a), a


def test_options_validated():
    with pytest.raises(ValueError):
        Fetch(concurrency=0)
    with pytest.raises(ValueError):
        Fetch(timeout=0)
    with pytest.raises(ValueError):
        Fetch(user_agent=" ")


# ------------------------------------------------------------------ fetching
def test_pages_in_input_order_with_meta(server, tmp_path):
    urls = [f"{server.base}/slowpage/{i}" for i in range(6)]  # the first one is the slowest
    st, out = fetch(urls, tmp_path, window=3)
    assert [r["url"] for r in out] == urls
    r = out[0]
    assert list(r) == ["id", "url", "html", "meta"]
    assert "page 0" in r["html"]
    f = r["meta"]["fetch"]
    assert f["status"] == 200 and f["final_url"] == urls[0]
    assert f["content_type"].startswith("text/html") and f["encoding"] == "utf-8"
    assert f["bytes"] == len(PAGE.format(n=0)) and f["elapsed_ms"] >= 0
    assert f["fetched_at"].endswith("Z")
    assert st.result()["pages"] == 6
    # the User-Agent names corpuskit
    assert all("corpuskit" in ua for _, _, ua in server.log)


def test_every_failure_has_its_reason(server, tmp_path):
    b = server.base
    cases = {
        f"{b}/404": "http_404",
        f"{b}/500": "http_500",
        f"{b}/429-long": "http_429",
        f"{b}/loop-a": "redirect_loop",
        f"{b}/chain/0": "too_many_redirects",
        f"{b}/big": "too_large",
        f"{b}/big-cl": "too_large",
        f"{b}/gzip-bomb": "too_large",
        f"{b}/pdf": "not_html",
        f"{b}/private/x": "robots_disallowed",
        f"{b}/nocorpuskit": "robots_disallowed",
        f"{b}/redir-ftp": "bad_url",
        "not a url": "bad_url",
        "ftp://example.com/file": "bad_url",
        f"http://127.0.0.1:{_free_port()}/": "connection_error",
    }
    st, out = fetch(list(cases), tmp_path, max_bytes=100_000, max_redirects=3, retries=1)
    got = {(r.record["url"] if isinstance(r, Rejected) else r["url"]): reason(r) for r in out}
    want = {(normalize_url(u)[0] or u): v for u, v in cases.items()}
    assert got == want
    assert server.hits["/404"] == 1  # 4xx is not retried
    assert server.hits["/500"] == 2  # 5xx is: 1 retry
    assert server.hits["/429-long"] == 1  # Retry-After beyond --max-backoff: give up at once
    assert server.hits["/robots.txt"] == 1  # cached per origin
    assert "/private/x" not in server.hits and "/nocorpuskit" not in server.hits
    rej = next(r for r in out if reason(r) == "http_404")
    assert rej.record["meta"]["fetch"]["status"] == 404 and "html" not in rej.record
    assert st.result()["rejected"] == len(cases)


def test_retry_after_and_5xx_recovery(server, tmp_path):
    st, out = fetch([f"{server.base}/flaky429", f"{server.base}/flaky500"], tmp_path)
    assert [reason(r) for r in out] == [None, None]
    assert out[0]["meta"]["fetch"]["attempts"] == 2 and out[1]["meta"]["fetch"]["attempts"] == 2
    # Retry-After: 1 was honoured (backoff alone would have waited ~0.01 s)
    t = [ts for ts, p, _ in server.log if p == "/flaky429"]
    assert t[1] - t[0] >= 0.95
    assert st.result()["retries"] == 2


def test_timeout(server, tmp_path):
    st, out = fetch([f"{server.base}/slow"], tmp_path, timeout=0.3, read_timeout=0.3, retries=1)
    assert reason(out[0]) == "timeout"
    assert server.hits["/slow"] == 2


def test_redirect_final_url_and_decoding(server, tmp_path):
    b = server.base
    st, out = fetch([f"{b}/redir", f"{b}/gzip", f"{b}/br", f"{b}/notype", f"{b}/zh-wrong-charset",
                     f"{b}/zh-gbk"], tmp_path)
    assert all(not isinstance(r, Rejected) for r in out), [reason(r) for r in out]
    red, gz, br, notype, zh, gbk = out
    assert red["url"] == f"{b}/redir" and red["meta"]["fetch"]["final_url"] == f"{b}/page/target"
    assert red["meta"]["fetch"]["redirects"] == 1
    assert "page gzip" in gz["html"] and "page brotli" in br["html"]
    assert "no type" in notype["html"]
    assert "这是一个中文网页" in zh["html"] and zh["meta"]["fetch"]["encoding"] == "utf-8"
    assert "这是一个中文网页" in gbk["html"] and gbk["meta"]["fetch"]["encoding"] == "gb18030"


def test_dedup_and_jsonl_input(server, tmp_path):
    b = server.base
    lines = [f"{b}/page/1", json.dumps({"url": f"{b}/page/2", "id": "mine", "lang": "zh"}),
             f"{b.upper().replace('HTTP://', 'http://')}/page/1#top", "# a comment", "",
             json.dumps({"no_url": 1})]
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines) + "\n")
    out = list(Fetch(**FAST).read([str(p)]))
    assert [reason(r) for r in out] == [None, None, "duplicate_url", "bad_url"]
    assert out[1]["id"] == "mine" and out[1]["lang"] == "zh" and list(out[1]) == ["url", "id", "lang", "html", "meta"]
    assert "in.jsonl:1" in out[2].rejection.detail
    assert server.hits["/page/1"] == 1


def test_robots_ignored_and_5xx_robots(server, tmp_path):
    st, out = fetch([f"{server.base}/private/x"], tmp_path, ignore_robots=True)
    assert reason(out[0]) is None and "/robots.txt" not in server.hits
    server.robots = 500
    st, out = fetch([f"{server.base}/page/1"], tmp_path, retries=0)
    assert reason(out[0]) == "robots_disallowed" and "500" in out[0].rejection.detail
    server.robots = None  # 404: no restrictions
    st, out = fetch([f"{server.base}/private/y"], tmp_path)
    assert reason(out[0]) is None


def test_per_host_delay(server, tmp_path):
    urls = [f"{server.base}/page/{i}" for i in range(4)]
    fetch(urls, tmp_path, per_host=1, delay=0.2, ignore_robots=True)
    t = sorted(ts for ts, p, _ in server.log if p.startswith("/page/"))
    assert len(t) == 4
    # the server stamps a request when its handler thread runs, which a loaded machine delays by
    # tens of ms; the starts themselves are 0.2 s apart, so the span of 3 gaps stays >= ~0.6 s
    # (without the delay the 4 requests arrive within a few ms)
    assert t[-1] - t[0] >= 0.5
    assert all(b - a >= 0.1 for a, b in zip(t, t[1:], strict=False))


def test_private_addresses_refused(server, tmp_path, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *a, **k):
        if host == "evil.test":  # a public-looking name that resolves to loopback
            return real("127.0.0.1", *a, **k)
        if host == "nxdomain.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    urls = [f"{server.base}/page/1", f"http://evil.test:{server.port}/page/2",
            f"http://localhost:{server.port}/page/3", "http://[::1]/", "http://169.254.169.254/latest",
            "http://nxdomain.test/"]
    st, out = fetch(urls, tmp_path, allow_private=False)
    assert [reason(r) for r in out] == ["private_address"] * 5 + ["dns_error"]
    assert server.hits == {}  # nothing reached the server, not even robots.txt


def test_resume_fetches_nothing_twice(server, tmp_path):
    urls = [f"{server.base}/page/{i}" for i in range(8)] + [f"{server.base}/404", "bad url",
                                                            f"{server.base}/page/1"]
    p = tmp_path / "urls.txt"
    p.write_text("\n".join(urls) + "\n")
    out_path, rej_path = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    full = list(Fetch(**FAST).read([str(p)]))
    # an interrupted run: the first 3 pages and 1 rejection written, plus a torn line
    kept = [r for r in full if not isinstance(r, Rejected)][:3]
    out_path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in kept) + b'{"id": "torn", "url": "' +
                         f"{server.base}/page/5".encode())
    rej_path.write_bytes(orjson.dumps(next(r.record for r in full if isinstance(r, Rejected))) + b"\n")
    server.hits.clear()
    st = Fetch(**FAST, resume_from=f"{out_path},{rej_path}")
    rest = list(st.read([str(p)]))
    got = [r["url"] if not isinstance(r, Rejected) else r.record["url"] for r in rest]
    assert got == [f"{server.base}/page/{i}" for i in range(3, 8)] + ["bad url", f"{server.base}/page/1"]
    assert reason(rest[-1]) == "duplicate_url"
    assert all(server.hits.get(f"/page/{i}", 0) == 0 for i in range(3))
    assert server.hits.get("/404", 0) == 0
    assert st.result()["skipped_resume"] == 4


def test_early_close_stops_cleanly(server, tmp_path):
    p = tmp_path / "urls.txt"
    p.write_text("\n".join(f"{server.base}/page/{i}" for i in range(200)) + "\n")
    gen = Fetch(**FAST, window=10).read([str(p)])
    first = [next(gen) for _ in range(3)]
    time.sleep(0.3)
    # the window bounds what is fetched ahead of a reader that does not read
    assert sum(v for k, v in server.hits.items() if k.startswith("/page/")) <= 10
    gen.close()
    assert len(first) == 3
    assert sum(v for k, v in server.hits.items() if k.startswith("/page/")) < 200


def test_bad_json_line_is_bad_input_after_earlier_records(server, tmp_path):
    p = tmp_path / "urls.txt"
    p.write_text(f"{server.base}/page/1\n{{not json\n")
    gen = Fetch(**FAST).read([str(p)])
    assert next(gen)["url"] == f"{server.base}/page/1"
    with pytest.raises(BadInput) as e:
        next(gen)
    assert e.value.line == 2


def test_mixed_inputs_keep_order(server, tmp_path):
    d = tmp_path / "saved"
    d.mkdir()
    (d / "a.html").write_text("<html><body>saved page</body></html>")
    (d / "notes.txt").write_text("ignored")
    p = tmp_path / "urls.txt"
    p.write_text(f"{server.base}/page/1\n")
    st = Fetch(**FAST)
    out = list(st.read([str(p), str(d)]))
    assert out[0]["url"] == f"{server.base}/page/1" and "saved page" in out[1]["html"]
    assert st.result()["ignored_files"] == 1


def test_cli_fetch(server, tmp_path, run_cli):
    p = tmp_path / "urls.txt"
    p.write_text(f"{server.base}/page/1\n{server.base}/404\n")
    r = run_cli(["fetch", p, "--allow-private", "--delay", "0", "--rejected", tmp_path / "rej.jsonl"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(recs) == 1 and "page 1" in recs[0]["html"]
    rej = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert rej[0]["meta"]["rejected"]["reason"] == "http_404"


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _cli_env():
    import os

    e = dict(os.environ)
    e["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def test_cli_interrupt_then_resume(server, tmp_path, run_cli):
    """A real Ctrl-C mid-crawl keeps what was written; --resume fetches only the rest."""
    import signal
    import subprocess
    import sys

    n = 60
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{server.base}/page/{i}\n" for i in range(n)) + f"{server.base}/404\n")
    out, rej = tmp_path / "pages.jsonl", tmp_path / "rej.jsonl"
    args = [sys.executable, "-m", "corpuskit", "fetch", str(urls), "-o", str(out), "--rejected", str(rej),
            "--allow-private", "--ignore-robots", "--per-host", "1", "--delay", "0.05", "-q"]
    p = subprocess.Popen(args, env=_cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= 5:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    first = [json.loads(x) for x in out.read_text().splitlines()]
    assert 5 <= len(first) < n
    r = run_cli(["fetch", urls, "-o", out, "--rejected", rej, "--resume", "--allow-private",
                 "--ignore-robots", "--per-host", "8", "--delay", "0", "-q"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(x["url"] for x in recs) == sorted(f"{server.base}/page/{i}" for i in range(n))
    assert [json.loads(x)["url"] for x in rej.read_text().splitlines()] == [f"{server.base}/404"]
    assert all(server.hits.get(f"/page/{i}") == 1 for i in range(n))  # nothing fetched twice


def test_cli_resume_needs_output(tmp_path, run_cli):
    p = tmp_path / "urls.txt"
    p.write_text("http://example.com/\n")
    r = run_cli(["fetch", p, "--resume"])
    assert r.returncode == 2 and b"--resume needs -o" in r.stderr


def test_cli_resume_repairs_torn_line(server, tmp_path, run_cli):
    p = tmp_path / "urls.txt"
    p.write_text(f"{server.base}/page/1\n{server.base}/page/2\n")
    out = tmp_path / "o.jsonl"
    out.write_text(json.dumps({"id": "x", "url": f"{server.base}/page/1", "html": ""}) + '\n{"id": "torn", "ur')
    r = run_cli(["fetch", p, "-o", out, "--resume", "--allow-private", "--delay", "0", "-q"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["url"] for x in recs] == [f"{server.base}/page/1", f"{server.base}/page/2"]
    assert "/page/1" not in server.hits


def test_cli_stdin_urls_and_warc_file(server, tmp_path, run_cli):
    r = run_cli(["fetch", "--allow-private", "--delay", "0", "-q"],
                input=f"{server.base}/page/7\n{server.base}/pdf\n".encode())
    assert r.returncode == 0, r.stderr
    (rec,) = [json.loads(x) for x in r.stdout.splitlines()]
    assert "page 7" in rec["html"]
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    w_path = tmp_path / "c.warc.gz"
    with open(w_path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        h = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=gbk")], protocol="HTTP/1.1")
        import io

        w.write_record(w.create_warc_record("http://ex.com/zh", "response",
                                            payload=io.BytesIO(ZH.encode("gbk")), http_headers=h))
    r = run_cli(["fetch", w_path, "-q"])
    assert r.returncode == 0, r.stderr
    (rec,) = [json.loads(x) for x in r.stdout.splitlines()]
    assert rec["url"] == "http://ex.com/zh" and "这是一个中文网页" in rec["html"]
    # a cut WARC: one-line error naming the file and the offset, exit 1
    w_path.write_bytes(w_path.read_bytes()[:-20])
    r = run_cli(["fetch", w_path, "-q"])
    assert r.returncode == 1
    err = r.stderr.decode()
    assert err.startswith("corpuskit fetch: error:") and "c.warc.gz" in err and "byte offset" in err
    assert "Traceback" not in err


def test_https_untrusted_certificate_is_tls_error(tmp_path):
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.hits, srv.log, srv.lock, srv.robots, srv.port = {}, [], threading.Lock(), None, 0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = f"https://127.0.0.1:{srv.server_address[1]}/page/1"
        st, out = fetch([url], tmp_path, ignore_robots=True)
        assert reason(out[0]) == "tls_error"
        assert st.result()["retries"] == 0
    finally:
        srv.shutdown()
        srv.server_close()


def test_every_redirect_hop_is_checked(server, tmp_path, monkeypatch):
    """Pretend 127.0.0.1 is public; a redirect to another loopback address (literal, or a name
    that resolves to one) must still be refused."""
    import corpuskit.stages.fetch.guard as fetch_mod

    monkeypatch.setattr(fetch_mod, "is_public_ip", lambda a: a == "127.0.0.1")
    real = socket.getaddrinfo

    def fake(host, *a, **k):
        return real("127.0.0.3" if host == "intranet.test" else host, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    st, out = fetch([f"{server.base}/redir-private-ip", f"{server.base}/redir-private-name",
                     f"{server.base}/page/ok"], tmp_path, allow_private=False, ignore_robots=True)
    assert [reason(r) for r in out] == ["private_address", "private_address", None]
    assert out[0].record["meta"]["fetch"]["final_url"] == f"http://127.0.0.2:{server.port}/page/1"
    assert server.hits.get("/page/1") is None


def _interrupt_then_resume(server, tmp_path, urls, first_args, wait_for, sig="SIGINT"):
    """Run fetch in a real process, Ctrl-C it (or send `sig`) once `wait_for()` holds, then
    --resume in-process; returns (records, rejections) of both runs together."""
    import signal
    import subprocess
    import sys

    p = tmp_path / "urls.txt"
    p.write_text("".join(u + "\n" for u in urls))
    out, rej = tmp_path / "p.jsonl", tmp_path / "r.jsonl"
    args = [sys.executable, "-m", "corpuskit", "fetch", str(p), "-o", str(out), "--rejected", str(rej),
            "--allow-private", "-q", *first_args]
    proc = subprocess.Popen(args, env=_cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not wait_for():
        time.sleep(0.02)
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    return p, out, rej


def _both(out, rej):
    recs = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    rejs = [json.loads(x) for x in rej.read_text().splitlines()] if rej.exists() else []
    return recs, rejs


def test_interrupt_with_duplicates_then_resume_loses_nothing(server, tmp_path, run_cli):
    """Ctrl-C while a URL waits for its host's delay and its duplicate is already rejected:
    the duplicate's rejection must not be written before the URL itself, or resume would
    count the URL as done and never fetch it."""
    r1, a = f"{server.base}/page/r1", f"{server.base}/page/A"
    p, out, rej = _interrupt_then_resume(
        server, tmp_path, [r1, a, a], ["--delay", "3", "--per-host", "1"],
        lambda: server.hits.get("/robots.txt", 0) >= 1)
    r = run_cli(["fetch", p, "-o", out, "--rejected", rej, "--resume", "--allow-private",
                 "--delay", "0", "-q"])
    assert r.returncode == 0, r.stderr
    recs, rejs = _both(out, rej)
    assert sorted(x["url"] for x in recs) == sorted([r1, a])
    assert [(x["url"], x["meta"]["rejected"]["reason"]) for x in rejs] == [(a, "duplicate_url")]
    assert server.hits.get("/page/A") == 1 and server.hits.get("/page/r1") == 1


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_interrupt_mid_crawl_then_resume_every_url_once(server, tmp_path, run_cli, sig):
    """A longer list with repeated URLs, Ctrl-C (or SIGTERM, which is taken as Ctrl-C: it
    killed the crawl where it stood) while pages are being written: across both runs every
    input line is in the output or the rejections exactly once, every unique URL was
    requested, and none twice."""
    uniq = [f"{server.base}/page/{i}" for i in range(40)]
    urls = [u for i, u in enumerate(uniq) for _ in range(1 + (i % 3 == 0))]
    out_path = tmp_path / "p.jsonl"
    p, out, rej = _interrupt_then_resume(
        server, tmp_path, urls, ["--delay", "0.05", "--per-host", "2", "--ignore-robots"],
        lambda: out_path.exists() and out_path.read_bytes().count(b"\n") >= 8, sig=sig)
    r = run_cli(["fetch", p, "-o", out, "--rejected", rej, "--resume", "--allow-private",
                 "--ignore-robots", "--delay", "0", "-q"])
    assert r.returncode == 0, r.stderr
    recs, rejs = _both(out, rej)
    assert sorted(x["url"] for x in recs) == sorted(uniq)
    dups = sorted(x["url"] for x in rejs)
    assert dups == sorted(u for i, u in enumerate(uniq) if i % 3 == 0)
    assert all(x["meta"]["rejected"]["reason"] == "duplicate_url" for x in rejs)
    assert all(server.hits.get(f"/page/{i}") == 1 for i in range(40))


@pytest.mark.parametrize("suffix", [".jsonl.zst", ".jsonl.gz"])
def test_cli_compressed_output_flushes_and_resumes(server, tmp_path, run_cli, suffix):
    """A crawl longer than the 1 s flush interval into a compressed file, then --resume."""
    p = tmp_path / "urls.txt"
    p.write_text("".join(f"{server.base}/page/{i}\n" for i in range(6)))
    out = tmp_path / f"pages{suffix}"
    args = ["fetch", p, "-o", out, "--allow-private", "--ignore-robots", "--per-host", "1",
            "--delay", "0.3", "-q"]
    r = run_cli(args)
    assert r.returncode == 0, r.stderr
    r = run_cli([*args, "--resume"])
    assert r.returncode == 0, r.stderr
    assert [x["url"] for x in read_records(str(out))] == [f"{server.base}/page/{i}" for i in range(6)]


def test_ipv4_forms_are_canonicalised():
    for form in ("127.1", "2130706433", "0177.0.0.1", "127.0.0.1.", "0x7f.1", "0x7F000001",
                 "127.0.1", "017700000001"):
        assert normalize_url(f"http://{form}:8080/p") == ("http://127.0.0.1:8080/p", ""), form
    assert url_key("http://127.1/") == url_key("http://127.0.0.1/")
    for bad in ("256.1", "1.2.3.4.5", "08.1", "0x100000000", "4294967296"):
        assert normalize_url(f"http://{bad}/")[0] is None, bad
    # names that merely contain digits are not addresses
    assert normalize_url("http://1e3/")[0] == "http://1e3/"
    assert normalize_url("http://123.example/")[0] == "http://123.example/"


def test_ipv6_forms_carrying_ipv4_are_judged_by_it():
    for a in ("::7f00:1", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::c0a8:1",
              "2002:7f00:1::", "::ffff:10.0.0.1"):
        assert not is_public_ip(a), a
    assert is_public_ip("64:ff9b::808:808")  # NAT64 to 8.8.8.8


def test_obfuscated_private_addresses_refused_not_retried(server, tmp_path):
    forms = ["127.1", "2130706433", "0177.0.0.1", "127.0.0.1.", "0x7f.0.0.1"]
    urls = [f"http://{f}:{server.port}/page/{i}" for i, f in enumerate(forms)]
    urls += [f"http://[::7f00:1]:{server.port}/page/v6", f"http://[64:ff9b::7f00:1]:{server.port}/page/n64"]
    st, out = fetch(urls, tmp_path, allow_private=False, retries=3, backoff=1.0)
    assert [reason(r) for r in out] == ["private_address"] * len(urls)
    assert st.result()["retries"] == 0
    assert server.hits == {}
    # with --allow-private the short form reaches the server as 127.0.0.1
    st, out = fetch([f"http://127.1:{server.port}/page/short"], tmp_path)
    assert out[0]["url"] == f"{server.base}/page/short" and server.hits["/page/short"] == 1


def test_large_robots_txt_first_500_kib_are_honoured(server, tmp_path):
    """RFC 9309: a robots.txt over the parsing limit is parsed up to it, not taken as allow-all."""
    pad = "".join(f"# padding line {i:07d} ..........................................\n"
                  for i in range(1_150_000 // 64))
    server.robots = "User-agent: *\nDisallow: /\n" + pad + "Allow: /page/late\n"
    assert len(server.robots) > 1_100_000
    st, out = fetch([f"{server.base}/page/1", f"{server.base}/page/late"], tmp_path)
    assert [reason(r) for r in out] == ["robots_disallowed", "robots_disallowed"]
    assert "/page/1" not in server.hits and server.hits["/robots.txt"] == 1


def test_folder_with_symlink_loop(tmp_path, run_cli):
    """fetch walks folders with the one walker: a link back up (self -> .) is skipped, not
    followed until ELOOP."""
    d = tmp_path / "saved"
    (d / "sub").mkdir(parents=True)
    (d / "a.html").write_text("<html><body>页面 a</body></html>")
    (d / "sub" / "b.html").write_text("<html><body>page b</body></html>")
    (d / "self").symlink_to(".", target_is_directory=True)
    (d / "sub" / "up").symlink_to("..", target_is_directory=True)
    r = run_cli(["fetch", d, "-o", tmp_path / "o.jsonl"])
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert sorted(x["html"] for x in recs) == ["<html><body>page b</body></html>",
                                                "<html><body>页面 a</body></html>"]


def test_cli_url_list_bad_lines_quarantined_bom_and_bad_utf8(server, tmp_path, run_cli):
    p = tmp_path / "urls.txt"
    bad_utf8 = f"{server.base}/page/\xb9".encode("latin-1") + b"\n"
    p.write_bytes(b"\xef\xbb\xbf" + f"{server.base}/page/1\n".encode() + bad_utf8 + b"{nope\n"
                  + f"{server.base}/page/2\n".encode())
    out, bad = tmp_path / "o.jsonl", tmp_path / "bad.jsonl"
    args = ["fetch", p, "-o", out, "--allow-private", "--delay", "0"]
    r = run_cli([*args, "--bad-records", bad, "--stats", tmp_path / "s.json"])
    assert r.returncode == 0, r.stderr
    assert [x["url"] for x in read_records(str(out))] == [f"{server.base}/page/1", f"{server.base}/page/2"]
    assert bad.read_bytes() == bad_utf8 + b"{nope\n"  # verbatim, never U+FFFD
    assert b"byte 0xb9" in r.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["conservation"]["quarantined"] == 2 and s["conservation"]["ok"]
    # without --bad-records the first bad line stops the run, naming file, line and byte
    r = run_cli(args)
    assert r.returncode == 1 and f"{p}:2: invalid UTF-8 (byte 0xb9".encode() in r.stderr

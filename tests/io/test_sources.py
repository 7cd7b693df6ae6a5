"""sources: WARC/WET files the tests write themselves (with warcio), folders of saved pages,
URL lists."""
from __future__ import annotations

import gzip
import io
import json
import zlib

import brotli
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from corpuskit.core.errors import BadInput
from corpuskit.core.stage import Rejected
from corpuskit.io.paths import sniff_warc
from corpuskit.io.sources import decode_body, iter_html_files, iter_url_list, iter_warc
from corpuskit.stages.fetch.stage import Fetch

ZH = "<html><head><meta charset='gbk'><title>中文</title></head><body><p>这是一个中文网页。</p></body></html>"


def write_warc(path, records, gz=True):
    """records: (kind, url, payload bytes, http headers list or None, status line)."""
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=gz)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "test"}))
        for kind, url, payload, headers, status in records:
            if kind == "response":
                h = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
                rec = w.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=h)
            elif kind == "request":
                h = StatusAndHeaders("GET / HTTP/1.1", [("Host", "ex.com")], is_http_request=True)
                rec = w.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=h)
            else:  # conversion (WET) or resource
                rec = w.create_warc_record(url, kind, payload=io.BytesIO(payload),
                                           warc_content_type=headers)
            w.write_record(rec)


def sample(tmp_path, gz=True):
    p = tmp_path / ("s.warc.gz" if gz else "s.warc")
    html = [("response", "http://ex.com/a", b"<html><body>page a</body></html>",
             [("Content-Type", "text/html; charset=utf-8")], "200 OK"),
            ("request", "http://ex.com/a", b"", None, ""),
            ("response", "http://ex.com/zh", ZH.encode("gbk"), [("Content-Type", "text/html")], "200 OK"),
            ("response", "http://ex.com/pdf", b"%PDF-1.4", [("Content-Type", "application/pdf")], "200 OK"),
            ("response", "http://ex.com/moved", b"", [("Location", "http://ex.com/a")], "301 Moved"),
            ("response", "http://ex.com/gz", gzip.compress(b"<html>gzipped body</html>"),
             [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], "200 OK")]
    write_warc(p, html, gz=gz)
    return p


@pytest.mark.parametrize("gz", [True, False])
def test_warc_response_records(tmp_path, gz):
    p = sample(tmp_path, gz)
    stats: dict = {}
    out = list(iter_warc(p, stats=stats))
    kept = [r for r in out if not isinstance(r, Rejected)]
    rej = {r.record["url"]: r.rejection.reason for r in out if isinstance(r, Rejected)}
    assert [r["url"] for r in kept] == ["http://ex.com/a", "http://ex.com/zh", "http://ex.com/gz"]
    assert rej == {"http://ex.com/pdf": "not_html", "http://ex.com/moved": "http_301"}
    a, zh, g = kept
    f = a["meta"]["fetch"]
    assert f["status"] == 200 and f["final_url"] == "http://ex.com/a" and f["source"] == "warc"
    assert f["fetched_at"].endswith("Z") and f["warc_record_id"].startswith("<urn:uuid:")
    assert "page a" in a["html"] and f["encoding"] == "utf-8"
    assert "这是一个中文网页" in zh["html"] and zh["meta"]["fetch"]["encoding"] == "gb18030"
    assert "gzipped body" in g["html"]
    assert stats == {"warc_warcinfo": 1, "warc_request": 1}
    assert len({r["id"] for r in kept}) == 3


def test_wet_conversion_records(tmp_path):
    p = tmp_path / "x.warc.wet.gz"
    write_warc(p, [("conversion", "http://ex.com/t", "中文纯文本\nsecond line".encode(), "text/plain", "")])
    (r,) = list(iter_warc(p))
    assert r["text"] == "中文纯文本\nsecond line" and "html" not in r
    assert r["meta"]["fetch"]["source"] == "wet"


def test_truncated_warc_names_file_and_offset(tmp_path):
    for gz in (True, False):
        p = sample(tmp_path, gz)
        data = p.read_bytes()
        for cut in (len(data) - 7, len(data) // 2, 10):
            t = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
            t.write_bytes(data[:cut])
            with pytest.raises(BadInput) as e:
                list(iter_warc(t))
            assert str(t) in str(e.value) and "byte offset" in str(e.value)
            assert e.value.reason == "truncated_warc"


def test_truncation_at_every_byte_is_caught_or_complete(tmp_path):
    """Cutting a .warc.gz anywhere gives either a clean error or (at a record boundary) the
    records before the cut: never a silently shorter record."""
    p = sample(tmp_path, True)
    data = p.read_bytes()

    def plain(items):
        out = []
        for g in items:
            rec = g.record if isinstance(g, Rejected) else g
            rec["meta"]["fetch"].pop("warc_file")
            out.append(rec)
        return out

    full = plain(iter_warc(p))
    t = tmp_path / "c.warc.gz"
    n_ok = 0
    for cut in range(1, len(data), 7):
        t.write_bytes(data[:cut])
        try:
            got = plain(iter_warc(t))
        except BadInput:
            continue
        n_ok += 1
        assert got == full[:len(got)]
    assert n_ok < 5  # only cuts at member boundaries read without error


def test_sniff_warc_by_content(tmp_path):
    p = sample(tmp_path)
    q = tmp_path / "crawl.bin"
    q.write_bytes(p.read_bytes())
    assert sniff_warc(q)
    (tmp_path / "urls.txt").write_text("http://ex.com/\n")
    assert not sniff_warc(tmp_path / "urls.txt")
    out = list(Fetch().read([str(q)]))  # no network: a WARC is read, not fetched
    assert len(out) == 5


def test_html_folder(tmp_path):
    d = tmp_path / "saved"
    (d / "sub").mkdir(parents=True)
    (d / "b.html").write_bytes(ZH.encode("gbk"))
    (d / "a.htm").write_text("<!-- saved from url=(0022)https://ex.com/page -->\n<html><body>a</body></html>")
    (d / "sub" / "c.html").write_text('<html><head><link rel="canonical" href="https://ex.com/c"></head></html>')
    (d / ".hidden.html").write_text("<html>no</html>")
    (d / "notes.txt").write_text("not a page")
    out = list(iter_html_files(d))
    assert [r["meta"]["fetch"]["path"].split("saved/")[1] for r in out] == ["a.htm", "b.html", "sub/c.html"]
    assert out[0]["url"] == "https://ex.com/page" and out[2]["url"] == "https://ex.com/c"
    assert "url" not in out[1]
    assert "这是一个中文网页" in out[1]["html"] and out[1]["meta"]["fetch"]["encoding"] == "gb18030"
    # the same content gets the same id wherever the folder is
    d2 = tmp_path / "copy"
    d2.mkdir()
    (d2 / "x.html").write_bytes(ZH.encode("gbk"))
    assert list(iter_html_files(d2))[0]["id"] == out[1]["id"]
    big = list(iter_html_files(d, max_bytes=60))
    assert any(isinstance(r, Rejected) and r.rejection.reason == "too_large" for r in big)


def test_url_list_parsing(tmp_path):
    p = tmp_path / "u.txt.gz"
    p.write_bytes(gzip.compress(b"# comment\nhttp://a.com/\n\n" + json.dumps({"url": "http://b.com/", "k": 1}).encode()
                                + b"\n" + json.dumps({"id": 3}).encode() + b"\n"))
    got = list(iter_url_list(str(p)))
    assert got == [(2, "http://a.com/", None), (4, "http://b.com/", {"url": "http://b.com/", "k": 1}),
                   (5, None, {"id": 3})]


def test_decode_body_encodings():
    raw = b"<html>hello</html>"
    assert decode_body(gzip.compress(raw), {"content-encoding": "gzip"}) == raw
    assert decode_body(zlib.compress(raw), {"content-encoding": "deflate"}) == raw
    assert decode_body(brotli.compress(raw), {"content-encoding": "br"}) == raw
    assert decode_body(b"5\r\nhello\r\n0\r\n\r\n", {"transfer-encoding": "chunked"}) == b"hello"
    assert decode_body(raw, {"content-encoding": "gzip"}) == raw  # mislabelled: kept as stored


def test_saved_snapshots_of_one_address_get_different_ids(tmp_path):
    head = "<!-- saved from url=(0022)https://ex.com/page -->\n"
    (tmp_path / "monday.html").write_text(head + "<html><body>周一的版本</body></html>")
    (tmp_path / "tuesday.html").write_text(head + "<html><body>周二的版本</body></html>")
    (tmp_path / "copy.html").write_text(head + "<html><body>周一的版本</body></html>")
    a, b, c = (r["id"] for r in iter_html_files(tmp_path))  # sorted: copy, monday, tuesday
    assert a == b != c


def test_url_list_bom_bad_utf8_and_bad_json(tmp_path):
    p = tmp_path / "u.txt"
    p.write_bytes(b"\xef\xbb\xbfhttp://a.example/1\n"
                  b"http://a.example/\xb9\xfa\n"
                  b"{not json\n"
                  b"  http://a.example/\xe4\xb8\xad\xe6\x96\x87\n")
    bad = []
    got = list(iter_url_list(str(p), on_bad=lambda raw, err: bad.append((raw, err.reason, err.line))))
    assert got == [(1, "http://a.example/1", None), (4, "http://a.example/中文", None)]
    assert bad == [(b"http://a.example/\xb9\xfa\n", "invalid_utf8", 2), (b"{not json\n", "invalid_json", 3)]
    with pytest.raises(BadInput) as e:
        list(iter_url_list(str(p)))
    assert e.value.line == 2 and "byte 0xb9 at column 18" in str(e.value)

"""magic-html baseline for bench_html2text, run by a Python 3.12 venv's interpreter (magic-html needs
Python >= 3.12; it is a benchmark anchor only, never a corpuskit dependency).

    /work/venv312/bin/python benchmarks/_magic_html_worker.py IN.json OUT.json ROUNDS

IN.json: a list of decoded pages (str), the same strings the other extractors get. For each page
the worker times, with time.perf_counter, magic-html's GeneralExtractor().extract() plus turning the
HTML it returns into plain text (blocks on their own lines, as the other extractors give it), keeps
the minimum over ROUNDS, and writes {"outputs": [...], "latency": [...], "errors": n, "version": v}.
Start-up (interpreter, imports) is not timed, as for the in-process extractors.
"""
from __future__ import annotations

import json
import sys
import time

_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "ul", "ol",
           "pre", "blockquote", "section", "article", "dd", "dt", "figure", "figcaption", "hr"}


def to_text(fragment: str) -> str:
    import lxml.html

    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml.html.fromstring(fragment)
    except Exception:  # noqa: BLE001 - an unparsable fragment is an empty output
        return ""
    parts: list[str] = []

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        block = tag in _BLOCKS
        if block:
            parts.append("\n")
        if el.text and tag not in ("script", "style"):
            parts.append(el.text)
        for c in el:
            walk(c)
        if block:
            parts.append("\n")
        if el.tail:
            parts.append(el.tail)

    walk(root)
    lines = (" ".join(ln.split()) for ln in "".join(parts).split("\n"))
    return "\n".join(ln for ln in lines if ln)


def main() -> int:
    src, dst, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    from importlib.metadata import version

    from magic_html import GeneralExtractor

    ext = GeneralExtractor()
    pages = json.load(open(src, encoding="utf-8"))
    outs = [""] * len(pages)
    lat = [float("inf")] * len(pages)
    errors = 0
    try:  # warm-up, not billed
        to_text(ext.extract(pages[0])["html"])
    except Exception:  # noqa: BLE001
        pass
    for _ in range(rounds):
        for i, html in enumerate(pages):
            t0 = time.perf_counter()
            try:
                o = to_text(ext.extract(html)["html"])
            except Exception:  # noqa: BLE001 - a crash scores as empty output
                o = ""
                errors += 1
            dt = time.perf_counter() - t0
            lat[i] = min(lat[i], dt)
            outs[i] = o
    json.dump({"outputs": outs, "latency": lat, "errors": errors // max(1, rounds),
               "version": version("magic-html")}, open(dst, "w", encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

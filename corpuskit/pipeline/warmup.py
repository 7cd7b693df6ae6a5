"""Work done once so that no user command waits for it: `corpuskit warmup` (run by `make
install`) compiles the numba kernels of dedup and tokenize-stats into numba's on-disk cache and
builds corpuskit's derived caches (Unicode tables, word-list and URL-blocklist hash tables), by running every
stage over a few built-in documents. A first `make demo` then costs what a second one does.

A stage's kernels compile for the argument types they are called with, so the warm-up runs the
real stages rather than compiling kernels one by one; it is safe to run again (a warm cache
makes it quick).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from corpuskit.core.chain import run_stages
from corpuskit.core.stage import SourceStage
from corpuskit.registry import PIPELINE_STAGE_DEFAULTS, REGISTRY, get_stage_class, make_stage

_EN = ("The city council discussed the budget for next year after a long debate. A local teacher "
       "published a guide to winter gardening, and most residents welcomed it. The museum opened "
       "a new exhibition about rivers for the first time in years.")
_ZH = ("今年秋天，市图书馆举办了一场读书分享会，吸引了很多市民参加。上个月，社区志愿者修好了公园里的步道，"
       "得到了大家的支持。最近几天，几位年轻的研究人员发布了关于空气质量的报告，引起了不少讨论。")
SAMPLE = [
    # a url, so that filter-unsafe builds its URL blocklist's hash table too
    {"id": "en", "url": "https://example.com/news/1", "text": _EN},
    {"id": "en-copy", "text": _EN},
    {"id": "en-near", "text": _EN.replace("next year", "the coming year")},
    {"id": "zh", "text": _ZH},
    {"id": "zh-near", "text": _ZH.replace("今年秋天", "去年秋天")},
    {"id": "mixed", "text": "Ｆｕｌｌ－ｗｉｄｔｈ text 和中文 mixed together, with a URL https://example.com/x."},
]
PAGE = {"id": "page", "url": "https://example.com/a",
        "html": f"<html><head><title>t</title></head><body><nav>Home | About</nav><article><p>{_EN}</p>"
                f"<p>{_ZH}</p></article><footer>© 2024</footer></body></html>"}

# the option sets whose kernels differ: every verification path of dedup, both encodings
VARIANTS: dict[str, list[dict]] = {
    "dedup": [{"verify": "auto"}, {"verify": "exact"}, {"verify": "estimate"}],
    "tokenize-stats": [{"tokenizer": "cl100k_base"}, {"tokenizer": "o200k_base"}],
}


def warm_up() -> list[tuple[str, float]]:
    """Run every stage (but fetch, which needs the network) over the sample; returns
    [(stage and options, seconds)]."""
    done = []
    with tempfile.TemporaryDirectory(prefix="corpuskit-warmup-") as tmp:
        # decontaminate needs an evaluation set: one item no sample document shares
        evalset = Path(tmp) / "eval.txt"
        evalset.write_text("which river flows through the imaginary city of warmup in the year nine\n",
                           encoding="utf-8")
        for name in REGISTRY:
            done += _warm(name, {"against": [str(evalset)]} if name == "decontaminate" else {})
    return done


def _warm(name: str, needed: dict) -> list[tuple[str, float]]:
    """One stage over the sample, once per option set whose kernels differ."""
    cls = get_stage_class(name)
    if issubclass(cls, SourceStage) or not cls.in_pipeline or cls.needs_model:
        # fetch needs the network; tokenize and mix write or read folders of their own;
        # filter-model and filter-perplexity need the user's model (and compile nothing)
        return []
    done = []
    for options in VARIANTS.get(name, [{}]):
        t0 = time.perf_counter()
        stage = make_stage(name, **{**PIPELINE_STAGE_DEFAULTS.get(name, {}), **needed, **options})
        records = [dict(r) for r in SAMPLE] + ([dict(PAGE)] if name == "html2text" else [])
        run_stages([stage], records)
        label = name + "".join(f" {k}={v}" for k, v in options.items())
        done.append((label, time.perf_counter() - t0))
    return done

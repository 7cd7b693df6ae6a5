"""Small real models for the model-stage tests, built here (nothing is downloaded): a fastText
classifier trained on generated English and Chinese lines, and a hand-written ARPA bigram model.

The packages (fasttext-numpy2, kenlm) are in the `test` extra: on CI (CI=true, or
CORPUSKIT_REQUIRE_MODELS=1) a missing one fails the tests instead of skipping them."""
from __future__ import annotations

import importlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

EN_GOOD_SUBJ = ["the committee", "a local teacher", "the research team", "the city council", "our library",
                "the museum", "a young engineer", "the hospital", "the university", "the court"]
EN_GOOD_VERB = ["published", "reviewed", "discussed", "approved", "explained", "described", "studied"]
EN_GOOD_OBJ = ["the annual budget report", "a guide to winter gardening", "the history of the river",
               "new findings on air quality", "the plan for public transport", "the results of the survey",
               "a careful analysis of the data", "the rules for the election"]
EN_SPAM = ["buy cheap pills now", "click here", "free casino bonus", "win money fast", "best price online",
           "hot deals", "limited offer", "subscribe now", "cheap loans", "viagra", "download free movies"]
ZH_GOOD = ["研究人员发表了关于气候变化的报告", "市图书馆举办了一场读书分享会", "社区志愿者修好了公园里的步道",
           "博物馆开放了关于河流历史的新展览", "大学公布了今年的招生计划", "法院审理了这起合同纠纷案件",
           "医生介绍了冬季预防感冒的方法", "老师讲解了数学题的解题思路"]
ZH_SPAM = ["免费领取", "点击进入", "澳门赌场", "日赚千元", "加微信咨询", "特价优惠", "网赚项目",
           "代开发票", "限时抢购", "彩票平台"]


def need(module: str):
    """Import `module`; skip without it, except on CI where the test extra must provide it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") or os.environ.get("CORPUSKIT_REQUIRE_MODELS"):
            raise
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")


def tokens(text: str) -> str:
    """The tests' own preparation of the generated documents (English: lowercase words;
    Chinese: one token per character), written independently of the stages'."""
    if text.isascii():
        return " ".join(text.lower().split())
    return " ".join(ch for ch in text if not ch.isspace())


_TRAIN = """
import json, sys, fasttext
a = json.loads(sys.argv[1])
fasttext.train_supervised(input=a["input"], epoch=10, wordNgrams=2, dim=16, bucket=20000, minCount=1,
                          thread=1, seed=0, verbose=0).save_model(a["out"])
"""


def tiny_fasttext(folder: Path, n: int = 300) -> Path:
    """A fastText classifier (__label__hq: good, __label__lq: spam) trained on `n` + `n`
    generated documents, in a child process (fastText's training reads memory it did not set:
    a second model trained in one process can differ or fail)."""
    need("fasttext")
    good, spam = docs(n, seed=1)
    lines = [f"__label__hq {tokens(t)}" for t in good] + [f"__label__lq {tokens(t)}" for t in spam]
    random.Random(0).shuffle(lines)
    (folder / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = folder / "q.bin"
    subprocess.run([sys.executable, "-c", _TRAIN, json.dumps({"input": str(folder / "train.txt"),
                                                              "out": str(out)})], check=True)
    return out


def tiny_arpa(folder: Path) -> Path:
    p = folder / "tiny.arpa"
    p.write_text(ARPA, encoding="utf-8")
    return p


def good_doc(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(f"{rng.choice(EN_GOOD_SUBJ).capitalize()} {rng.choice(EN_GOOD_VERB)} "
                        f"{rng.choice(EN_GOOD_OBJ)}." for _ in range(rng.randint(2, 4)))
    return "".join(rng.choice(ZH_GOOD) + "。" for _ in range(rng.randint(2, 4)))


def spam_doc(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "\n".join(" ".join(rng.choice(EN_SPAM) for _ in range(rng.randint(2, 4)))
                         for _ in range(rng.randint(2, 4)))
    return "".join(rng.choice(ZH_SPAM) + rng.choice(["！", "，", ""]) for _ in range(rng.randint(4, 8)))


def docs(n: int, seed: int) -> tuple[list[str], list[str]]:
    """(n good documents, n spam documents), generated from the pools above."""
    rng = random.Random(seed)
    return [good_doc(rng) for _ in range(n)], [spam_doc(rng) for _ in range(n)]


# A bigram LM over a few words, written by hand (log10 probabilities, backoffs).
ARPA = """\\data\\
ngram 1=8
ngram 2=7

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.30103
-0.69897\t</s>\t0
-0.60206\tthe\t-0.30103
-0.90309\tcat\t-0.22185
-1.0\tsat\t-0.17609
-0.82391\t中\t-0.30103
-0.82391\t文\t-0.30103

\\2-grams:
-0.30103\t<s> the
-0.22185\tthe cat
-0.39794\tcat sat
-0.15490\tsat </s>
-0.52288\t<s> 中
-0.09691\t中 文
-0.30103\t文 </s>

\\end\\
"""

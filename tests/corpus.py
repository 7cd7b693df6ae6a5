"""Varied, natural-looking documents for tests that run the whole default chain (the quality and
repetition filters rightly drop text made of one repeated sentence). Deterministic for a seed."""
from __future__ import annotations

import random

_EN_SUBJ = ["The city council", "A local teacher", "Our neighbour", "The museum", "A small bakery",
            "The football club", "Researchers at the university", "The new library", "A group of students",
            "The hospital", "Farmers in the valley", "The mayor", "An old friend of mine", "The theatre company"]
_EN_VERB = ["announced", "discussed", "postponed", "celebrated", "reviewed", "finished", "opened",
            "questioned", "described", "supported", "planned", "changed", "repaired", "published"]
_EN_OBJ = ["a plan for safer bicycle lanes", "the budget for next year", "a festival of local music",
           "the results of a long study", "a new exhibition about rivers", "the schedule of the evening buses",
           "a programme for young readers", "the roof of the old school", "a guide to winter gardening",
           "the rules for the public park", "a report on air quality", "an exchange with a partner town"]
_EN_TAIL = ["on Tuesday evening", "after a long debate", "with the help of volunteers", "despite the rain",
            "for the first time in years", "in front of a large crowd", "before the summer holidays",
            "although some people were worried", "and most residents welcomed it", "as many had hoped"]

_ZH_TIME = ["今年秋天", "上个月", "本周末", "昨天下午", "去年年底", "最近几天", "每天早上", "春节前夕"]
_ZH_WHO = ["市图书馆", "一位退休教师", "社区志愿者", "当地的农民", "学校的老师们", "这家小餐馆",
           "博物馆的工作人员", "几位年轻的研究人员", "附近的居民", "市政府"]
_ZH_DO = ["举办了一场读书分享会", "修好了公园里的步道", "发布了关于空气质量的报告", "开设了免费的书法课",
          "讨论了明年的预算安排", "组织了一次植树活动", "推出了夜间开放的新措施", "收集了大家对交通的意见",
          "完成了老房子的维修工作", "整理了本地历史的资料"]
_ZH_HOW = ["吸引了很多市民参加", "得到了大家的支持", "受到了孩子们的欢迎", "引起了不少讨论",
           "让周围的环境变得更好", "为以后的工作打下了基础", "也让老人们感到很高兴", "在网上获得了好评"]


def en_doc(rng: random.Random, sentences: int = 8) -> str:
    # each slot's phrases drawn without replacement, so no phrase repeats within a document
    parts = [rng.sample(x, sentences) for x in (_EN_SUBJ, _EN_VERB, _EN_OBJ, _EN_TAIL)]
    out = [f"{a} {b} {c} {d}." for a, b, c, d in zip(*parts)]
    return " ".join(out[:4]) + "\n\n" + " ".join(out[4:])


def zh_doc(rng: random.Random, sentences: int = 8) -> str:
    parts = [rng.sample(x, sentences) for x in (_ZH_TIME, _ZH_WHO, _ZH_DO, _ZH_HOW)]
    out = [f"{a}，{b}{c}，{d}。" for a, b, c, d in zip(*parts)]
    return "".join(out[:4]) + "\n\n" + "".join(out[4:])


def make_docs(n: int, seed: int = 0) -> list[dict]:
    """Every third record is too short; the rest alternate Chinese and English articles."""
    rng = random.Random(seed)
    recs = []
    for i in range(n):
        if i % 3 == 0:
            recs.append({"text": f"短文{i}"})
        elif i % 3 == 1:
            recs.append({"text": zh_doc(rng), "n": i})
        else:
            recs.append({"text": "Ｄｏｃ．" + str(i) + " " + en_doc(rng), "n": i})
    return recs


def mixed_paragraphs(n_bytes: int, seed: int = 0, en: list[str] | None = None, zh: list[str] | None = None,
                     zh_sep: str = "") -> str:
    """Paragraphs of three English sentences on one line and three Chinese ones on the next,
    about n_bytes of UTF-8 (bench_hostile's huge record, at any size); `en`, `zh`: the sentences
    drawn from (a model's vocabulary, say), `zh_sep` what joins the Chinese ones."""
    en = en or ["The committee met on Tuesday to review the budget for the coming year.",
                "Researchers found that the new method reduced errors by a third in field tests."]
    zh = zh or ["委员会周二开会审议了来年的预算。", "研究人员发现，新方法在实地测试中将错误减少了三分之一。"]
    rnd = random.Random(seed)
    paras, size = [], 0
    while size < n_bytes:
        p = " ".join(rnd.choice(en) for _ in range(3)) + "\n" + zh_sep.join(rnd.choice(zh) for _ in range(3)) + "\n\n"
        paras.append(p)
        size += len(p.encode())
    return "".join(paras)

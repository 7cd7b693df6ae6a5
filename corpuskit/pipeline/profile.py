"""What the run report's corpus charts are drawn from, gathered while the records go by (the
report never reads the corpus again): document lengths of the input and of the output on fixed
log-spaced bins, the characters kept after each stage, the output's language mix, one example
per reject reason and the sizes of duplicate clusters.

Everything is a sum, so unit profiles merge by addition and the result does not depend on
the number of workers or the order in which units finish.

A record's length is the characters (code points) of its text field; a page whose HTML is not
yet extracted has no text and is measured by its HTML (`html_chars` says how many were)."""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

# 0, 1, 2, 5, 10, 20, 50 ... 50M, 100M characters: bin i is [EDGES[i], EDGES[i+1]); a longer
# document falls in the last bin
EDGES: tuple[int, ...] = (0,) + tuple(m * 10 ** e for e in range(9) for m in (1, 2, 5))[:-2]
N_BINS = len(EDGES) - 1
# the bins of duplicate cluster sizes (documents in a cluster; size 1, a unique document, is
# not a cluster): 2, 3, 4, 5-9, 10-19, 20-49 ...
CLUSTER_EDGES: tuple[int, ...] = (2, 3, 4, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000,
                                  100_000, 1_000_000, 10 ** 12)
# the language of a record without meta.lang (no filter-lang in the chain). Not guessed from
# the script: that costs ~20x the rest of the profile per record; tokenize-stats does it.
NO_LANG = "und"
EXAMPLE_CHARS = 200  # an example rejected record's text, cut to this many characters
TOP_REASONS = 15


def length_bin(n: int) -> int:
    return min(bisect_right(EDGES, n) - 1, N_BINS - 1)


def cluster_bin(size: int) -> int:
    return min(bisect_right(CLUSTER_EDGES, size) - 1, len(CLUSTER_EDGES) - 2)


class Profile:
    """The counters of one unit (in a worker) or of the whole run (merged in order)."""

    def __init__(self, n_stages: int, text_field: str = "text", html_field: str = "html"):
        self.text_field = text_field
        self.html_field = html_field
        self.in_hist = [0] * N_BINS
        self.out_hist = [0] * N_BINS
        self.in_docs = self.in_chars = self.in_html = 0
        self.out_docs = self.out_chars = 0
        self.stage_chars = [0] * n_stages  # characters of the records each stage kept
        self.lang_docs: Counter = Counter()
        self.lang_chars: Counter = Counter()

    def length(self, rec: dict) -> tuple[int, bool]:
        """(characters, measured on HTML)"""
        t = rec.get(self.text_field)
        if isinstance(t, str):
            return len(t), False
        h = rec.get(self.html_field)
        return (len(h), True) if isinstance(h, str) else (0, False)

    def count_input(self, records: Iterable[dict]) -> Iterator[dict]:
        """Pass the records through, counting each into the input histogram."""
        hist, length = self.in_hist, self.length
        for rec in records:
            n, html = length(rec)
            hist[length_bin(n)] += 1
            self.in_docs += 1
            self.in_chars += n
            self.in_html += html
            yield rec

    def meter(self, offset: int = 0):
        """A Chain meter: the characters each stage kept (stage `offset + i`)."""
        def meter(i: int, records: Iterable[dict]) -> Iterator[dict]:
            length, k = self.length, offset + i
            total = 0
            try:
                for rec in records:
                    total += length(rec)[0]
                    yield rec
            finally:
                self.stage_chars[k] += total
        return meter

    def count_output(self, rec: dict) -> None:
        n = self.length(rec)[0]
        self.out_hist[length_bin(n)] += 1
        self.out_docs += 1
        self.out_chars += n
        meta = rec.get("meta")
        lang = meta.get("lang") if isinstance(meta, dict) else None
        if not isinstance(lang, str) or not lang:
            lang = NO_LANG
        self.lang_docs[lang] += 1
        self.lang_chars[lang] += n

    def as_dict(self) -> dict[str, Any]:
        return {"in_hist": self.in_hist, "out_hist": self.out_hist, "in_docs": self.in_docs,
                "in_chars": self.in_chars, "in_html": self.in_html, "out_docs": self.out_docs,
                "out_chars": self.out_chars, "stage_chars": self.stage_chars,
                "lang_docs": dict(self.lang_docs), "lang_chars": dict(self.lang_chars)}

    def merge(self, d: dict, output: bool = True) -> None:
        """Add a unit's counters (its as_dict(): its stages are the first of this profile's);
        `output=False` leaves out its output side (the run's output is then counted after the
        whole-stream stages)."""
        for i, v in enumerate(d["in_hist"]):
            self.in_hist[i] += v
        self.in_docs += d["in_docs"]
        self.in_chars += d["in_chars"]
        self.in_html += d["in_html"]
        for i, v in enumerate(d["stage_chars"]):
            self.stage_chars[i] += v
        if output:
            for i, v in enumerate(d["out_hist"]):
                self.out_hist[i] += v
            self.out_docs += d["out_docs"]
            self.out_chars += d["out_chars"]
            self.lang_docs.update(d["lang_docs"])
            self.lang_chars.update(d["lang_chars"])


def example(sample: dict, width: int = EXAMPLE_CHARS) -> dict[str, str]:
    """What the report's reason table shows of a rejected record, from its sample (the run's
    report.sample_rejected: id, reject detail, text with white space folded): the text cut to
    `width` characters."""
    text = str(sample.get("snippet", "")).removesuffix("…")
    return {"id": str(sample.get("id", "")), "detail": str(sample.get("detail", "")),
            "text": text[:width] + ("…" if len(text) > width or sample.get("snippet", "").endswith("…")
                                    else "")}


def summarize(profile: Profile | None, stage_names: list[str], stages: list[dict],
              examples: dict[str, dict[str, dict]], n_in: int,
              cluster_sizes: dict[str, int] | None) -> dict[str, Any]:
    """stats.json's `profile`: the charts' numbers, with the bins they are counted on.
    `stage_names` are the profile's stages (its `stage_chars`), `stages` the run's counters
    (a source stage, fetch, included)."""
    reasons = [{"stage": s["stage"], "reason": r, "count": c,
                "example": examples.get(s["stage"], {}).get(r)}
               for s in stages for r, c in s["reasons"].items()]
    reasons.sort(key=lambda x: -x["count"])  # stable: ties stay in chain order
    out: dict[str, Any] = {"length_unit": "characters", "length_edges": list(EDGES),
                           "top_reasons": reasons[:TOP_REASONS], "reasons_total": len(reasons),
                           "records_in": n_in}
    if profile is not None:
        out.update(profile.as_dict())
        out["stage_names"] = stage_names
        out["lang_docs"] = dict(sorted(profile.lang_docs.items(), key=lambda kv: (-kv[1], kv[0])))
        out["lang_chars"] = {k: profile.lang_chars[k] for k in out["lang_docs"]}
    if cluster_sizes is not None:
        hist = [0] * (len(CLUSTER_EDGES) - 1)
        for size, n in cluster_sizes.items():
            if int(size) > 1:
                hist[cluster_bin(int(size))] += n
        out["cluster_edges"] = list(CLUSTER_EDGES)
        out["cluster_hist"] = hist
        out["cluster_sizes"] = dict(sorted(cluster_sizes.items(), key=lambda kv: int(kv[0])))
    return out

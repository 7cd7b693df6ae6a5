"""The run report's statistics (corpuskit.pipeline.profile): bins, merging by addition, the
characters each stage kept, the language of a record, the example of a reason."""
from corpuskit.core.chain import Chain
from corpuskit.pipeline.profile import (
    CLUSTER_EDGES,
    EDGES,
    N_BINS,
    Profile,
    cluster_bin,
    example,
    length_bin,
    summarize,
)
from corpuskit.registry import make_stage


def test_length_bins_are_fixed_and_log_spaced():
    assert EDGES[:8] == (0, 1, 2, 5, 10, 20, 50, 100) and len(EDGES) == N_BINS + 1
    assert [length_bin(n) for n in (0, 1, 2, 4, 5, 9, 10, 99, 100)] == [0, 1, 2, 2, 3, 3, 4, 6, 7]
    assert length_bin(10 ** 12) == N_BINS - 1  # longer than the last edge: the last bin
    # cluster sizes: 2, 3, 4, 5-9, 10-19 ...
    assert [cluster_bin(s) for s in (2, 3, 4, 5, 9, 10, 19, 20)] == [0, 1, 2, 3, 3, 4, 4, 5]
    assert cluster_bin(10 ** 13) == len(CLUSTER_EDGES) - 2


ZH = "北京是中国的首都，有三千多年的建城史。"
DOCS = [{"text": ZH * 3, "meta": {"lang": "zh"}},  # 57 characters, Chinese without spaces
        {"text": "tiny"},
        {"text": "The council met on Tuesday to discuss new bicycle lanes. " * 4},
        {"text": "今天天气很好，我们去公园散步吧。" * 2},  # no meta.lang
        {"html": "<p>a page not extracted yet</p>"}]


def _profile(records):
    stages = [make_stage("filter-short", min_words=5)]
    p = Profile(len(stages))
    for rec in Chain(stages, meter=p.meter()).run(p.count_input(r for r in records if "text" in r)):
        p.count_output(rec)
    return p


def test_profile_counts_input_output_stage_chars_and_languages():
    p = _profile(DOCS)
    lens = [len(d["text"]) for d in DOCS if "text" in d]
    assert p.in_docs == 4 and p.in_chars == sum(lens)
    assert p.in_hist[length_bin(57)] == 1 and p.in_hist[length_bin(4)] == 1 and sum(p.in_hist) == 4
    # "tiny" (1 word) is removed: the stage kept the other three, and so their characters
    assert p.stage_chars == [sum(lens) - 4] and p.out_docs == 3 and sum(p.out_hist) == 3
    assert p.out_hist[length_bin(4)] == 0
    assert dict(p.lang_docs) == {"zh": 1, "und": 2}  # und: no meta.lang
    assert p.lang_chars["zh"] == 57
    # a page without text is measured by its HTML, and counted as such
    q = Profile(0)
    list(q.count_input([DOCS[4]]))
    assert q.in_chars == len(DOCS[4]["html"]) and q.in_html == 1


def test_profiles_merge_by_addition_in_any_split():
    recs = DOCS[:4] * 3
    whole = _profile(recs).as_dict()
    for cut in (1, 5, 11):
        merged = Profile(1)
        for part in (recs[:cut], recs[cut:]):
            merged.merge(_profile(part).as_dict())
        assert merged.as_dict() == whole
    # output=False leaves the output side to the whole-stream stages
    m = Profile(2)
    m.merge(_profile(recs).as_dict(), output=False)
    assert m.in_docs == 12 and m.out_docs == 0 and not m.lang_docs and m.stage_chars[1] == 0


def test_a_stage_that_changes_text_is_measured_on_what_it_kept():
    stages = [make_stage("normalize"), make_stage("filter-short", min_words=3)]
    p = Profile(len(stages))
    recs = [{"text": "a   b \u3000 c\t\td " * 3}, {"text": "x"}]
    kept = list(Chain(stages, meter=p.meter()).run(p.count_input(recs)))
    assert p.in_chars == sum(len(r["text"]) for r in [{"text": "a   b \u3000 c\t\td " * 3}, {"text": "x"}])
    assert p.stage_chars[1] == len(kept[0]["text"])  # after filter-short: the normalized text
    assert p.stage_chars[0] == len(kept[0]["text"]) + 1  # normalize kept "x" too
    assert p.stage_chars[0] < p.in_chars  # normalize folded the white space


def test_example_is_cut_and_marked():
    ex = example({"id": "d1", "detail": "3 words", "snippet": "词" * 300 + "…"})
    assert ex["text"] == "词" * 200 + "…" and ex["id"] == "d1" and ex["detail"] == "3 words"
    assert example({"id": 7, "snippet": "short"})["text"] == "short"


def test_summary_orders_reasons_and_bins_cluster_sizes():
    stages = [{"stage": "filter-short", "reasons": {"too_few_words": 5, "too_long": 1}},
              {"stage": "dedup", "reasons": {"exact_duplicate": 5, "near_duplicate": 2}}]
    ex = {"filter-short": {"too_few_words": {"id": "a", "detail": "", "text": "x"}}}
    s = summarize(None, [], stages, ex, 100, {"2": 4, "3": 1, "7": 2, "12": 1})
    assert [(r["stage"], r["reason"]) for r in s["top_reasons"]] == [
        ("filter-short", "too_few_words"), ("dedup", "exact_duplicate"), ("dedup", "near_duplicate"),
        ("filter-short", "too_long")]  # ties keep the chain's order
    assert s["top_reasons"][0]["example"]["id"] == "a" and s["top_reasons"][1]["example"] is None
    assert s["cluster_hist"][:5] == [4, 1, 0, 2, 1] and sum(s["cluster_hist"]) == 8
    assert "in_hist" not in s and "cluster_edges" in s
    assert "cluster_hist" not in summarize(None, [], stages, ex, 100, None)

"""docs/benchmarks.md is rendered from benchmarks/results/*.json by benchmarks/render_docs.py,
never typed by hand: the committed page must be exactly what the renderer makes of the committed
results. Cheap: it renders, it runs no benchmark."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
# Snapshots kept for a before/after comparison: measured at an older commit on purpose, never
# re-measured; each names that commit by hand in its top-level "commit" field.
BEFORE_SNAPSHOTS = {"html2text_before_issue15"}


def _renderer():
    spec = importlib.util.spec_from_file_location("render_docs", ROOT / "benchmarks" / "render_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmarks_doc_matches_results():
    doc = ROOT / "docs" / "benchmarks.md"
    assert doc.exists(), "docs/benchmarks.md is missing: run `make bench-docs`"
    assert doc.read_text(encoding="utf-8") == _renderer().render(), (
        "docs/benchmarks.md differs from what benchmarks/render_docs.py renders from "
        "benchmarks/results/*.json: run `make bench-docs` and commit the result")


def test_renderer_tolerates_unknown_and_extra_keys(tmp_path):
    (tmp_path / "html2text.json").write_text(json.dumps({
        "benchmark": "html2text", "date": "2026-01-01 00:00:00",
        "git": {"commit": "0" * 40, "dirty": False, "dirty_files": []},
        "sets": {"scrapinghub": {"corpuskit": {"sh_f1": 0.9, "new_metric": 1}}},
        "a_new_section": {"nested": [1, 2], "rows": [{"x": 1}, {"x": 2, "y": "z"}]}}))
    (tmp_path / "brand_new.json").write_text(json.dumps({"value": 3.5, "odd": {"deep": None}}))
    text = _renderer().render(tmp_path)
    assert "0.9" in text and "a_new_section.nested" in text and "brand_new" in text
    assert "`000000000000` (clean tree)" in text and "not recorded" in text


def test_every_result_records_the_commit_it_was_measured_at():
    """Each results file is stamped by benchmarks/common.save() with the full commit (git.commit);
    a before snapshot names its commit in its "commit" field."""
    files = sorted(RESULTS.glob("*.json"))
    assert files
    unstamped = []
    for p in files:
        d = json.loads(p.read_text(encoding="utf-8"))
        if p.stem in BEFORE_SNAPSHOTS:
            ok = bool(re.match(r"[0-9a-f]{7,40}\b", str(d.get("commit") or "")))
        else:
            ok = bool(re.fullmatch(r"[0-9a-f]{40}", str((d.get("git") or {}).get("commit") or "")))
        if not ok:
            unstamped.append(p.name)
    assert not unstamped, ("results with no commit recorded (re-run their benchmark, which stamps them with "
                           "benchmarks/common.save()): " + ", ".join(unstamped))


def test_every_section_names_its_commit(tmp_path):
    stamped = {"benchmark": "x", "date": "2026-01-01 00:00:00",
               "git": {"commit": "a" * 40, "dirty": False, "dirty_files": []}, "value": 1}
    (tmp_path / "dedup.json").write_text(json.dumps(stamped))
    (tmp_path / "before.json").write_text(json.dumps({"commit": "1234abcd (main before)", "value": 2}))
    (tmp_path / "old.json").write_text(json.dumps({"value": 3}))
    text = _renderer().render(tmp_path)
    assert "Measured at commit `aaaaaaaaaaaa` (clean tree)" in text
    assert "`1234abcd` (named by hand)" in text and "the commit the file names" in text
    assert text.count("commit **not recorded**") == 1  # old.json only


def test_save_stamps_the_commit_and_load_even_over_a_benchmarks_own_fields(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "benchmarks" / "common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    p = common.save("x", {"machine": {"cpus": 64, "gpu": "none"}, "git": {"commit": None}, "value": 1})
    d = json.loads(p.read_text())
    assert re.fullmatch(r"[0-9a-f]{40}", d["git"]["commit"])
    assert d["machine"]["gpu"] == "none" and isinstance(d["machine"]["load_avg_at_save"], float)
    assert d["value"] == 1 and d["benchmark"] == "x"

"""docs/benchmarks.md is rendered from benchmarks/results/*.json by benchmarks/render_docs.py,
never typed by hand: the committed page must be exactly what the renderer makes of the committed
results. Cheap: it renders, it runs no benchmark."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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

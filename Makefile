PYTHON ?= .venv/bin/python
VENV := .venv

.PHONY: install test lint bench bench-docs demo clean dataset

# Rebuild a dataset the Make way: `make dataset RAW=raw CLEAN=clean [CONFIG=corpuskit.toml]`
# runs the pipeline only when a file under RAW or the config is newer than CLEAN/stats.json.
RAW ?= raw
CLEAN ?= clean
CONFIG ?=
RAW_FILES = $(shell find $(RAW) -type f ! -name '.*' 2>/dev/null | sort)

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

install: $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[test]'

test:
	$(PYTHON) -m pytest || [ $$? -eq 5 ]   # exit 5 = no tests collected

lint:
	$(PYTHON) -m ruff check corpuskit tests benchmarks

# Benchmarks: every benchmarks/bench_*.py, each printing its table and writing
# benchmarks/results/<name>.json (stamped with the commit it was measured at); then
# docs/benchmarks.md is rendered from those results. A benchmark whose inputs or packages are
# missing exits non-zero and stops `make bench`. Needs the [bench] and [ray] extras (trafilatura,
# resiliparse, datatrove, ...), ../shared/eval (the labelled pages), man pages
# (apt-get install manpages manpages-zh) and, for bench_pipeline.py, PyPI access on first use (it
# builds .venv-datatrove). Long: bench_pipeline_scale.py generates and runs 50k + 200k documents
# (~1.2 GB under bench_out/, ~10 min on 2 cores).
bench:
	$(VENV)/bin/pip install -q -e '.[test,bench,ray]'
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PYTHON) $$f || exit 1; done
	@echo "== the whole default chain on the evaluation pages replicated to ~1 GB"
	$(PYTHON) benchmarks/bench_pipeline.py --target-mb 1000 --corpuskit-only --stages all --repeats 2
	$(MAKE) bench-docs

# docs/benchmarks.md, rendered from benchmarks/results/*.json (never edited by hand)
bench-docs:
	$(PYTHON) benchmarks/render_docs.py

demo:
	$(PYTHON) -m corpuskit pipeline sample_data/raw demo_out --compression none
	@$(PYTHON) -m corpuskit.show demo_out

dataset: $(CLEAN)/stats.json

$(CLEAN)/stats.json: $(RAW_FILES) $(CONFIG)
	$(PYTHON) -m corpuskit pipeline $(RAW) $(CLEAN) $(if $(CONFIG),--config $(CONFIG))

clean:
	rm -rf demo_out bench_out .pytest_cache

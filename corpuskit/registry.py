"""The registry: command name -> stage class, and the pipeline's default chain.

It sits above the stages (it names them) and below the CLI and the pipeline (both are built
from it). Stage modules are imported lazily, so `corpuskit --help` and a light stage never
import lxml, numpy and the like.
"""
from __future__ import annotations

import importlib
from typing import Any

from corpuskit.core.errors import UsageError
from corpuskit.core.stage import Stage

# CLI name -> "module:Class". Modules are imported lazily so that `corpuskit --help` and
# a stage that needs nothing heavy never import lxml, numpy, etc.
# The order here is the default pipeline order.
REGISTRY: dict[str, str] = {
    "fetch": "corpuskit.stages.fetch:Fetch",
    "html2text": "corpuskit.stages.html2text:HtmlToText",
    "normalize": "corpuskit.stages.normalize:Normalize",
    "filter-lang": "corpuskit.stages.filter_lang:FilterLang",
    "filter-ads": "corpuskit.stages.filter_ads:FilterAds",
    "filter-short": "corpuskit.stages.filter_short:FilterShort",
    "filter-quality": "corpuskit.stages.filter_quality:FilterQuality",
    "filter-unsafe": "corpuskit.stages.filter_unsafe:FilterUnsafe",
    # model-based filters: not in the default chain (the models are the user's files)
    "filter-model": "corpuskit.stages.filter_model:FilterModel",
    "filter-perplexity": "corpuskit.stages.filter_perplexity:FilterPerplexity",
    "dedup": "corpuskit.stages.dedup:Dedup",
    "redact-pii": "corpuskit.stages.redact_pii:RedactPii",
    "decontaminate": "corpuskit.stages.decontaminate:Decontaminate",
    "dedup-lines": "corpuskit.stages.dedup_lines:DedupLines",
    "tokenize-stats": "corpuskit.stages.tokenize_stats:TokenizeStats",
    "cat": "corpuskit.stages.cat:Cat",
    # not in the default chain: `tokenize` writes a folder of token shards (its own command, and
    # the pipeline's [tokenize] section); `mix` reads its sources itself
    "tokenize": "corpuskit.stages.tokenize:Tokenize",
    "mix": "corpuskit.stages.mix:Mix",
    # writes a fastText model for filter-model
    "train-quality": "corpuskit.stages.train_quality:TrainQuality",
}

# One line per command for `corpuskit --help`, which lists the commands without importing
# their modules (the full help of a command comes from its stage class).
ONE_LINERS: dict[str, str] = {
    "fetch": "Fetch URL lists, read WARC files and page folders.",
    "html2text": "Extract the main text of HTML pages.",
    "normalize": "Repair and normalise Unicode text.",
    "filter-lang": "Identify the language; keep the wanted ones.",
    "filter-ads": "Remove boilerplate, navigation and ad lines.",
    "filter-short": "Drop documents with too few or too many words.",
    "filter-quality": "Drop low-quality documents (Gopher, C4, FineWeb).",
    "filter-unsafe": "Drop adult, hateful and violent documents.",
    "filter-model": "Score documents with a fastText quality classifier; drop the low ones.",
    "filter-perplexity": "Score documents by KenLM perplexity; bucket or drop them.",
    "train-quality": "Train a fastText quality classifier from your own reference text.",
    "dedup": "Remove exact and near duplicates.",
    "tokenize-stats": "Count LLM tokens and describe the corpus.",
    "cat": "Concatenate, validate and convert record files.",
    "tokenize": "Tokenize into a folder of token shards for training.",
    "mix": "Blend sources at target proportions or budgets.",
    "redact-pii": "Replace personal data (e-mail, phones, IDs, cards, IPs) with placeholders.",
    "dedup-lines": "Remove lines repeated across documents (footers, bylines).",
    "decontaminate": "Drop documents that share long n-grams with evaluation sets.",
}

# Default chain of `corpuskit pipeline` (names from REGISTRY), in order.
# Why this order: extraction first; normalize before anything measures text; filter-lang early
# because filter-quality picks its stop words by meta.lang; filter-ads removes boilerplate lines
# before the length and quality checks see them; the cheap filter-short before the costlier
# filter-quality and filter-unsafe; dedup after filtering (junk must not become a cluster's
# survivor, and fewer documents are compared); statistics last, over what is kept.
DEFAULT_PIPELINE: list[str] = ["html2text", "normalize", "filter-lang", "filter-ads", "filter-short",
                               "filter-quality", "filter-unsafe", "dedup", "tokenize-stats"]

# Options the pipeline sets by default (over the stage's own default), shown by --print-config:
# html2text lets records that already carry text through, so raw/ can mix pages and text.
PIPELINE_STAGE_DEFAULTS: dict[str, dict[str, Any]] = {"html2text": {"keep_text": True}}


def get_stage_class(name: str) -> type[Stage]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown stage {name!r} (known: {', '.join(REGISTRY)})") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def make_stage(name: str, **options: Any) -> Stage:
    return get_stage_class(name).from_options(**options)

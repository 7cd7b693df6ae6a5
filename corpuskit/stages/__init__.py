"""The stages: one module (or package, when it has helpers) per command, named after it
(`filter_ads` is `corpuskit filter-ads`). Stages import corpuskit.core, corpuskit.io and
corpuskit.tokens, and their own helpers; never another stage, the pipeline or the CLI."""

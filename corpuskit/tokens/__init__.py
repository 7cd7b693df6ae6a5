"""Tokenizers shared by the token stages: exact tiktoken-compatible cl100k/o200k counting
(with a compiled piece cache, `bpe_count`), Hugging Face tokenizer.json, words and characters.
Imports only corpuskit.core."""

"""Reading and writing: JSONL record streams (plain, gzip, zstd), raw sources (HTML files, WARC,
URL lists), the one folder walker and input classifier, remote paths through fsspec. Imports
only corpuskit.core."""

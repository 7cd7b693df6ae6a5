"""Reading and writing: record streams (JSONL plain, gzip, zstd; Parquet and Arrow in
columnar.py), raw sources (HTML files, WARC, URL lists), the one folder walker and input
classifier, remote paths through fsspec, looking inside files (look.py). Imports only
corpuskit.core."""

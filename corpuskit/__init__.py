"""corpuskit: raw web material -> clean text corpora, in English and Chinese."""
__version__ = "0.1.0"

"""`corpuskit tokenize-stats`: the stage (stage.py) and the corpus statistics it gathers."""
from corpuskit.stages.tokenize_stats.stage import TokenizeStats

__all__ = ["TokenizeStats"]

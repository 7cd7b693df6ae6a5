"""`corpuskit tokenize`: the stage (stage.py) and the shard formats, writer and reader (shards.py)."""
from corpuskit.stages.tokenize.stage import Tokenize

__all__ = ["Tokenize"]

"""`corpuskit dedup`: the stage (stage.py) and MinHash signatures (minhash.py)."""
from corpuskit.stages.dedup.stage import Dedup

__all__ = ["Dedup"]

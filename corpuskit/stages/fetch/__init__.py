"""`corpuskit fetch`: the stage (stage.py), the polite async crawler, the URL guard."""
from corpuskit.stages.fetch.stage import Fetch

__all__ = ["Fetch"]

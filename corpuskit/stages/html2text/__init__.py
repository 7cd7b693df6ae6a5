"""`corpuskit html2text`: the stage (stage.py) and the main-content extractor (extract.py)."""
from corpuskit.stages.html2text.stage import HtmlToText, extract_text

__all__ = ["HtmlToText", "extract_text"]

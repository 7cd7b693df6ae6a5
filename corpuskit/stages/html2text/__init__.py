"""`corpuskit html2text`: the stage (stage.py) and the main-content extractor (extract.py, run
compiled where setup.py could build it: see compiled.py)."""
from corpuskit.stages.html2text import compiled

compiled.select()  # before anything below imports the extractor

from corpuskit.stages.html2text.stage import HtmlToText, extract_text  # noqa: E402

__all__ = ["HtmlToText", "extract_text"]

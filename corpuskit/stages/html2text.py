"""html2text: records with `html` -> records with `text` (the page's main content)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..extract.html import extract
from ..stage import RecordStage, Rejection, opt, set_meta

__all__ = ["HtmlToText", "extract_text"]


def extract_text(html: str) -> str:
    """Main content of a page as structured plain text (the eval scripts call this)."""
    return extract(html).text


@dataclass
class HtmlToText(RecordStage):
    name: ClassVar[str] = "html2text"
    summary: ClassVar[str] = "Extract the main content of HTML pages as structured plain text."
    reasons: ClassVar[dict[str, str]] = {}
    needs: ClassVar[str | None] = "html"

    keep_html: bool = opt(False, "Keep the `html` field in the output record.")
    max_chars: int = opt(20_000_000, "Largest page accepted, in characters; larger ones are "
                                     "rejected as too_large.")

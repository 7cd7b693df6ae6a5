"""core.ftfy_gate: "ftfy would leave this text as its NFC form" must be exact, checked against
ftfy itself on text built from the characters its heuristics look at."""
import unicodedata

import ftfy
import pytest
from ftfy import badness
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.core import ftfy_gate
from corpuskit.stages.normalize import _ftfy_config

# characters of ftfy's mojibake classes (accented Latin, Cyrillic and Greek letters, box
# drawing, currency, punctuation ftfy weighs), mojibake fragments, combining marks (NFC), and
# the ASCII around them
_PIECES = list("abcxyzABC .,?!;:'\"-\n\t0123456789éèàâêîôûçëïüöäßÉÈÀÂÇÜÖÄŒœÃÂÎÐØÙ€™“”‘’–—…«»¡¿©®°±²³µ·¹¼½¾×÷"
               "¢£¥¤¦¨¬¯¸ƒˆ˜ВГРСвЂЁёЯяΒΓΞΟβ€ΆαΩ─│┌┐└┘├┤╔╗║═√∂†≠≤≥≈ā") + [
    "\u0301", "\u0308", "\u0327", "e\u0301", "Ã©", "Ã¨", "â€™", "â€œ", "Ã\xa0", "Â ", "ГўВЂВ", "Ã ",
    "à²", "√©", "‚Ä", "вЂ", "ðŸ", "Â·", "Ã—", " Ã ", "\nÂ ", "Â\n"]
_texts = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(st.characters(codec="utf-8"), max_size=3)),
                  max_size=40).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_texts)
def test_text_the_gate_passes_is_what_ftfy_gives(s):
    if not ftfy_gate.may_change(s):
        assert ftfy.fix_text(s, _ftfy_config()) == unicodedata.normalize("NFC", s)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_texts, max_size=6))
def test_the_gate_finds_every_line_ftfy_calls_bad(lines):
    s = "\n".join(lines)
    segments = [line + "\n" for line in lines[:-1]] + lines[-1:]  # ftfy's segments of s
    if any(badness.is_bad(seg) or badness.is_bad(unicodedata.normalize("NFC", seg)) for seg in segments):
        assert ftfy_gate.may_change(s)


@pytest.mark.parametrize("text", [
    "Our cafÃ© serves crÃªpes.", "itâ€™s", "â€œquotedâ€\x9d", "Ã  la carte", "Ã \nnext line",
    "first line\nÃ  la carte", "вЂ”", "ﬁne", "a\rb", "\x1b[31mred", "x\u2028y", "bad\x07bell",
    "Ο καιρός Î²ÎµÏ", "cafe\u0301 Ã©",
])
def test_text_ftfy_would_change_is_sent_to_it(text):
    assert ftfy.fix_text(text, _ftfy_config()) != unicodedata.normalize("NFC", text)
    assert ftfy_gate.may_change(text)


@pytest.mark.parametrize("text", [
    "Le café est très bon à Paris. Ça coûte cher, mais c'est génial.",
    "Die Straße führt über die Brücke. Größere Geschäfte öffnen früh.",
    "Zażółć gęślą jaźń. Wczoraj byłem w Łodzi.",
    "Вчера я был в Москве и купил свежий хлеб.",
    "Χθες ήμουν στην Αθήνα και αγόρασα φρέσκο ψωμί.",
    "Señor Muñoz añadió: «¡Qué día!» — Ørsted, Åland.",
    "cafe\u0301 au lait",  # NFC composes it; nothing else for ftfy to do
    "北京的咖啡馆（café）里，人们谈论“naïve”这个词。",  # Chinese beside accented words
    "這是一篇繁體中文文章，提到了 Müller 先生。",
])
def test_clean_text_in_other_scripts_skips_ftfy(text):
    """The point of the gate: ordinary accented, Greek and Cyrillic text is not sent to ftfy."""
    assert not ftfy_gate.may_change(text)
    assert ftfy.fix_text(text, _ftfy_config()) == unicodedata.normalize("NFC", text)


def test_a_pattern_of_an_unknown_form_turns_the_gate_off(monkeypatch):
    """If ftfy's heuristic took a form the gate cannot bound (a repeat of a group), every text
    goes to ftfy."""
    import re

    monkeypatch.setattr(badness, "BADNESS_RE", re.compile("(?:ab)+é|Ã©"))
    monkeypatch.setattr(ftfy_gate, "_GATE", [])
    assert ftfy_gate._gate() is None
    assert ftfy_gate.may_change("Le café est très bon.")
    monkeypatch.setattr(badness, "BADNESS_RE", re.compile("[a-z]{0,5}é"))  # a non-ASCII letter after up to 5
    monkeypatch.setattr(ftfy_gate, "_GATE", [])
    assert ftfy_gate._gate().lead == 5


def test_a_line_longer_than_ftfy_cuts_goes_to_ftfy(monkeypatch):
    g = ftfy_gate._gate()
    monkeypatch.setattr(ftfy_gate, "_GATE", [g._replace(max_segment=10)])
    assert ftfy_gate.may_change("é" + "x" * 20)
    assert not ftfy_gate.may_change("é" + "x" * 5 + "\n" + "y" * 8)

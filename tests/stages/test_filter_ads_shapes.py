"""filter-ads: menu rows and MediaWiki edit links found by their shape, whatever the separator or
the language (issue 15). Synthetic lines only."""
from __future__ import annotations

import pytest

from corpuskit.core.text import count_words
from corpuskit.stages.filter_ads import FilterAds, structural_rule

BODY = ("The river is long, and it flows east through three provinces before it reaches the sea.\n"
        "Farmers along its banks grow rice, beans and, in the dry north, cotton.")


@pytest.mark.parametrize("sep", [" | ", " - ", " – ", " — ", " · ", " ~ ", " :: ", " * ", " / "])
def test_nav_row_is_a_menu_whatever_the_separator(sep):
    row = sep.join(["About Me", "CV", "Publications", "Talks", "Code", "Blog"])
    assert structural_rule(row, count_words(row)) in ("menu", "breadcrumb")
    out = FilterAds().process({"text": row + "\n" + BODY})
    assert out["text"] == BODY


@pytest.mark.parametrize("line", [
    "Startseite – Über uns – Kontakt – Impressum – Datenschutz",
    "Accueil - Actualités - Sport - Culture - Contact",
    "首页 - 新闻 - 体育 - 娱乐 - 财经",
])
def test_nav_rows_in_other_languages(line):
    assert structural_rule(line, count_words(line)) == "menu"


@pytest.mark.parametrize("line", [
    "The match - which ran late - ended 2 - 1 after a long night of rain and wind",
    "He went home - tired - hungry - and - cold, then slept.",
    "Paris - Berlin - Rome - Madrid tour dates are out",
    "1990 - 2000",
    "Chapter 3 - The long walk home",
])
def test_dashes_in_prose_and_titles_are_not_menus(line):
    assert structural_rule(line, count_words(line)) is None


DOC = """Historia del río grande [editar | modificar o código]
El río es largo, y corre hacia el este por muchas tierras del país.
Geografía de la región [editar]
El terreno es llano cerca de la costa y montañoso en el interior.
Clima de la región [editar]
El clima es templado en casi todo el año, con lluvias en otoño.
Geschichte der Stadt Köln [Bearbeiten | Quelltext bearbeiten]
Die Stadt wurde von den Römern gegründet und wuchs im Mittelalter stark.
历史沿革与发展[编辑]
中文内容，这里是一段正文，讲述这座城市的历史。
地理位置和气候[编辑]
城市位于平原之上，气候温和，四季分明。
He wrote the figure down in his notes [sic]
The singers repeat the refrain here [Chorus]"""


def test_mediawiki_edit_links_go_in_any_language_and_headings_stay():
    out = FilterAds(max_boilerplate_frac=1.0).process({"text": DOC})["text"]
    lines = out.split("\n")
    assert "Historia del río grande" in lines
    assert "Geografía de la región" in lines and "Clima de la región" in lines
    assert "Geschichte der Stadt Köln" in lines
    assert "历史沿革与发展" in lines and "地理位置和气候" in lines
    assert "[" not in "\n".join(lines[:12])
    # a one-part bracket that ends a single line is not an edit link
    assert "He wrote the figure down in his notes [sic]" in lines
    assert "The singers repeat the refrain here [Chorus]" in lines


def test_edit_links_stay_when_citations_are_kept():
    out = FilterAds(max_boilerplate_frac=1.0, remove_citations=False).process({"text": DOC})["text"]
    assert "Historia del río grande [editar | modificar o código]" in out


def test_bracket_in_a_long_prose_line_is_not_an_edit_link():
    line = ("In the first edition the editor added a remark that later printings dropped without "
            "any comment at all [editar | ver]")
    out = FilterAds(max_boilerplate_frac=1.0).process({"text": BODY + "\n" + line})["text"]
    assert out.endswith("[editar | ver]")

"""The translation catalogues (locale/): every interface language has one, every entry
is translated and not fuzzy, placeholders and markup survive translation, plural forms
are complete, and each compiled .mo says exactly what its .po says (the .mo files are
committed, so a fresh machine runs without gettext tools; ``make messages`` rebuilds
them)."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
# What a translation must carry over unchanged: %-format fields (``%(name)s``, ``%s``,
# ``%d``, ``%(r).2f``, ``%%``), brace placeholders of the email wording (``{name}``,
# ``{{``) and HTML tags.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%[sdr%]|\{\{|\}\}|\{\w*\}|<[^>]+>")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def label(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def test_every_interface_language_has_a_catalogue():
    assert sorted(TRANSLATED) == ["es", "fr"]
    for code in TRANSLATED:
        assert (LOCALE / code / "LC_MESSAGES" / "django.po").is_file()
        assert (LOCALE / code / "LC_MESSAGES" / "django.mo").is_file()


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    catalogue = polib.pofile(str(path))
    assert not catalogue.metadata_is_fuzzy
    assert catalogue.metadata["Language"] == path.parts[-3]
    assert [label(e) for e in catalogue.untranslated_entries()] == []
    assert [label(e) for e in catalogue.fuzzy_entries()] == []
    assert len(catalogue) > 100


def forms_of(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs: the singular against msgid, every plural form
    against msgid_plural."""
    if not entry.msgid_plural:
        return [(entry.msgid, entry.msgstr)]
    return [
        (entry.msgid if index == 0 else entry.msgid_plural, text)
        for index, text in sorted(entry.msgstr_plural.items())
    ]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_placeholders_and_markup_match_between_msgid_and_msgstr(path):
    wrong = []
    for entry in polib.pofile(str(path)).translated_entries():
        for source, text in forms_of(entry):
            if placeholders(source) != placeholders(text):
                wrong.append((label(entry), placeholders(source), placeholders(text)))
    assert wrong == []


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_plural_entries_have_every_form_of_the_language(path):
    catalogue = polib.pofile(str(path))
    wanted = int(re.search(r"nplurals=(\d+)", catalogue.metadata["Plural-Forms"]).group(1))
    short = [label(e) for e in catalogue if e.msgid_plural and len(e.msgstr_plural) != wanted]
    assert short == []


def contents(entries) -> dict[tuple[str | None, str], object]:
    found = {}
    for entry in entries:
        if not entry.msgid or entry.obsolete:
            continue
        text = dict(entry.msgstr_plural) if entry.msgid_plural else entry.msgstr
        found[(entry.msgctxt, entry.msgid)] = text
    return found


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_the_compiled_catalogue_is_up_to_date_with_its_source(path):
    compiled = path.with_suffix(".mo")
    assert compiled.is_file(), f"{compiled} is missing: run make messages"
    source = contents(polib.pofile(str(path)).translated_entries())
    assert contents(polib.mofile(str(compiled))) == source, "run make messages"


def test_a_mismatched_placeholder_would_be_caught():
    assert placeholders("Hello {name}, %(n)s left") != placeholders("Hola {nombre}, quedan")
    assert placeholders("<strong>%(code)s</strong>") == placeholders("<strong>%(code)s</strong>")

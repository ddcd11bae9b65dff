"""Both languages are complete: every string in the code has an English and an Indonesian
entry, none is fuzzy, and the compiled catalogues carry them."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from tests.support import ROOT

LOCALE = ROOT / "locale"
ENTRY = re.compile(
    r'(?ms)^msgid ((?:"(?:[^"\\]|\\.)*"\n)+)(?:msgid_plural .*?\n)?(msgstr.*?)(?:\n\n|\Z)'
)


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_string_is_translated(language):
    content = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    untranslated = []
    for msgid, msgstr in ENTRY.findall(content):
        if msgid.strip() == '""':
            continue  # the header
        if re.fullmatch(r'(msgstr(\[\d+\])? ""\n?)+', msgstr.strip() + "\n"):
            untranslated.append(msgid.strip())
    assert not untranslated, (
        f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    )
    assert "#, fuzzy" not in content.split("\n\n", 1)[1], f"{language}: fuzzy entries"


def test_the_compiled_catalogue_has_the_newest_strings():
    content = (LOCALE / "id" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    pairs = re.findall(r'(?m)^msgid "([^"]+)"\nmsgstr "([^"]+)"$', content)
    assert len(pairs) > 300
    with translation.override("id"):
        stale = [(en, id_) for en, id_ in pairs if translation.gettext(en) != id_]
    assert not stale, f"run compilemessages: {len(stale)} strings differ, e.g. {stale[:3]}"

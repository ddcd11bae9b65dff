"""Both languages are complete: every string in the code has an English and an Indonesian
entry, none is fuzzy, and the compiled catalogues carry them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from scripts.po_fill import ENTRY as PO_ENTRY
from scripts.po_fill import unquote as po_unquote
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


# --- Every string marked in the code is in both catalogues -------------------------------
# `makemessages` is run on a copy of the project with an empty locale directory, ignoring
# what the catalogue procedure (README) ignores, so the check sees what the code marks
# today, not what the committed .po files say.

IGNORED = [".venv", "tests", "bench", "scripts", "verifier"]  # as the procedure's --ignore
NOT_COPIED = {"locale", "test-artifacts", "node_modules"}


def catalogue(path: Path) -> dict[str, bool]:
    """msgid -> whether it has a translation (every msgstr form non-empty), header excluded."""
    entries = {}
    for match in PO_ENTRY.finditer(path.read_text(encoding="utf-8")):
        msgid = po_unquote(match["id"])
        if not msgid:
            continue
        forms = re.findall(r'msgstr(?:\[\d+\])? ((?:"(?:[^"\\]|\\.)*"\n?)+)', match["str"])
        entries[msgid] = all(po_unquote("msgstr " + form) for form in forms)
    return entries


def catalogue_gaps(marked: set[str], po: Path, *, needs_translation: bool) -> list[str]:
    """What the check reports for one catalogue: marked strings it lacks, and (when
    `needs_translation`) those it has with an empty translation."""
    entries = catalogue(po)
    gaps = [f"missing: {msgid!r}" for msgid in sorted(marked - entries.keys())]
    if needs_translation:
        gaps += [
            f"untranslated: {msgid!r}"
            for msgid in sorted(marked & entries.keys())
            if not entries[msgid]
        ]
    return gaps


@pytest.fixture(scope="module")
def marked_strings(tmp_path_factory) -> set[str]:
    copy = tmp_path_factory.mktemp("code")
    for item in ROOT.iterdir():
        if item.name in NOT_COPIED or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(item, copy / item.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, copy / item.name)
    (copy / "locale").mkdir()
    env = {**os.environ, "DEBUG": "1", "SECRET_KEY": "x"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "id", "-v", "0"]
        + [f"--ignore={name}" for name in IGNORED],
        cwd=copy,
        env=env,
        check=True,
        timeout=300,
    )
    return set(catalogue(copy / "locale" / "id" / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_string_marked_in_the_code_is_in_the_catalogue(marked_strings, language):
    assert len(marked_strings) > 300
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    gaps = catalogue_gaps(marked_strings, po, needs_translation=language == "id")
    assert not gaps, f"{language}: {len(gaps)} gaps (README: the catalogues):\n" + "\n".join(gaps)


def test_the_check_fails_when_a_msgid_is_removed_from_the_indonesian_catalogue(
    marked_strings, tmp_path
):
    content = (LOCALE / "id" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    removed = "Sign out"
    entry = f'\nmsgid "{removed}"\nmsgstr "Keluar"\n'
    assert entry in content
    assert removed in marked_strings
    copy = tmp_path / "django.po"
    copy.write_text(content.replace(entry, "\n", 1), encoding="utf-8")
    assert f"missing: {removed!r}" in catalogue_gaps(marked_strings, copy, needs_translation=True)

"""Fill empty msgstr entries of a .po file from a JSON dictionary of translations.

    python scripts/po_fill.py locale/id/LC_MESSAGES/django.po locale/id/translations.json

Translators keep the dictionary (one place, reviewable in a diff); `makemessages` regenerates
the .po from the code, and this puts the translations back. Prints the msgids still missing.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ENTRY = re.compile(r'(?ms)^(msgid (?:"(?:[^"\\]|\\.)*"\n)+)(msgstr (?:"(?:[^"\\]|\\.)*"\n?)+)')


def unquote(block: str, keyword: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', block[len(keyword) :])
    return "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(po_path: str, json_path: str) -> int:
    po = Path(po_path)
    translations = json.loads(Path(json_path).read_text(encoding="utf-8"))
    missing: list[str] = []

    def replace(match: re.Match) -> str:
        msgid = unquote(match.group(1), "msgid ")
        if not msgid:
            return match.group(0)  # the header
        text = translations.get(msgid)
        if text is None:
            missing.append(msgid)
            return match.group(0)
        return f"{match.group(1)}msgstr {quote(text)}\n"

    content = ENTRY.sub(replace, po.read_text(encoding="utf-8"))
    content = content.replace("#, fuzzy\n", "", 1)
    po.write_text(content, encoding="utf-8")
    for msgid in missing:
        print(f"missing: {msgid}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

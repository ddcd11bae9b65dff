"""Fill the msgstr entries of a .po file from a JSON dictionary of translations.

    python scripts/po_fill.py locale/id/LC_MESSAGES/django.po locale/id/translations.json
    python scripts/po_fill.py locale/en/LC_MESSAGES/django.po --identity
    python scripts/po_fill.py PO JSON --missing missing.json   # list what is not translated

Translators keep the dictionary (one place, reviewable in a diff): msgid -> translation, and
for a plural entry msgid -> [form, …] (Indonesian has one form). `makemessages` regenerates
the .po from the code (delete the old .po first so nothing is matched "fuzzy"), and this puts
the translations back. Exits 1 and names the msgids still missing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

STRING = r'"(?:[^"\\]|\\.)*"'
ENTRY = re.compile(
    rf"(?ms)^(?P<id>msgid (?:{STRING}\n)+)"
    rf"(?P<plural>msgid_plural (?:{STRING}\n)+)?"
    rf"(?P<str>(?:msgstr(?:\[\d+\])? (?:{STRING}\n?)+)+)"
)


def unquote(block: str) -> str:
    parts = re.findall(STRING, block.split(" ", 1)[1])
    text = "".join(part[1:-1] for part in parts)
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{escaped}"'
    pieces = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{piece}"' for piece in pieces)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("po")
    parser.add_argument("translations", nargs="?")
    parser.add_argument("--identity", action="store_true", help="msgstr = msgid (English)")
    parser.add_argument("--missing", help="write the untranslated msgids to this JSON file")
    args = parser.parse_args()
    po = Path(args.po)
    translations = {}
    if args.translations:
        translations = json.loads(Path(args.translations).read_text(encoding="utf-8"))
    missing: list[str] = []

    def replace(match: re.Match) -> str:
        msgid = unquote(match["id"])
        if not msgid:
            return match.group(0)  # the header
        plural = unquote(match["plural"]) if match["plural"] else None
        identity = [msgid, plural] if plural else msgid
        text = identity if args.identity else translations.get(msgid)
        if text is None:
            missing.append(msgid)
            return match.group(0)
        if plural:
            forms = text if isinstance(text, list) else [text]
            out = "".join(f"msgstr[{i}] {quote(form)}\n" for i, form in enumerate(forms))
            return f"{match['id']}{match['plural']}{out}"
        return f"{match['id']}msgstr {quote(text)}\n"

    content = ENTRY.sub(replace, po.read_text(encoding="utf-8"))
    content = content.replace("#, fuzzy\n", "", 1)  # the header's
    po.write_text(content, encoding="utf-8")
    if args.missing:
        Path(args.missing).write_text(json.dumps(missing, ensure_ascii=False, indent=1))
    for msgid in missing:
        print(f"missing: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

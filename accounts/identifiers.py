"""Normalise the identifiers reports give for a chat account (DESIGN.md "ChatAccount").

Indonesian phone numbers arrive as ``0812-3456-7890``, ``+62 812 3456 7890``, ``62812…`` or
``812…``: all become one E.164 number. Handles are case-folded and lose their ``@``. A
profile URL of a platform with a known pattern becomes the account id it names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

_PHONE_CHARS = re.compile(r"^[+\d\s().\-]{6,}$")
_HANDLE_JUNK = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")


class IdentifierError(ValueError):
    pass


@dataclass(frozen=True)
class Identifier:
    value: str
    kind: str  # "phone" | "handle" | "platform_id"
    phone: str | None = None


def normalise_phone(raw: str) -> str | None:
    """E.164 for anything that reads as a valid Indonesian (or international) number."""
    text = raw.strip()
    if not _PHONE_CHARS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") or digits.startswith("62"):
        candidate = "+" + digits
    elif digits.startswith("0"):
        candidate = digits
    elif digits.startswith("8"):
        candidate = "0" + digits  # "812…": a mobile number written without its trunk 0
    else:
        candidate = digits
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# At most this many numbers are taken from one report's text: a pasted list of numbers is
# not one account's contact details.
PHONES_IN_TEXT_MAX = 5


def phones_in_text(text: str, *, limit: int = PHONES_IN_TEXT_MAX) -> tuple[str, ...]:
    """The valid phone numbers written in a report's free text (an ad's "WA 0812-3456-7890"),
    as E.164, in order, without repeats: "phone numbers found" on the account (DESIGN.md
    "ChatAccount"), which link accounts across platforms (issue 17, rings)."""
    if not text or not any(ch.isdigit() for ch in text):
        return ()
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text[:5000], "ID"):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if number not in found:
            found.append(number)
        if len(found) >= limit:
            break
    return tuple(found)


def normalise_handle(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw)
    text = _HANDLE_JUNK.sub("", text).lstrip("@")
    return text.casefold()


def account_id_from_url(url: str, pattern: str) -> str | None:
    if not pattern:
        return None
    match = re.search(pattern, url.strip())
    if not match or not match.groups() or not match.group(1):
        return None
    return normalise_handle(match.group(1))


def normalise_identifier(raw: str, *, profile_url_pattern: str = "") -> Identifier:
    """The one identifier an account is known by on its platform."""
    if raw is None or not str(raw).strip():
        raise IdentifierError("The account identifier is empty.")
    raw = str(raw).strip()
    if len(raw) > 500:
        raise IdentifierError("The account identifier is longer than 500 characters.")
    if raw.lower().startswith(("http://", "https://")):
        from_url = account_id_from_url(raw, profile_url_pattern)
        if from_url is None:
            raise IdentifierError("The profile URL is not one this platform's pattern recognises.")
        phone = normalise_phone(from_url)
        return Identifier(phone or from_url, "phone" if phone else "platform_id", phone)
    phone = normalise_phone(raw)
    if phone:
        return Identifier(phone, "phone", phone)
    handle = normalise_handle(raw)
    if not handle or not any(ch.isalnum() for ch in handle):
        raise IdentifierError("The account identifier has no letters or digits.")
    return Identifier(handle, "handle", None)

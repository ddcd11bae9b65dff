"""The DSA Transparency Database's validation rules for a statement of reasons, written from
its validator (digital-services-act/transparency-database, app/Http/Requests/
StatementsStoreRequest.php and app/Models/Statement.php; the revised schema, mandatory since
2025-07-01; summarised in ../shared/reference/dsa-statements.md), for the fields we send."""

from __future__ import annotations

import re
from datetime import date

DECISION_VISIBILITIES = {
    f"DECISION_VISIBILITY_{v}"
    for v in (
        "CONTENT_REMOVED",
        "CONTENT_DISABLED",
        "CONTENT_DEMOTED",
        "CONTENT_AGE_RESTRICTED",
        "CONTENT_INTERACTION_RESTRICTED",
        "CONTENT_LABELLED",
        "OTHER",
    )
}
DECISION_ACCOUNTS = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
DECISION_GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CATEGORIES = {
    f"STATEMENT_CATEGORY_{c}"
    for c in (
        "ANIMAL_WELFARE",
        "CONSUMER_INFORMATION",
        "CYBER_VIOLENCE",
        "CYBER_VIOLENCE_AGAINST_WOMEN",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NOT_SPECIFIED_NOTICE",
        "OTHER_VIOLATION_TC",
        "PROTECTION_OF_MINORS",
        "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD",
        "SELF_HARM",
        "UNSAFE_AND_PROHIBITED_PRODUCTS",
        "VIOLENCE",
    )
}
KEYWORDS = {
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_HUMAN_EXPLOITATION",
    "KEYWORD_HUMAN_TRAFFICKING",
    "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_HATE_SPEECH",
    "KEYWORD_OTHER",
}
CONTENT_TYPES = {
    f"CONTENT_TYPE_{t}"
    for t in ("APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER")
}
SOURCE_TYPES = {
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
}
AUTOMATED_DETECTIONS = {"Yes", "No"}
AUTOMATED_DECISIONS = {
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
}
PUID = re.compile(r"^[a-zA-Z0-9-_]+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Personal data that must not be in decision_facts (Art. 24(5)): phone numbers and handles.
PHONE = re.compile(r"(?:\+?62|0)8\d{7,12}|\+\d{8,15}")
HANDLE = re.compile(r"@\w{2,}")


def _date(value, earliest: date) -> str | None:
    if not isinstance(value, str) or not DATE.match(value):
        return "is not Y-m-d"
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return "is not a date"
    if not earliest <= day <= date(2038, 1, 1):
        return f"is outside {earliest} to 2038-01-01"
    return None


def problems(statement: dict, *, personal: tuple[str, ...] = ()) -> list[str]:
    """What the database would refuse in one statement (empty: it would accept it).
    `personal`: strings (an account's name, a reporter's name) that must not appear in the
    free-text fields the database publishes."""
    out: list[str] = []

    def need(field: str) -> bool:
        if statement.get(field) in (None, "", []):
            out.append(f"{field} is required")
            return False
        return True

    visibility, account = statement.get("decision_visibility"), statement.get("decision_account")
    if not (
        visibility
        or account
        or statement.get("decision_monetary")
        or statement.get("decision_provision")
    ):
        out.append("one of decision_visibility/_account/_monetary/_provision is required")
    if visibility is not None and (
        not isinstance(visibility, list) or not set(visibility) <= DECISION_VISIBILITIES
    ):
        out.append("decision_visibility has a value not allowed")
    if account is not None and account not in DECISION_ACCOUNTS:
        out.append("decision_account has a value not allowed")
    if need("decision_ground") and statement["decision_ground"] not in DECISION_GROUNDS:
        out.append("decision_ground has a value not allowed")
    if statement.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        if (
            need("illegal_content_legal_ground")
            and len(statement["illegal_content_legal_ground"]) > 500
        ):
            out.append("illegal_content_legal_ground is over 500 characters")
        if (
            need("illegal_content_explanation")
            and len(statement["illegal_content_explanation"]) > 2000
        ):
            out.append("illegal_content_explanation is over 2,000 characters")
    if need("category") and statement["category"] not in CATEGORIES:
        out.append(f"category {statement['category']} is not allowed (retired or unknown)")
    for extra in statement.get("category_addition") or []:
        if extra not in CATEGORIES:
            out.append(f"category_addition {extra} is not allowed")
    specification = statement.get("category_specification")
    if specification is not None and (
        not isinstance(specification, list) or not set(specification) <= KEYWORDS
    ):
        out.append("category_specification has a value not allowed")
    if "category_specification_other" in statement:
        if "KEYWORD_OTHER" not in (specification or []):
            out.append("category_specification_other is only kept with KEYWORD_OTHER")
        if len(statement["category_specification_other"] or "") > 500:
            out.append("category_specification_other is over 500 characters")
    types = statement.get("content_type")
    if need("content_type") and (not isinstance(types, list) or not set(types) <= CONTENT_TYPES):
        out.append("content_type has a value not allowed")
    other = "CONTENT_TYPE_OTHER" in (types or []) and need("content_type_other")
    if other and len(statement["content_type_other"]) > 500:
        out.append("content_type_other is over 500 characters")
    for field, earliest in (
        ("content_date", date(2000, 1, 1)),
        ("application_date", date(2020, 1, 1)),
    ):
        if need(field) and (why := _date(statement[field], earliest)):
            out.append(f"{field} {why}")
    if need("decision_facts"):
        facts = statement["decision_facts"]
        if len(facts) > 5000:
            out.append("decision_facts is over 5,000 characters")
        if PHONE.search(facts) or HANDLE.search(facts):
            out.append("decision_facts holds a phone number or a handle (personal data)")
        for text in personal:
            if text and text.lower() in facts.lower():
                out.append(f"decision_facts names {text!r} (personal data)")
    if need("source_type") and statement["source_type"] not in SOURCE_TYPES:
        out.append("source_type has a value not allowed")
    if len(statement.get("source_identity") or "") > 500:
        out.append("source_identity is over 500 characters")
    if need("automated_detection") and statement["automated_detection"] not in AUTOMATED_DETECTIONS:
        out.append("automated_detection is not Yes or No")
    if need("automated_decision") and statement["automated_decision"] not in AUTOMATED_DECISIONS:
        out.append("automated_decision has a value not allowed")
    if need("puid"):
        puid = statement["puid"]
        if len(puid) > 500 or not PUID.match(puid):
            out.append("puid is not 1-500 of [a-zA-Z0-9-_]")
    return out

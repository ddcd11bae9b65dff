import pytest

from accounts.identifiers import IdentifierError, normalise_identifier, normalise_phone

MICHAT = r"michat\.(?:com|id)/(?:u/|profile/)?@?([A-Za-z0-9_.]+)"


@pytest.mark.parametrize(
    "raw",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "81234567890", "(0812) 3456.7890"],
)
def test_it_reads_every_indonesian_format_as_one_number(raw):
    assert normalise_phone(raw) == "+6281234567890"
    assert normalise_identifier(raw).value == "+6281234567890"


def test_it_folds_handles():
    assert normalise_identifier("@Cantik_JKT").value == "cantik_jkt"
    assert normalise_identifier("  CANTIK_jkt ").kind == "handle"


def test_it_reads_a_profile_url_with_the_platforms_pattern():
    ident = normalise_identifier("https://michat.id/u/@Bella.BO", profile_url_pattern=MICHAT)
    assert (ident.value, ident.kind) == ("bella.bo", "platform_id")


@pytest.mark.parametrize("raw", ["", "   ", "@", "@@ \u200b", "https://example.com/x"])
def test_it_refuses_identifiers_that_normalise_to_nothing(raw):
    with pytest.raises(IdentifierError):
        normalise_identifier(raw, profile_url_pattern=MICHAT)


def test_it_does_not_take_short_digit_strings_for_phone_numbers():
    assert normalise_phone("12345") is None
    assert normalise_identifier("12345").kind == "handle"

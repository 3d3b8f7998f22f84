"""Email normalisation: one stored form per address, whatever the case and spacing people type."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from subscribers.emails import _EVERYDAY, _everyday, email_hash, loose_normalise, normalise_email
from subscribers.errors import InvalidEmail


@pytest.mark.parametrize("typed, stored", [
    ("jo.bloggs@example.org", "jo.bloggs@example.org"),
    ("  Jo.Bloggs@Example.ORG ", "jo.bloggs@example.org"),
    ("JO+news@EXAMPLE.co.uk", "jo+news@example.co.uk"),
    ("Zoë@Exämple.org", "zoë@exämple.org"),
    ("o'neill@example.ie", "o'neill@example.ie"),
])
def test_mixed_case_and_spacing_give_one_stored_form(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


@pytest.mark.parametrize("typed, words", [
    ("", "empty"),
    ("   ", "empty"),
    ("jo.bloggs", "@-sign"),
    ("jo@@example.org", "not valid"),
    ("jo..bloggs@example.org", "two periods"),
    ("jo@example", "period"),
    ("jo@localhost", "not valid"),
    ("jo bloggs@example.org", "not valid"),
    ("jo@exa_mple.org", "not valid"),
    ("a" * 65 + "@example.org", "not valid"),
    ("jo@" + "a" * 250 + ".org", "too long"),
])
def test_malformed_addresses_are_refused_with_a_reason(typed: str, words: str) -> None:
    with pytest.raises(InvalidEmail) as error:
        normalise_email(typed)
    assert words in str(error.value)


def test_loose_normalise_keeps_whatever_a_bounce_names() -> None:
    assert loose_normalise(" Not An Address ") == "not an address"
    assert loose_normalise("JO@Example.org") == "jo@example.org"


def test_hash_is_stable_and_does_not_contain_the_address() -> None:
    hashed = email_hash("jo@example.org")
    assert hashed == email_hash(normalise_email(" JO@example.ORG"))
    assert len(hashed) == 64 and "jo" not in hashed


# --- properties -----------------------------------------------------------------------------------

addresses = st.emails()


@settings(max_examples=300, deadline=None)
@given(addresses)
def test_normalising_is_idempotent(address: str) -> None:
    try:
        once = normalise_email(address)
    except InvalidEmail:
        return
    assert normalise_email(once) == once


@settings(max_examples=300, deadline=None)
@given(addresses, st.sampled_from([str.upper, str.lower, str.title, str.swapcase]),
       st.text(" \t", max_size=3), st.text(" \t", max_size=3))
def test_case_and_surrounding_space_never_make_a_second_person(address: str, change, before: str, after: str) -> None:  # type: ignore[no-untyped-def]
    try:
        expected = normalise_email(address)
    except InvalidEmail:
        return
    assert normalise_email(before + change(address) + after) == expected


@settings(max_examples=300, deadline=None)
@given(addresses)
def test_stored_form_is_what_email_validator_accepts(address: str) -> None:
    try:
        stored = normalise_email(address)
    except InvalidEmail:
        local = address.strip().rsplit("@", 1)[0]
        if len(local.encode("utf-8")) <= 64:  # our one rule beyond email-validator's default (RFC 5321)
            with pytest.raises(EmailNotValidError):
                validate_email(address.strip(), check_deliverability=False)
        return
    assert validate_email(stored, check_deliverability=False).normalized.lower() == stored


@settings(max_examples=500, deadline=None)
@given(st.from_regex(_EVERYDAY, fullmatch=True))
def test_the_fast_path_agrees_with_email_validator(address: str) -> None:
    """The regular expression used for speed never accepts what email-validator refuses, nor stores it differently."""
    quick = _everyday(address)
    if quick is None:
        return
    assert len(address.split("@")[0]) <= 64
    assert validate_email(address, check_deliverability=False).normalized.lower() == quick

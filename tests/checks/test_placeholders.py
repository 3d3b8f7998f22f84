"""The example details a new installation starts with are errors until the council's own replace them."""

from __future__ import annotations

import pytest

from newsletter.checks.placeholders import placeholder_findings
from newsletter.theme import Logo, Theme

OWN = Theme(organisation="Brackenfield Council Local Offer", postal_address="Civic Centre, Mill Lane, BF1 4QT",
            contact_email="localoffer@brackenfield.gov.uk", contact_phone="0300 123 4567",
            privacy_url="https://www.brackenfield.gov.uk/privacy")


def test_a_council_s_own_details_pass() -> None:
    assert placeholder_findings(OWN) == []


@pytest.mark.parametrize(("change", "words"), [
    ({"postal_address": "Town Hall,  High Street, Anytown"}, "the example address"),
    ({"postal_address": "Civic Centre, AB1 2CD"}, "the example address"),
    ({"organisation": "Anytown Council"}, "the made-up town “Anytown”"),
    ({"contact_email": "LocalOffer@Example.ORG"}, "example.org or example.com"),
    ({"contact_email": "news@mail.example.com"}, "example.org or example.com"),
    ({"privacy_url": "https://www.example.org/privacy"}, "example.org or example.com"),
    ({"contact_phone": "01632 960123"}, "the example phone number"),
    ({"footer_text": "Call 01632 960 555 for large print."}, "the example phone number"),
    ({"logo": Logo(src="https://example.org/logo.png", alt="Logo")}, "example.org or example.com"),
])
def test_each_example_detail_is_an_error_naming_the_field_and_the_page(change: dict[str, object], words: str) -> None:
    findings = placeholder_findings(OWN.model_copy(update=change))
    assert [finding.level for finding in findings] == ["error"]
    assert words in findings[0].message and "/team/theme" in findings[0].message


def test_look_alikes_are_not_examples() -> None:
    theme = OWN.model_copy(update={"contact_email": "news@myexample.org", "organisation": "Anytowns Trust",
                                   "contact_phone": "01632 961 123"})
    assert placeholder_findings(theme) == []

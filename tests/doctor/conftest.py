"""Settings for doctor tests: a healthy-looking public installation, changed one setting at a time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from newsletter.config import Settings, load_settings

STRONG_KEY = "Vq3xJ9mZp2Lr8TbWc5NyHd7KfGs4AeUo1Qi6"


@pytest.fixture
def configured(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Settings as the environment gives them (the `settings` fixture's folders), with `overrides` on top."""
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://news.yourcouncil.gov.uk")
    monkeypatch.setenv("NEWSLETTER_FROM_ADDRESS", "Local Offer Team <localoffer@yourcouncil.gov.uk>")

    def make(**overrides: object) -> Settings:
        return load_settings(**overrides)

    return make

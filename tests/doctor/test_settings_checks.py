"""The secret key and BASE_URL checks."""

from __future__ import annotations

from collections.abc import Callable

from newsletter.config import DEVELOPMENT_SECRET, Settings
from newsletter.doctor.settings import base_url, secret_key


def _levels(findings: list) -> list[str]:
    return [finding.level for finding in findings]


def test_the_development_key_is_an_error_off_this_machine_and_a_warning_on_it(configured: Callable[..., Settings]) -> None:
    [public] = secret_key(configured(secret_key=DEVELOPMENT_SECRET, base_url="https://news.yourcouncil.gov.uk"))
    assert public.level == "error" and "development key" in public.message and "token_urlsafe" in public.message
    [local] = secret_key(configured(secret_key=DEVELOPMENT_SECRET, base_url="http://127.0.0.1:8000"))
    assert local.level == "warning"


def test_a_short_or_wordy_key_is_a_warning_and_a_long_random_one_is_fine(configured: Callable[..., Settings]) -> None:
    assert _levels(secret_key(configured(secret_key="abcdefgh12345678"))) == ["warning"]
    assert _levels(secret_key(configured(secret_key="our-newsletter-secret-password-2026!"))) == ["warning"]
    [good] = secret_key(configured())
    assert good.level == "ok" and "36 characters" in good.message


def test_base_url_must_be_https_on_a_public_name(configured: Callable[..., Settings]) -> None:
    assert _levels(base_url(configured())) == ["ok"]
    [http] = base_url(configured(base_url="http://news.yourcouncil.gov.uk"))
    assert http.level == "error" and "not https" in http.message
    for private in ("https://10.1.2.3", "https://192.168.1.20:8443", "https://newsletter", "https://news.corp",
                    "https://intranet.council.local"):
        [finding] = base_url(configured(base_url=private))
        assert finding.level == "error", private
        assert "inside your network" in finding.message or "private address" in finding.message
    assert _levels(base_url(configured(base_url="http://localhost:8000"))) == ["warning"]
    assert _levels(base_url(configured(base_url="https://203.0.113.9"))) == ["error"]  # TEST-NET-3 is reserved
    assert _levels(base_url(configured(base_url="https://81.2.69.142"))) == ["warning"]

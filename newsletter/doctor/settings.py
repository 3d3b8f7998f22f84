"""The secret key and the public address: what every link in every email is made of."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from newsletter.config import DEVELOPMENT_SECRET, Settings, _is_loopback
from newsletter.doctor.findings import Finding, error, ok, warning

STRONG_LENGTH = 32
MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Names that only mean something inside one network: readers' mail apps cannot open them.
_PRIVATE_SUFFIXES = (".local", ".localdomain", ".internal", ".intranet", ".lan", ".home", ".corp", ".localhost",
                     ".test", ".invalid", ".example")
_WEAK_WORDS = ("secret", "password", "changeme", "change-me", "newsletter", "12345", "qwerty")


def secret_key(settings: Settings) -> list[Finding]:
    key = settings.secret_key
    on_loopback = _is_loopback(urlsplit(settings.base_url).hostname or "")
    if key == DEVELOPMENT_SECRET:
        message = ("NEWSLETTER_SECRET_KEY is the built-in development key, which anyone can read in the source "
                   "and use to sign in as the team or change readers' subscriptions. Set it to a long random "
                   f"value (`{MAKE_ONE}`) and keep it with your backups.")
        return [warning("secret-key", message + " This is fine only while BASE_URL is this machine.")
                if on_loopback else error("secret-key", message)]
    lowered = key.lower()
    weak = len(key) < STRONG_LENGTH or len(set(key)) < 12 or any(word in lowered for word in _WEAK_WORDS)
    if weak:
        return [warning("secret-key", f"NEWSLETTER_SECRET_KEY is set but weak ({len(key)} characters"
                        f"{', with a common word' if any(w in lowered for w in _WEAK_WORDS) else ''}): "
                        f"use {STRONG_LENGTH} or more random characters (`{MAKE_ONE}`). Changing it signs "
                        "everyone out and stops the links in emails already sent (unsubscribe, preferences) "
                        "from working, so change it before the first send.")]
    return [ok("secret-key", f"NEWSLETTER_SECRET_KEY is set ({len(key)} characters, not the development key).")]


def _private_host(host: str) -> str | None:
    """Why readers could not reach `host`, or None."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            return "a name without a domain, which only works inside your network"
        if host.lower().rstrip(".").endswith(_PRIVATE_SUFFIXES):
            return "a name that only works inside your network"
        return None
    if address.is_private or address.is_link_local or address.is_reserved or address.is_unspecified:
        return "a private address readers cannot reach from home"
    return None


def base_url(settings: Settings) -> list[Finding]:
    url = settings.base_url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _is_loopback(host):
        return [warning("base-url", f"NEWSLETTER_BASE_URL is {url}, this machine: the links in emails (web copy, "
                        "unsubscribe, preferences) will not open for readers. Set it to the service's public "
                        "https address, such as https://news.yourcouncil.gov.uk.")]
    problems = []
    why = _private_host(host)
    if why:
        problems.append(f"its host {host} is {why}")
    if parts.scheme != "https":
        problems.append("it is not https, so readers' personal links and the team's sign-in would cross the "
                        "internet unencrypted (and browsers mark the pages not secure)")
    if problems:
        return [error("base-url", f"NEWSLETTER_BASE_URL {url} will not work for readers: {'; and '.join(problems)}. "
                      "Set it to the public https address the reverse proxy answers on.")]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return [ok("base-url", f"NEWSLETTER_BASE_URL {url} is https on a public name.")]
    return [warning("base-url", f"NEWSLETTER_BASE_URL {url} is an IP address: readers' mail apps trust links on a "
                    "name more, and certificates are made for names. Use a name such as news.yourcouncil.gov.uk.")]


__all__ = ["base_url", "secret_key"]

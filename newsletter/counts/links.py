"""Links in an issue's email go through our click-count redirect, `BASE_URL/r/<issue>/<token>`.

The token signs the issue and the link's row (`tokens.sign_stable`, no time in it), so:
- it carries no reader identity: the same link is byte-identical in every reader's copy, and the
  message is still encoded once per campaign (delivery/mime.py) with nothing added per reader;
- it cannot be used as an open redirect: the destination is read from our database, never from the
  address, and a changed character fails the signature;
- it never expires, like the email it is in.

The service's own links are left alone: the reader's unsubscribe and preferences links (placeholders
filled per reader), the web view, feedback and poll links and anything else on BASE_URL, and the
privacy notice. mailto: and tel: links are not web addresses and stay as they are.

Rewriting is done once, when the message is frozen (a campaign's message, a test copy), on the
rendered HTML and text: a few milliseconds a campaign, nothing per reader (docs/performance.md).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.counts import store
from newsletter.tokens import BadToken, sign_stable, unsign_stable

PURPOSE = "click"

# lxml (through premailer) writes every attribute in double quotes, with & < > " escaped.
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)


def redirect_url(settings: Settings, issue_id: int, link_id: int) -> str:
    return f"{settings.base_url}/r/{issue_id}/{sign_stable(PURPOSE, [issue_id, link_id], settings.secret_key)}"


def read_token(settings: Settings, issue_id: int, token: str) -> int:
    """The link row a redirect names; BadToken when the token is changed, foreign or for another issue."""
    payload = unsign_stable(PURPOSE, token, settings.secret_key)
    if (not isinstance(payload, list) or len(payload) != 2 or payload[0] != issue_id
            or not all(isinstance(part, int) and not isinstance(part, bool) for part in payload)):
        raise BadToken("This link is not valid. It may have been copied incompletely.")
    return int(payload[1])


def countable_links(email_html: str, own: Collection[str], base_url: str) -> list[str]:
    """The web addresses the email links to that are not the service's own, in order of first appearance."""
    found: list[str] = []
    for match in _HREF.finditer(email_html):
        url = html.unescape(match.group(2)).strip()
        if _is_countable(url, own, base_url) and url not in found:
            found.append(url)
    return found


def _is_countable(url: str, own: Collection[str], base_url: str) -> bool:
    if not url.lower().startswith(("http://", "https://")):
        return False  # mailto:, tel:, an anchor, a personal placeholder
    if url == base_url or url.startswith(base_url + "/") or url.startswith(base_url + "?"):
        return False  # our own pages: web view, feedback, polls, events, subscribe
    return url not in own


def rewrite(email_html: str, email_text: str, mapping: dict[str, str]) -> tuple[str, str]:
    """Both bodies with each address in `mapping` replaced by its redirect (HTML hrefs; text where written out)."""
    if not mapping:
        return email_html, email_text

    def href(match: re.Match[str]) -> str:
        url = html.unescape(match.group(2)).strip()
        target = mapping.get(url)
        return match.group(0) if target is None else match.group(1) + html.escape(target, quote=True) + match.group(3)

    # The text part writes links out as "label (url)" or "label: url". Longest first, and only a whole
    # address: one that stops at a space, a closing bracket or quote, or punctuation ending a sentence.
    alternatives = "|".join(re.escape(url) for url in sorted(mapping, key=len, reverse=True))
    in_text = re.compile(rf"(?<![^\s(<\[\"'])(?:{alternatives})(?=$|[\s)\]>\"']|[.,;:!?](?:\s|$))")
    return _HREF.sub(href, email_html), in_text.sub(lambda m: mapping[m.group(0)], email_text)


def counted_bodies(session: Session, issue_id: int, email_html: str, email_text: str, settings: Settings,
                   own: Collection[str] = ()) -> tuple[str, str]:
    """The email's bodies with their links through the click counter, registering each link once.

    With NEWSLETTER_COUNT_CLICKS=0 the bodies are returned as they are: links go straight to their
    destination and nothing is registered.
    """
    if not settings.count_clicks:
        return email_html, email_text
    urls = countable_links(email_html, own, settings.base_url)
    ids = store.register_links(session, issue_id, urls)
    return rewrite(email_html, email_text, {url: redirect_url(settings, issue_id, ids[url]) for url in urls})


def own_links(theme_privacy_url: str | None) -> frozenset[str]:
    """Links outside BASE_URL that are still the service's own: the privacy notice in every footer."""
    return frozenset({theme_privacy_url} if theme_privacy_url else set())


def for_issue(session: Session, issue_id: int, email_html: str, email_text: str,
              settings: Settings) -> tuple[str, str]:
    """`counted_bodies` with the theme's privacy notice kept as the service's own link."""
    from newsletter.theme import get_theme

    return counted_bodies(session, issue_id, email_html, email_text, settings,
                          own=own_links(get_theme().privacy_url))


_REDIRECT = re.compile(r"/r/(\d+)/([A-Za-z0-9_.-]+)")


def linked_ids(settings: Settings, issue_id: int, email_html: str) -> list[int]:
    """The link rows a frozen email's redirects name, in the order they appear (each once)."""
    found: list[int] = []
    for match in _REDIRECT.finditer(email_html):
        if int(match.group(1)) != issue_id:
            continue
        try:
            link_id = read_token(settings, issue_id, match.group(2))
        except BadToken:
            continue
        if link_id not in found:
            found.append(link_id)
    return found

"""Which requests are counted: a person's GET, not a HEAD, a prefetch or an obvious robot.

Mail security systems (Microsoft Defender's Safe Links, Proofpoint, Mimecast, Barracuda...) open
links in incoming mail to check them, and link previewers fetch them to draw a card. The ones that
say who they are, and every request with no user agent at all, are not counted; the redirect still
works for them. Many such systems use an ordinary browser's user agent and cannot be told apart, so
the report says counts may include them. Robots are recognised by crawlerdetect's patterns (the
CrawlerDetect project's list, kept up to date by its users), with the mail scanners it does not name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from crawlerdetect import CrawlerDetect

# Mail and link security scanners that name themselves but are not in crawlerdetect's list.
_MAIL_SCANNERS = re.compile(
    r"proofpoint|mimecast|safelinks|safe ?links|symantec|messagelabs|trend ?micro|bitdefender|sophos|"
    r"ironport|forcepoint|zscaler|check ?point|fireeye|trellix|avanan|\bvade|hornet ?security|libraesva|"
    r"urlscan|url ?defense|google-safety|kaspersky|\beset\b|fortinet|fortiguard|cloudmark|spamtitan|mailguard|"
    r"scanner|preview",
    re.IGNORECASE,
)
_PREFETCH = re.compile(r"prefetch|prerender", re.IGNORECASE)


@functools.cache
def _detector() -> CrawlerDetect:
    # One detector per process: it compiles its patterns once and caches answers per user agent.
    return CrawlerDetect()


def is_person(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request looks like a person opening the link or page (and so is counted)."""
    if method.upper() != "GET":
        return False  # HEAD: link checkers ask whether it exists, nobody reads it
    agent = (headers.get("User-Agent") or "").strip()
    if not agent:
        return False
    # A browser fetching ahead of a click that may never come (Chrome's Sec-Purpose, Firefox's X-Moz).
    if any(_PREFETCH.search(headers.get(name) or "") for name in ("Sec-Purpose", "Purpose", "X-Moz", "X-Purpose")):
        return False
    if _MAIL_SCANNERS.search(agent):
        return False
    return not _detector().is_crawler(agent)

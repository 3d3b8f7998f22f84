"""What counting clicks costs on the send path: the link rewrite once a campaign, and each reader's message.

Run by hand: `.venv/bin/python bench/link_counts_bench.py` (figures go in docs/performance.md).

Prints, for the example issue: the rewrite of the HTML and text bodies alone (pure string work), the
whole freeze step with the link rows registered in a fresh SQLite database (first time, then again,
as a second campaign of the issue would), and the cost of building one reader's MIME message from
the original bodies and from the rewritten ones (best of five rounds of 10,000 readers). The rewrite
happens once a campaign when its message is fixed; the per-reader loop only joins bytes, so its
cost should not move.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp())
os.environ.setdefault("NEWSLETTER_BASE_URL", "https://news.example.org")
os.environ.setdefault("NEWSLETTER_FROM_ADDRESS", "Local Offer Team <news@example.org>")
os.environ["NEWSLETTER_DATABASE_URL"] = f"sqlite:///{WORK / 'bench.db'}"
os.environ["NEWSLETTER_MEDIA_DIR"] = str(WORK / "media")

READERS = 10_000


def _median_ms(step, times: int) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(times):
        started = time.perf_counter()
        step()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000


def main() -> None:
    from newsletter.config import get_settings
    from newsletter.counts import links
    from newsletter.db import session_scope
    from newsletter.delivery.mime import MessageBodies, PreparedMessage, Recipient
    from newsletter.issues import service
    from newsletter.migrate import upgrade
    from newsletter.render.personalise import PersonalTemplate
    from newsletter.theme import Theme

    settings = get_settings()
    upgrade(settings.database_url)
    with session_scope() as session:
        issue, _ = service.import_issue(session, ROOT / "examples" / "co-production-week.yaml", settings)
        issue_id = issue.id
        rendered = service.rendered(issue, Theme(), settings)
    html, text = rendered.html.source, rendered.text.source
    urls = links.countable_links(html, (), settings.base_url)
    mapping = {url: links.redirect_url(settings, issue_id, n) for n, url in enumerate(urls, start=1)}

    rewrite = _median_ms(lambda: links.rewrite(html, text, mapping), 50)

    def freeze() -> tuple[str, str]:
        with session_scope() as session:
            return links.counted_bodies(session, issue_id, html, text, settings)

    first_start = time.perf_counter()
    counted_html, counted_text = freeze()
    first = (time.perf_counter() - first_start) * 1000
    again = _median_ms(freeze, 20)

    def per_reader(bodies: MessageBodies) -> float:
        prepared = PreparedMessage(bodies, subject="News", from_address=settings.from_address, language="en-GB",
                                   list_id="send-news.example.org", list_name="SEND newsletter", campaign_id=1,
                                   domain="example.org")
        recipients = [Recipient(n, f"reader{n}@example.org", f"Reader {n}",
                                f"https://news.example.org/u/token{n:06d}xyzABC", f"unsubscribe+{n}@example.org",
                                f"https://news.example.org/p/token{n:06d}") for n in range(READERS)]
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            for recipient in recipients:
                prepared.build(recipient)
            rounds.append((time.perf_counter() - started) / READERS)
        return min(rounds)

    plain = per_reader(MessageBodies(rendered.html, rendered.text))
    counted = per_reader(MessageBodies(PersonalTemplate.compile(counted_html, escape=True),
                                       PersonalTemplate.compile(counted_text, escape=False)))
    print(f"links counted in the example issue: {len(urls)}")
    print(f"email HTML: {len(html) / 1024:.1f} KB before, {len(counted_html) / 1024:.1f} KB after the rewrite")
    print(f"rewrite of HTML and text (median of 50):            {rewrite:8.2f} ms")
    print(f"freeze with link rows, first time (SQLite):         {first:8.2f} ms")
    print(f"freeze with link rows, rows already there (median): {again:8.2f} ms")
    print(f"a reader's MIME message, original links:            {plain * 1e6:8.2f} µs")
    print(f"a reader's MIME message, counted links:             {counted * 1e6:8.2f} µs")


if __name__ == "__main__":
    main()

"""Render the example issue once, then personalise it for 10,000 readers.

Run by hand: `.venv/bin/python bench/render_bench.py` (figures go in docs/performance.md).
Prints: the first render (MJML + premailer + text + web view), a cached render, the per-reader
cost of filling in personal parts (HTML and text), and of building a whole MIME message.
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
os.environ.setdefault("NEWSLETTER_BASE_URL", "https://news.example.org")
os.environ.setdefault("NEWSLETTER_FROM_ADDRESS", "Local Offer Team <news@example.org>")

READERS = 10_000


def main() -> None:
    started = time.perf_counter()
    from newsletter.config import get_settings
    from newsletter.delivery.mime import PreparedMessage, Recipient
    from newsletter.issues.yamlio import read_issue_file
    from newsletter.render.pipeline import _CACHE, render_issue
    from newsletter.theme import Theme

    imported = time.perf_counter()
    settings = get_settings()
    doc = read_issue_file(ROOT / "examples" / "co-production-week.yaml", Path(tempfile.mkdtemp()))
    theme = Theme()

    first_start = time.perf_counter()
    rendered = render_issue(doc, "co-production-week-2026", theme, settings)
    first = time.perf_counter() - first_start

    cached_start = time.perf_counter()
    render_issue(doc, "co-production-week-2026", theme, settings)
    cached = time.perf_counter() - cached_start

    warm = []
    for _ in range(5):
        _CACHE.clear()
        t = time.perf_counter()
        render_issue(doc, "co-production-week-2026", theme, settings)
        warm.append(time.perf_counter() - t)

    readers = [
        {"unsubscribe_url": f"https://news.example.org/u/token{n:06d}xyzABC", "preferences_url":
         f"https://news.example.org/p/token{n:06d}", "name": f"Reader {n}"}
        for n in range(READERS)
    ]
    def per_reader(step) -> float:  # type: ignore[no-untyped-def]
        """Best of five rounds over all readers: noise from other processes only ever adds time."""
        rounds = []
        for _ in range(5):
            t = time.perf_counter()
            for item in step[1]:
                step[0](item)
            rounds.append((time.perf_counter() - t) / READERS)
        return min(rounds)

    fill = per_reader((lambda v: (rendered.html.fill(v), rendered.text.fill(v)), readers))
    fill_bytes = per_reader((lambda v: (rendered.html.fill_bytes(v), rendered.text.fill_bytes(v)), readers))

    prepared = PreparedMessage(rendered, subject=doc.subject, from_address=settings.from_address, language="en-GB",
                               list_id="send-news.example.org", list_name="SEND newsletter", campaign_id=1,
                               domain="example.org")
    recipients = [Recipient(n, f"reader{n}@example.org", f"Reader {n}", v["unsubscribe_url"],
                            f"unsubscribe+{n}@example.org", v["preferences_url"]) for n, v in enumerate(readers)]
    build = per_reader((prepared.build, recipients))

    size = len(rendered.html.public.encode())
    print(f"imports:                         {imported - started:8.3f} s")
    print(f"first render (cold):             {first * 1000:8.1f} ms")
    print(f"render, warm, uncached (median): {statistics.median(warm) * 1000:8.1f} ms")
    print(f"render, cached:                  {cached * 1e6:8.1f} µs")
    print(f"email HTML size:                 {size / 1024:8.1f} KB")
    print(f"personalise HTML + text, str:    {fill * 1e6:8.2f} µs a reader ({READERS:,} readers)")
    print(f"personalise HTML + text, UTF-8:  {fill_bytes * 1e6:8.2f} µs a reader")
    print(f"whole MIME message:              {build * 1e6:8.2f} µs a reader")


if __name__ == "__main__":
    main()

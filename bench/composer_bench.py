"""Saving a block in place on a 25-block issue, as an officer's browser does it, through the real app.

Run by hand: `.venv/bin/python bench/composer_bench.py [--saves 60]` (figures go in docs/performance.md).

One save is the HTTP round trips the browser makes for it with JavaScript on: the htmx POST of the
block form (the server validates and stores the block, runs the checks on the whole issue, which
renders it, and answers with the block's card and the checks, next steps and preview panels), then
the side preview's GET of the email at its new version (served from the render cache the checks
filled). Each save changes the words, so nothing is served from a cache made by an earlier save.
The app is `create_app()` on a fresh SQLite database in a temporary folder, through Flask's test
client (no network; WSGI and everything behind it is real). Prints the median and 95th percentile.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BLOCKS = 25
PASSWORD = "a long enough password"


def _issue_blocks() -> list[dict]:
    """A July-style issue of 25 blocks: every type, a list of links, an image."""
    base = [
        {"type": "heading", "text": "Co-production week is here", "level": 2},
        {"type": "text", "markdown": "This week families, young people and staff show how they plan services "
                                     "together. Read on to see what has changed and how to take part."},
        {"type": "contact", "heading": "Talk to the Local Offer team", "email": "localoffer@example.org",
         "phone": "01632 960 200", "links": [{"label": "Search the Local Offer directory",
                                              "url": "https://www.example.org/localoffer"}]},
        {"type": "divider"},
        {"type": "story", "title": "A promise written with parents", "body": "Parent carers and staff wrote it "
         "together. It says how we share decisions.", "link_label": "Read the promise",
         "link_url": "https://www.example.org/promise"},
        {"type": "quote", "text": "We were asked what matters, and then we saw it happen.", "cite": "A parent carer"},
        {"type": "notice", "heading": "Join the steering group by 31 July", "body": "Tell us by 31 July."},
        {"type": "button", "label": "Read the inspection report", "url": "https://www.example.org/inspection"},
        {"type": "social", "heading": "Follow us", "links": [{"network": "facebook",
                                                              "url": "https://www.facebook.com/example"}]},
    ]
    blocks = []
    while len(blocks) < BLOCKS - 1:
        blocks.extend(base)
    return blocks[: BLOCKS - 1] + [{"type": "image", "src": "https://www.example.org/promise.png",
                                    "alt": "Parents and staff writing the promise"}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=60)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="composer-bench-"))
    os.environ.update({
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "NEWSLETTER_MEDIA_DIR": str(folder / "media"),
        "NEWSLETTER_OUTBOX_DIR": str(folder / "outbox"), "NEWSLETTER_BASE_URL": "http://127.0.0.1:8000",
    })
    from newsletter.accounts import service
    from newsletter.accounts.models import Role
    from newsletter.config import get_settings
    from newsletter.db import session_scope
    from newsletter.issues import editing, store
    from newsletter.issues.blocks import IssueDocument
    from newsletter.migrate import upgrade
    from newsletter.web import create_app

    settings = get_settings()
    upgrade(settings.database_url)
    with session_scope() as session:
        author = service.create_user(session, "ed@example.org", "Ed Editor", PASSWORD, Role.EDITOR)
        issue = store.create_issue(session, IssueDocument(title="July news", subject="July news from the Local Offer"))
        issue.created_by_id = author.id
        for block in _issue_blocks():
            editing.add_block(issue, block)
        position = [i for i, block in enumerate(issue.blocks) if block["type"] == "quote"][1]  # mid-issue
        slug, key = issue.slug, editing.keys_of(issue)[position]

    client = create_app(settings).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/team/sign-in").get_data(as_text=True))
    assert token
    csrf = token.group(1)
    signed_in = client.post("/team/sign-in", data={"email": "ed@example.org", "password": PASSWORD, "csrf_token": csrf})
    assert signed_in.status_code == 302, "sign-in failed"
    hx = {"HX-Request": "true"}
    page = client.get(f"/team/issues/{slug}")
    assert page.status_code == 200

    timings = []
    for n in range(args.saves + 3):  # the first three warm up templates and caches, and are not counted
        form = client.get(f"/team/issues/{slug}/blocks/{key}", headers=hx).get_data(as_text=True)
        version = re.search(r'name="block_version" value="([^"]+)"', form)
        assert version
        started = time.perf_counter()
        saved = client.post(f"/team/issues/{slug}/blocks/{key}", headers=hx, data={
            "csrf_token": csrf, "block_version": version.group(1), "text": f"Quote number {n}: we were listened to.",
            "cite": "A parent carer"})
        assert saved.status_code == 200 and "blockSaved" in saved.headers.get("HX-Trigger", ""), saved.status_code
        preview = re.search(r'id="side-preview"[^>]*src="([^"#]+)', saved.get_data(as_text=True))
        assert preview
        frame = client.get(preview.group(1).replace("&amp;", "&"))
        assert frame.status_code == 200 and f"Quote number {n}:" in frame.get_data(as_text=True)
        if n >= 3:
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    print(f"{len(timings)} saves of block {position + 1} (a quote) of a {BLOCKS}-block issue "
          "(POST in place + preview GET):")
    print(f"  median {statistics.median(timings):.0f} ms, 95th percentile {p95:.0f} ms, "
          f"fastest {timings[0]:.0f} ms, slowest {timings[-1]:.0f} ms")


if __name__ == "__main__":
    main()

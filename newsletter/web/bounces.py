"""An HTTP endpoint for bounce and complaint reports posted by an SMTP relay.

Some relays deliver bounces by HTTP instead of to a mailbox. They post the raw message; the
endpoint is off unless NEWSLETTER_BOUNCE_TOKEN is set, and then needs it as a bearer token (a relay
has no session, so there is no CSRF token either: the bearer token is the proof).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, jsonify, request

from newsletter.delivery.bounces import process_raw
from newsletter.web import pages
from newsletter.web.csrf import csrf_exempt

bounces = Blueprint("bounces", __name__)

MAX_BYTES = 2 * 1024 * 1024


@bounces.post("/bounces/inbound")
@csrf_exempt
def inbound() -> Response:
    settings = pages.settings()
    expected = settings.bounce_token
    if not expected:
        abort(404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(401)
    if (request.content_length or 0) > MAX_BYTES:
        abort(413)
    raw = request.get_data(cache=False)
    if not raw.strip():
        abort(400, description="Post the bounce message itself as the request body.")
    report = process_raw([raw], settings)
    return jsonify(hard=report.hard, soft=report.soft, complaints=report.complaints, unmatched=report.unmatched,
                   ignored=report.ignored)

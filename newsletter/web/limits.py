"""How big a request each page accepts, checked before anything reads the body.

A public form or the one-click unsubscribe needs a few hundred bytes, so anonymous requests may
send at most 64 KB; signed-in team forms 1 MB; a block form with an image the 5 MB image plus its
fields; the CSV import NEWSLETTER_MAX_IMPORT_MB. A request that says it is larger is answered 413
before a byte of it is read, and one that does not say (chunked) is cut off at the limit as it is
read (Flask 3.1's per-request `max_content_length`).
"""

from __future__ import annotations

import tempfile

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from newsletter.config import Settings
from newsletter.issues.media import MAX_BYTES as IMAGE_BYTES
from newsletter.web.bounces import MAX_BYTES as BOUNCE_BYTES

KB = 1024
MB = 1024 * KB
PUBLIC_BYTES = 64 * KB
TEAM_FORM_BYTES = 1 * MB
IMAGE_FORM_BYTES = IMAGE_BYTES + TEAM_FORM_BYTES

# Blueprints whose every page needs a signed-in team member.
_TEAM_BLUEPRINTS = frozenset({"composer", "sending", "team_lists", "team_users", "theme_page"})
_IMAGE_FORMS = frozenset({"composer.new_block", "composer.edit_block"})


def limit_for(endpoint: str | None, settings: Settings) -> int:
    """The most bytes a request to `endpoint` may send."""
    if endpoint == "team_lists.import_file":
        return settings.max_import_mb * MB
    if endpoint in _IMAGE_FORMS:
        return IMAGE_FORM_BYTES
    if endpoint == "bounces.inbound":
        return BOUNCE_BYTES
    if endpoint and endpoint.split(".", 1)[0] in _TEAM_BLUEPRINTS:
        return TEAM_FORM_BYTES
    return PUBLIC_BYTES


def largest_limit(settings: Settings) -> int:
    """What the WSGI server in front may buffer at most: the biggest of the limits above."""
    return max(settings.max_import_mb * MB, IMAGE_FORM_BYTES, BOUNCE_BYTES, TEAM_FORM_BYTES, PUBLIC_BYTES)


def _describe(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"


def too_large_message(endpoint: str | None, limit: int) -> str:
    """Plain words for the 413 page: what was too big, the limit, and what to do instead."""
    if endpoint == "team_lists.import_file":
        return (f"The file is bigger than the {_describe(limit)} a CSV import can take. Split it into smaller "
                "files and import each one, or ask whoever runs the service to raise NEWSLETTER_MAX_IMPORT_MB.")
    if endpoint in _IMAGE_FORMS:
        return (f"The image is too big: images must be under {_describe(IMAGE_BYTES)}. Go back, make the picture "
                "smaller (or save it as JPEG) and upload it again. The text you typed is kept in this browser.")
    return (f"What was sent is bigger than this page accepts ({_describe(limit)} at most). "
            "Go back and try again with less.")


def _check_size() -> None:
    limit = limit_for(request.endpoint, current_app.config["NEWSLETTER_SETTINGS"])
    request.max_content_length = limit
    if request.content_length is not None:
        if request.content_length > limit:
            raise RequestEntityTooLarge()
    elif request.environ.get("wsgi.input_terminated"):
        _measure_unsized_body(limit)


def _measure_unsized_body(limit: int) -> None:
    """A chunked body (no Content-Length): read it up to the limit, and refuse it if there is more.

    Werkzeug would otherwise cut a form-encoded body at the limit without a word and parse what it
    had, so a too-long form could be half-accepted. What fits is handed on as a body with its length.
    """
    environ = request.environ
    source = environ["wsgi.input"]
    # Closed when the request's environ is dropped; over 1 MB it spills to a temporary file.
    kept = tempfile.SpooledTemporaryFile(max_size=MB)  # noqa: SIM115
    taken = 0
    while taken <= limit:
        chunk = source.read(min(64 * KB, limit + 1 - taken))
        if not chunk:
            break
        kept.write(chunk)
        taken += len(chunk)
    if taken > limit:
        kept.close()
        raise RequestEntityTooLarge()
    kept.seek(0)
    environ["wsgi.input"] = kept
    environ["CONTENT_LENGTH"] = str(taken)
    environ.pop("HTTP_TRANSFER_ENCODING", None)


def init_limits(app: Flask) -> None:
    """Set the limits; must come before anything (the CSRF check) reads the form."""
    app.config["MAX_CONTENT_LENGTH"] = PUBLIC_BYTES
    # Werkzeug's own cap on one form field (500 KB) would otherwise answer before the team-form limit.
    app.config["MAX_FORM_MEMORY_SIZE"] = TEAM_FORM_BYTES
    app.before_request(_check_size)


__all__ = ["init_limits", "largest_limit", "limit_for", "too_large_message"]

"""The text editor's server side: what `richtext.js` asks while an officer writes a prose field.

The editor (bold, italic, links, lists and the reader's name, over a plain textarea that stays the
form field) never decides what the Markdown is: it sends its HTML here and puts the answer into the
textarea, and the same conversion (newsletter/web/html_to_markdown.py) reads pasted Word, Google Docs
and web pages. So what a person sees saved is what the no-JavaScript form would have saved, and the
sanitiser that guards the email guards the editor too.

Registered under the composer's blueprint, so it needs a signed-in team member, a CSRF token and
keeps to the team forms' 1 MB limit.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from newsletter.render import markdown
from newsletter.web.auth import login_required
from newsletter.web.html_to_markdown import MAX_HTML, convert
from newsletter.web.links_input import AddressProblem, normalise_address

richtext = Blueprint("richtext", __name__, url_prefix="/richtext")

# The reader's name as the editor shows it: a label that reads "reader's name", kept whole while editing.
NAME_CHIP = markdown.EDITOR_NAME
editor_html = markdown.to_editor_html


def _too_large() -> tuple[Response, int]:
    return jsonify(error="That is too much to paste at once. Paste it in parts."), 413


@richtext.route("/markdown", methods=["POST"])
@login_required
def to_markdown() -> tuple[Response, int] | Response:
    """HTML from the editor or the clipboard: the Markdown it is stored as, and the editor's HTML for that.

    The HTML returned is the Markdown rendered again, so a paste shows exactly what will be kept.
    """
    html = request.form.get("html", "")
    if len(html) > MAX_HTML:
        return _too_large()
    result = convert(html)
    return jsonify(markdown=result.markdown, html=editor_html(result.markdown), notes=result.notes)


@richtext.route("/html", methods=["POST"])
@login_required
def to_html() -> tuple[Response, int] | Response:
    """A prose field's Markdown as the editor shows it (opening a form, or putting unsaved text back)."""
    text = request.form.get("markdown", "")
    if len(text) > MAX_HTML:
        return _too_large()
    return jsonify(html=editor_html(text))


@richtext.route("/address", methods=["POST"])
@login_required
def address() -> tuple[Response, int] | Response:
    """The link dialog's address completed (`www.` gets `https://`), or why it cannot be a link."""
    try:
        return jsonify(address=normalise_address(request.form.get("address", "")[:2000]))
    except AddressProblem as problem:
        text = str(problem)
        return jsonify(error=text[:1].upper() + text[1:] + ".")  # an answer, not a failure: the dialog shows it

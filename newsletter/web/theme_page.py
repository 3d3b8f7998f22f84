"""Theme and footer, for approvers: the organisation's name, address, contact details, logo, colours,
footer text and privacy notice link that every email and web page carries.

The theme file (`NEWSLETTER_THEME_FILE`) stays the starting point; this page stores only what differs
from it (newsletter/theme.py, table `theme_settings`), so "Go back to the theme file" is always one
button away. Every value reaches the footer of every email, so each is checked as it is typed: one
line where a line is meant (newsletter/headersafe.py), a length a footer can hold, real colours whose
pairs meet WCAG's 4.5 to 1 (newsletter/checks/contrast.py), a logo that is really a small image.
Campaigns already made keep the message fixed when they were made (newsletter/delivery/campaigns.py):
a change here shows in the next issue, never in one already on its way.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from newsletter.checks.contrast import MINIMUM_RATIO, THEME_PAIRS, contrast_ratio
from newsletter.checks.placeholders import placeholder_findings
from newsletter.db import utcnow
from newsletter.headersafe import one_line_problem
from newsletter.issues.media import MediaError, store_bytes
from newsletter.theme import EDITABLE_FIELDS, Logo, Theme, ThemeSettings, merge, read_overrides
from newsletter.web import pages
from newsletter.web.auth import approver_required, current_user

theme_page = Blueprint("theme_page", __name__, url_prefix="/team")

# A logo is shown at 180 pixels or so; a bigger file only slows every email down. The team form
# limit (1 MB, newsletter/web/limits.py) leaves room for the rest of the form.
LOGO_MAX_BYTES = 500 * 1024

LABELS = {
    "organisation": "Organisation name",
    "masthead": "Masthead",
    "postal_address": "Postal address",
    "contact_email": "Contact email",
    "contact_phone": "Contact phone",
    "logo": "Logo",
    "logo_alt": "Logo text alternative",
    "text_colour": "Text colour",
    "background_colour": "Background colour",
    "page_colour": "Page colour",
    "accent_colour": "Button colour",
    "link_colour": "Link colour",
    "button_text_colour": "Button text colour",
    "muted_colour": "Small print colour",
    "footer_text": "Footer text",
    "privacy_url": "Privacy notice link",
}
COLOURS = ("text_colour", "background_colour", "page_colour", "accent_colour", "link_colour",
           "button_text_colour", "muted_colour")
# What each colour is behind, in the words of the contrast message ("Link colour on the background").
_GROUNDS = {"background_colour": "the background", "page_colour": "the page colour",
            "accent_colour": "the button colour"}
_COLOUR_HINTS = {
    "text_colour": "Words in the email and the footer.",
    "background_colour": "Behind the words of the issue.",
    "page_colour": "Around the issue, and behind the footer.",
    "accent_colour": "Buttons and the edge of notices.",
    "link_colour": "Links in the words.",
    "button_text_colour": "Words on buttons.",
    "muted_colour": "Captions and small print.",
}
# (field, most characters, a line or not)
_TEXTS = (
    ("organisation", 200, True), ("masthead", 200, True), ("postal_address", 300, True),
    ("contact_email", 254, True), ("contact_phone", 40, True), ("footer_text", 2000, False),
    ("privacy_url", 2000, True), ("logo_alt", 300, True),
)
_REQUIRED = {
    "organisation": "Enter the organisation's name: families see it at the foot of every email.",
    "masthead": "Enter the masthead: the line at the top of every email, such as 'News for SEND families'.",
    "postal_address": "Enter a postal address: every email must say where the sender can be reached by post.",
    "footer_text": "Enter the footer text: it tells families why they are getting the email.",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9 +()-]{6,40}$")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# Control characters other than line breaks; footer text may run over several lines.
_UPLOADED = re.compile(r"^/media/[0-9a-f]{20}\.(png|jpg|gif|webp)$")
_CONTROL_IN_TEXT = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _form_values(theme: Theme) -> dict[str, str]:
    values = {name: ("" if getattr(theme, name) is None else str(getattr(theme, name)))
              for name in EDITABLE_FIELDS if name != "logo"}
    values["logo_alt"] = theme.logo.alt if theme.logo else ""
    return values


def _ratio_words(ratio: float) -> str:
    """The ratio rounded down, so 4.48 is never shown as the 4.5 it fails to reach."""
    return f"{math.floor(ratio * 10) / 10:g} to 1"


def contrast_errors(values: dict[str, str]) -> dict[str, str]:
    """Each colour pair under 4.5 to 1, named and measured, against the foreground colour's field."""
    errors: dict[str, str] = {}
    for foreground, background, _used_for in THEME_PAIRS:
        if not (_HEX.match(values.get(foreground, "")) and _HEX.match(values.get(background, ""))):
            continue
        ratio = contrast_ratio(values[foreground], values[background])
        if ratio < MINIMUM_RATIO:
            message = (f"{LABELS[foreground]} on {_GROUNDS[background]}: {_ratio_words(ratio)}; "
                       f"it needs {MINIMUM_RATIO:g} to 1")
            errors[foreground] = f"{errors[foreground]}. {message}" if foreground in errors else message
    return errors


def _read_form(current: Theme) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """(what was typed, problems by field, the theme values it gives)."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, most, one_line in _TEXTS:
        raw = request.form.get(name, "")
        value = raw.strip() if one_line else raw.replace("\r\n", "\n").strip()
        values[name] = value
        if one_line and one_line_problem(value):
            errors[name] = f"{LABELS[name]} {one_line_problem(value)}."
        elif not one_line and _CONTROL_IN_TEXT.search(value):
            errors[name] = f"{LABELS[name]} must not contain tabs or other invisible control characters."
        elif len(value) > most:
            errors[name] = f"{LABELS[name]} must be {most} characters or fewer (it has {len(value)})."
        elif not value and name in _REQUIRED:
            errors[name] = _REQUIRED[name]
    if values["contact_email"] and "contact_email" not in errors and not _EMAIL.match(values["contact_email"]):
        errors["contact_email"] = "Enter the contact email as an address, such as localoffer@yourcouncil.gov.uk."
    if values["contact_phone"] and "contact_phone" not in errors and not _PHONE.match(values["contact_phone"]):
        errors["contact_phone"] = "Enter the phone number with digits and spaces only, such as 0300 123 4567."
    privacy = values["privacy_url"]
    if privacy and "privacy_url" not in errors and (
            not privacy.lower().startswith("https://") or any(c.isspace() for c in privacy)):
        errors["privacy_url"] = "Enter the privacy notice's full address, starting https://."
    for name in COLOURS:
        value = request.form.get(name, "").strip()
        values[name] = value[:20]
        if not _HEX.match(value):
            errors[name] = f"Enter the {LABELS[name].lower()} as # and six hexadecimal digits, such as #1d4f91."
    for name, message in contrast_errors(values).items():
        errors.setdefault(name, message)

    logo = current.logo
    upload = request.files.get("logo_file")
    # A logo uploaded with a form that came back for another mistake is carried by its stored name,
    # so it need not be chosen again; only a name this page could have stored is taken.
    carried = request.form.get("logo_uploaded", "")
    if request.form.get("logo_remove"):
        logo = None
    elif not (upload and upload.filename) and _UPLOADED.match(carried) and (
            pages.settings().media_dir / carried.rsplit("/", 1)[1]).is_file():
        values["logo_uploaded"] = carried
        logo = Logo(src=carried, alt=values["logo_alt"] or "x", width=current.logo.width if current.logo else 180)
    elif upload is not None and upload.filename:
        data = upload.read(LOGO_MAX_BYTES + 1)
        if len(data) > LOGO_MAX_BYTES:
            errors["logo"] = f"The logo must be under {LOGO_MAX_BYTES // 1024} KB. Save it smaller and upload it again."
        else:
            try:
                src = store_bytes(data, upload.filename, pages.settings().media_dir)
                values["logo_uploaded"] = src
                logo = Logo(src=src, alt=values["logo_alt"] or "x", width=current.logo.width if current.logo else 180)
            except MediaError as error:
                errors["logo"] = f"The logo was refused: {str(error).partition(': ')[2] or error}."
    if logo is not None and "logo_alt" not in errors:
        if not values["logo_alt"]:
            errors["logo_alt"] = ("Enter the logo's text alternative: what it says, usually the organisation's "
                                  "name, for people who cannot see it.")
        else:
            logo = logo.model_copy(update={"alt": values["logo_alt"]})

    theme_values: dict[str, Any] = {name: values[name] or None for name in ("contact_email", "contact_phone",
                                                                          "privacy_url")}
    theme_values.update({name: values[name] for name in ("organisation", "masthead", "postal_address",
                                                         "footer_text", *COLOURS)})
    theme_values["logo"] = logo.model_dump() if logo is not None else None
    return values, errors, theme_values


def _page(theme: Theme, values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    version, overrides = _stored()
    return pages.render_team(
        "theme.html.j2", title="Theme and footer", values=values, errors=errors, labels=LABELS,
        colours=COLOURS, colour_hints=_COLOUR_HINTS, logo=theme.logo, changed=sorted(overrides),
        placeholders=placeholder_findings(theme), logo_max_kb=LOGO_MAX_BYTES // 1024,
        has_errors=bool(errors),
    ), status


def _stored() -> tuple[int, dict[str, Any]]:
    return read_overrides(pages.settings().database_url)


@theme_page.route("/theme")
@approver_required
def theme() -> tuple[str, int]:
    current = pages.theme()
    return _page(current, _form_values(current), {})


@theme_page.route("/theme", methods=["POST"])
@approver_required
def save_theme() -> Any:
    current = pages.theme()
    values, errors, theme_values = _read_form(current)
    base: Theme = current_app.config["NEWSLETTER_THEME"]  # the file's theme, as the app read it
    if not errors:
        try:
            candidate = merge(base, theme_values)
        except ValidationError as error:
            # The checks above cover every rule of the model; this names the field if one is missed.
            for item in error.errors():
                name = str(item["loc"][0]) if item["loc"] else "organisation"
                errors.setdefault(name if name in LABELS else "organisation",
                                  f"{LABELS.get(name, 'This value')} is not something the theme can use.")
    if errors:
        return _page(current, values, errors, 400)
    # Only what differs from the file is kept: a later change to the file still shows where the page
    # left it alone.
    file_values = base.model_dump(mode="json")
    changed = {name: value for name, value in candidate.model_dump(mode="json").items()
               if name in EDITABLE_FIELDS and value != file_values.get(name)}
    _store(changed)
    flash("Saved the theme and footer. The next issue you preview, test or send uses them; "
          "campaigns already made keep the footer they were made with.")
    return redirect(url_for("theme_page.theme"))


@theme_page.route("/theme/reset", methods=["POST"])
@approver_required
def reset_theme() -> Any:
    _store({})
    flash("The theme and footer are back to the theme file's.")
    return redirect(url_for("theme_page.theme"))


def _store(overrides: dict[str, Any]) -> None:
    """Write the one row; the second of two first-ever saves at once finds the row made and updates it."""
    for attempt in (1, 2):
        try:
            with pages.session_scope() as session:
                row = session.get(ThemeSettings, 1, with_for_update=True)
                if row is None:
                    row = ThemeSettings(id=1, version=0)
                    session.add(row)
                row.overrides = json.dumps(overrides, sort_keys=True)
                row.version = (row.version or 0) + 1
                row.updated_at = utcnow()
                row.updated_by = current_user().name[:200]
            return
        except IntegrityError:
            if attempt == 2:
                raise


__all__ = ["theme_page", "contrast_errors", "LOGO_MAX_BYTES"]

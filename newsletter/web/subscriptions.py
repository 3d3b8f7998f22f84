"""Public pages for subscribers: sign up, confirm, one-click unsubscribe, the preference centre.

Thin views: they read the form, call the subscribers package through its API (subscribers/api.py:
signup, preferences, unsubscribe, erasure) and render a page. Pages that a personal link opens are
never cached or indexed. Every form carries the app-wide CSRF token (newsletter/web/csrf.py) except
the RFC 8058 one-click POST, which mail providers send with no cookies; the signed token in its
address is its protection.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.exceptions import NotFound

from newsletter.delivery.subscriber_mail import outgoing
from newsletter.delivery.transport import DeliveryError
from newsletter.tokens import BadToken
from newsletter.web.csrf import csrf_exempt
from newsletter.web.pages import render_page, session_scope, settings, theme
from newsletter.web.ratelimit import RateLimiter
from subscribers import api
from subscribers.api import ConsentSource, InvalidEmail, MailingList, Notice, Subscriber

log = logging.getLogger(__name__)

subscriptions = Blueprint("subscriptions", __name__)

HONEYPOT = "website"
RATE_LIMIT = 5
RATE_WINDOW_SECONDS = 600


@subscriptions.record_once
def _setup(state: Any) -> None:
    config = state.app.config
    state.app.extensions["subscribers.form_limiter"] = RateLimiter(
        config.get("SUBSCRIBE_RATE_LIMIT", RATE_LIMIT),
        config.get("SUBSCRIBE_RATE_WINDOW", RATE_WINDOW_SECONDS),
        **({"clock": config["SUBSCRIBE_RATE_CLOCK"]} if "SUBSCRIBE_RATE_CLOCK" in config else {}),
    )


def _page(template: str, status: int = 200, *, personal: bool = False, **context: Any) -> Response:
    noindex = {"noindex": True} if personal else {}
    body = render_page(f"subscribers/{template}", base_url=settings().base_url, **noindex, **context)
    response = Response(body, status=status, mimetype="text/html")
    if personal:
        response.headers["X-Robots-Tag"] = "noindex"
        response.cache_control.no_store = True
        response.cache_control.private = True
    return response


def _message(title: str, paragraphs: Sequence[str], status: int = 200, *, personal: bool = True,
             links_: Sequence[tuple[str, str]] = (), role: str | None = None) -> Response:
    return _page("message.html.j2", status, personal=personal, title=title, paragraphs=paragraphs,
                 links=links_, role=role)


def _send_after_commit(notice: Notice | None) -> Response | None:
    """Send the email once the decision is committed; a page if the mail server refused."""
    if notice is None:
        return None
    try:
        api.mail_notice(settings(), notice, outgoing(settings()), theme().organisation)
    except (DeliveryError, OSError) as error:
        # The reply code only: a server's refusal usually quotes the address, which no log line may hold.
        log.error("could not send %s email: %s", notice.kind.value,
                  error.code if isinstance(error, DeliveryError) else type(error).__name__)
        return _message(
            "Sorry, we could not send the email",
            ["Our email service did not answer. Please try again in a few minutes.",
             "If it keeps happening, contact us using the details at the bottom of this page."],
            503, personal=False,
        )
    return None


def _limited() -> Response | None:
    limiter: RateLimiter = current_app.extensions["subscribers.form_limiter"]
    if limiter.allow(request.remote_addr or "unknown"):
        return None
    response = _message(
        "Too many attempts",
        ["There have been too many attempts from your connection in the last few minutes.",
         "Please wait 10 minutes and try again."],
        429, personal=False,
    )
    response.headers["Retry-After"] = str(RATE_WINDOW_SECONDS)
    return response


def _bad_link(error: BadToken, *, kind: str) -> Response:
    paragraphs = [str(error)]
    if kind == "unsubscribe":
        paragraphs.append("You can still stop our emails: ask for a new link to your email choices below, "
                          "or reply to any of our emails and ask us to remove you.")
    else:
        paragraphs.append("You can ask for a new link and we will email it to you.")
    return _message("This link does not work", paragraphs, 400,
                    links_=[("/preferences", "Get a new link to your email choices")])


# --- subscribe ----------------------------------------------------------------------------------


def _form(lists: Sequence[MailingList], single: MailingList | None, *, values: dict[str, Any] | None = None,
          errors: list[tuple[str, str]] | None = None, status: int = 200) -> Response:
    return _page("subscribe.html.j2", status, lists=lists, single=single, values=values or {"lists": []},
                 errors=errors or [], statement=api.FORM_STATEMENT, honeypot=HONEYPOT)


def _public_list(slug: str) -> MailingList:
    with session_scope() as session:
        offered = api.public_lists(session)
    found = next((lst for lst in offered if lst.slug == slug), None)
    if found is None:
        raise NotFound()
    return found


@subscriptions.get("/subscribe")
def subscribe_form() -> Response:
    with session_scope() as session:
        lists = api.public_lists(session)
    return _form(lists, None)


@subscriptions.get("/subscribe/<slug>")
def subscribe_list_form(slug: str) -> Response:
    single = _public_list(slug)
    return _form([single], single)


@subscriptions.post("/subscribe")
@subscriptions.post("/subscribe/<slug>")
def subscribe(slug: str | None = None) -> Response:
    single = _public_list(slug) if slug else None
    with session_scope() as session:
        offered = [single] if single else api.public_lists(session)
    limited = _limited()
    if limited is not None:
        return limited
    email = request.form.get("email", "").strip()
    name = request.form.get("name", "").strip()
    chosen_ids = {value for value in request.form.getlist("lists") if value.isdigit()}
    chosen = [lst for lst in offered if str(lst.id) in chosen_ids] if not single else [single]
    values = {"email": email, "name": name, "lists": [lst.id for lst in chosen]}
    if request.form.get(HONEYPOT):
        # A person cannot see this field; a bot that fills every box gets the usual answer and nothing happens.
        return _check_email(email)
    errors: list[tuple[str, str]] = []
    if not email:
        errors.append(("email", "Enter your email address"))
    else:
        try:
            api.normalise_email(email)
        except InvalidEmail:
            errors.append(("email", "Enter an email address in the correct format, like name@example.com"))
    if len(name) > api.NAME_MAX:
        errors.append(("name", f"Your name must be {api.NAME_MAX} characters or fewer"))
    if not chosen:
        first = offered[0].id if offered else 0
        errors.append((f"list-{first}", "Choose at least one type of email"))
    if errors:
        return _form(offered, single, values=values, errors=errors, status=400)
    with session_scope() as session:
        lists = api.lists_by_id(session, [lst.id for lst in chosen])
        notice = api.request_subscription(session, settings(), email, name or None, lists)
    return _send_after_commit(notice) or _check_email(email)


def _check_email(email: str) -> Response:
    # The same page whatever we did: it must not tell a stranger whether this address was already here.
    return _page("check_email.html.j2", email=email)


@subscriptions.get("/subscribe/confirm/<token>")
def confirm_page(token: str) -> Response:
    try:
        api.read_token(settings(), api.CONFIRM, token, max_age=api.CONFIRM_MAX_AGE)
    except BadToken as error:
        return _bad_confirm(error)
    # Mail scanners open links: a GET only shows the button, so consent is a person's own click.
    return _page("confirm.html.j2", personal=True, action=f"/subscribe/confirm/{token}")


def _bad_confirm(error: BadToken) -> Response:
    return _message("This link does not work",
                    [str(error), ("Confirmation links work for 7 days. You can sign up again and we will send a "
                                 "new one.")], 400, links_=[("/subscribe", "Sign up again")])


@subscriptions.post("/subscribe/confirm/<token>")
def confirm(token: str) -> Response:
    try:
        with session_scope() as session:
            result = api.confirm_subscription(session, settings(), token)
            names = [lst.name for lst in result.lists]
            prefs = api.preferences_url(settings(), result.subscriber)
    except BadToken as error:
        return _bad_confirm(error)
    return _message(
        "You are subscribed",
        ["Thank you. You will get these emails:", *[f"• {name}" for name in names],
         "Every email has a link to change your choices or stop the emails."],
        links_=[(prefs, "Change your email choices")], role="status",
    )


# --- one-click unsubscribe -----------------------------------------------------------------------


@subscriptions.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    """Shows what will happen and one button. Never unsubscribes: link scanners fetch every URL."""
    try:
        with session_scope() as session:
            target = api.target_of(session, settings(), token)
            names = [lst.name for lst in target.lists]
            email = _masked(target.subscriber.email) if target.subscriber else None
    except BadToken as error:
        return _bad_link(error, kind="unsubscribe")
    if email is None:
        return _message("You are not on our lists", [("We no longer hold any details for this link, so we will "
                                                     "not email you.")])
    return _page("unsubscribe.html.j2", personal=True, action=f"/u/{token}", names=names, email=email)


@subscriptions.post("/u/<token>")
@csrf_exempt
def unsubscribe(token: str) -> Response:
    """RFC 8058: `List-Unsubscribe=One-Click` in the body (form-urlencoded or multipart) leaves at once."""
    if request.form.get("List-Unsubscribe") != "One-Click":
        return Response("The request must contain List-Unsubscribe=One-Click.\n", 400, mimetype="text/plain")
    from_page = request.form.get("from") == "page"
    source = ConsentSource.UNSUBSCRIBE_PAGE if from_page else ConsentSource.ONE_CLICK
    try:
        with session_scope() as session:
            api.unsubscribe_by_token(session, settings(), token, source)
            target = api.target_of(session, settings(), token)
            prefs = api.preferences_url(settings(), target.subscriber) if target.subscriber else None
            still_on = ([choice.mailing_list.name for choice in api.preference_choices(session, target.subscriber)
                         if choice.chosen] if target.subscriber and from_page else [])
    except BadToken as error:
        if from_page:
            return _bad_link(error, kind="unsubscribe")
        return Response(f"{error}\n", 400, mimetype="text/plain")
    if not from_page:
        # A mail provider, not a person: 200 and no page (RFC 8058 section 3.2).
        return Response("", 200, mimetype="text/plain")
    # Someone on several lists should not have to guess whether they will hear from us again.
    still = (f"You still get: {', '.join(still_on)}. You can stop those too on your email choices page." if still_on
             else "You are not on any of our other lists, so we will not email you again.")
    return _message(
        "You have unsubscribed",
        [("We will not send you those emails again. It can take a moment for any email already on its way to "
         "arrive."), still],
        links_=[(prefs, "Changed your mind? Change your email choices")] if prefs else [], role="status",
    )


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:2]}…@{domain}"


# --- preference centre ---------------------------------------------------------------------------


def _subscriber_for(session: Any, token: str) -> Subscriber | None:
    target = api.read_token(settings(), api.PREFERENCES, token, max_age=api.PREFERENCES_MAX_AGE)
    return api.subscriber_by_token_key(session, target.token_key)


def _gone() -> Response:
    return _message("We have no details for this link",
                    [("We no longer hold any details for this link. If you asked us to erase your details, "
                     "this is because we did."), "You will not get any more emails from us."], 404,
                    links_=[("/subscribe", "Sign up again")])


def _for_reader(handler: Callable[[Any, str, Subscriber], Response]) -> Callable[[str], Response]:
    """A preference-centre page for the reader its link names. Every such page answers a bad or old link,
    and a person whose details are gone, in the same words, so each page only says what it does."""
    @functools.wraps(handler)
    def answer(token: str) -> Response:
        try:
            with session_scope() as session:
                subscriber = _subscriber_for(session, token)
                if subscriber is None:
                    return _gone()
                return handler(session, token, subscriber)
        except BadToken as error:
            return _bad_link(error, kind="preferences")
    return answer


def _preferences_page(session: Any, token: str, subscriber: Subscriber, *, saved: bool = False,
                      name: str | None = None, name_shown: str | None = None,
                      errors: list[tuple[str, str]] | None = None, status: int = 200, **notices: Any) -> Response:
    return _page(
        "preferences.html.j2", status, personal=True, token=token, choices=api.preference_choices(session, subscriber),
        name=subscriber.name or "" if name is None else name, email=subscriber.email, saved=saved,
        name_shown=subscriber.name or "" if name_shown is None else name_shown,
        status_value=subscriber.status.value, errors=errors or [],
        **{"out_of_date": False, "changed_since_shown": [], "saved_changes": False, **notices},
    )


@subscriptions.get("/p/<token>")
@_for_reader
def preferences_page(session: Any, token: str, subscriber: Subscriber) -> Response:
    return _preferences_page(session, token, subscriber, saved=request.args.get("saved") == "1")


def _shown_on_form() -> dict[int, bool] | None:
    """{list id: ticked?} as the form was rendered, or None if the form does not say (an older page)."""
    shown: dict[int, bool] = {}
    for value in request.form.getlist("shown"):
        list_id, _, state = value.partition(":")
        if not list_id.isdigit() or state not in ("on", "off"):
            return None
        shown[int(list_id)] = state == "on"
    return shown if "name_shown" in request.form else None


@subscriptions.post("/p/<token>")
@_for_reader
def save_preferences(session: Any, token: str, subscriber: Subscriber) -> Response:
    chosen = [int(value) for value in request.form.getlist("lists") if value.isdigit()]
    name = request.form.get("name", "")
    shown = _shown_on_form()
    if shown is None:
        # Without what the page showed, a ticked box cannot be told from a choice: change nothing.
        return _preferences_page(session, token, subscriber, status=409, out_of_date=True)
    if len(name.strip()) > api.NAME_MAX:
        return _preferences_page(
            session, token, subscriber, name=name, name_shown=request.form["name_shown"], status=400,
            errors=[("name", f"Your name must be {api.NAME_MAX} characters or fewer")],
        )
    result = api.save_preferences(session, subscriber, chosen, name, shown=shown,
                                  name_shown=request.form["name_shown"])
    if result.changed_since_shown:
        return _preferences_page(
            session, token, subscriber, status=409, changed_since_shown=result.changed_since_shown,
            saved_changes=bool(result.joined or result.left or result.name_changed),
        )
    return redirect(f"/p/{token}?saved=1", 303)  # type: ignore[return-value]


@subscriptions.post("/p/<token>/leave")
@_for_reader
def leave_everything(session: Any, token: str, subscriber: Subscriber) -> Response:
    api.leave_everything(session, subscriber)
    return _message("You will not get any more emails",
                    ["You have unsubscribed from all our emails.",
                     "If you change your mind, you can choose emails again using the same link."],
                    links_=[(f"/p/{token}", "Back to your email choices")], role="status")


@subscriptions.get("/p/<token>/data.json")
@_for_reader
def download_data(session: Any, token: str, subscriber: Subscriber) -> Response:
    data = api.personal_data(session, subscriber)
    response = Response(json.dumps(data, indent=2, ensure_ascii=False) + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-email-details.json"'
    response.cache_control.no_store = True
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# What each line of the consent log and each status means, in the words of the person reading it.
_ACTIONS = {"subscribe": "Asked to join", "confirm": "Confirmed", "preferences": "Changed choices",
            "unsubscribe": "Unsubscribed", "erase": "Asked to be erased", "bounce": "Emails could not be delivered",
            "complaint": "Marked an email as spam", "purge": "Request not confirmed, removed"}
_SOURCES = {"form": "the sign-up form", "import": "a list the team imported", "admin": "the team",
            "one-click": "the unsubscribe button in your email app", "unsubscribe-page": "the unsubscribe page",
            "mailto": "an unsubscribe email", "preference-centre": "your email choices page",
            "bounce": "your mail server", "complaint": "your email provider", "system": "the service"}
_STATUSES = {"active": "You can get our emails", "unsubscribed": "You left all our emails",
             "bounced": "Our emails to you could not be delivered", "complained": "You marked an email as spam",
             "confirmed": "You get these emails", "unconfirmed": "Waiting for you to confirm"}


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@subscriptions.get("/p/<token>/data")
@_for_reader
def show_data(session: Any, token: str, subscriber: Subscriber) -> Response:
    """The same details as data.json, to read on the page (UK GDPR article 15: in a clear and plain form)."""
    data = api.personal_data(session, subscriber)
    subscriptions_ = [{**row, "since": _moment(row["since"]), "confirmed_at": _moment(row["confirmed_at"]),
                       "unsubscribed_at": _moment(row["unsubscribed_at"])} for row in data["subscriptions"]]
    history = [{**entry, "at": _moment(entry["at"]), "action": _ACTIONS.get(entry["action"], entry["action"]),
                "source": _SOURCES.get(entry["source"], entry["source"])} for entry in data["consent_log"]]
    return _page("my_data.html.j2", personal=True, token=token, data=data, subscriptions=subscriptions_,
                 history=history, statuses=_STATUSES, created=_moment(data["created_at"]))


@subscriptions.get("/p/<token>/erase")
@_for_reader
def erase_page(session: Any, token: str, subscriber: Subscriber) -> Response:
    return _page("erase.html.j2", personal=True, token=token)


@subscriptions.post("/p/<token>/erase")
@_for_reader
def erase(session: Any, token: str, subscriber: Subscriber) -> Response:
    api.erase(session, subscriber, ConsentSource.PREFERENCE_CENTRE)
    return _message(
        "Your details have been erased",
        ["We have deleted your email address, your name and your choices. You will not get any more emails.",
         ("We keep a coded record that cannot be turned back into your address, so that your address is not "
         "added back by mistake. If you sign up again yourself, we will welcome you back.")],
        links_=[("/subscribe", "Sign up again")], role="status",
    )


# --- a new link to the preference centre ---------------------------------------------------------


@subscriptions.get("/preferences")
def request_link_form() -> Response:
    return _page("request_link.html.j2", errors=[], values={}, honeypot=HONEYPOT)


@subscriptions.post("/preferences")
def request_link() -> Response:
    limited = _limited()
    if limited is not None:
        return limited
    email = request.form.get("email", "").strip()
    if request.form.get(HONEYPOT):
        return _link_sent(email)
    try:
        api.normalise_email(email)
    except InvalidEmail:
        message = "Enter your email address" if not email else \
            "Enter an email address in the correct format, like name@example.com"
        return _page("request_link.html.j2", 400, errors=[("email", message)], values={"email": email},
                     honeypot=HONEYPOT)
    # Off the request path: looking the address up and mailing it happen later, so the answer comes
    # just as fast for an address we do not know (the page says the same either way).
    api.request_preferences_link_later(settings(), email, outgoing(settings()))
    return _link_sent(email)


def _link_sent(email: str) -> Response:
    return _message("Check your email",
                    [f"If {email} is on our lists, we have sent it a link to your email choices.",
                     "The email should arrive in a few minutes. If it does not, check your spam or junk folder."],
                    personal=False, role="status")

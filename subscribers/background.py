"""Mail that a public form asks for, sent off the request path, so the answer takes the same time for any address.

"Email me a new link" (`/preferences`) must not tell a stranger which addresses are on our lists. Sending
inside the request did: a known address answered after an SMTP conversation, an unknown one at once. So
the request only hands the address over, and looking it up, deciding and sending all happen later, the
same way for every address: in a Celery task when `NEWSLETTER_REDIS_URL` is set (the send workers run
there already), otherwise in one thread of this process draining a queue (the embedded default).

A request lost in a crash costs one email the person can ask for again, never anything about who is
subscribed. Failures are logged without the address: readers' addresses stay out of the logs.
"""

from __future__ import annotations

import logging

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.later import Later
from subscribers import signup
from subscribers.mailer import Outgoing
from subscribers.notify import mail_notice

log = logging.getLogger(__name__)


def send_preferences_link(settings: Settings, email: str, outgoing: Outgoing) -> None:
    """Look the address up and mail its owner a fresh link; nothing happens for an address we do not know."""
    with session_scope(settings.database_url) as session:
        notice = signup.request_preferences_link(session, settings, email)
    if notice is not None:
        mail_notice(settings, notice, outgoing)


def send_preferences_link_logged(settings: Settings, email: str, outgoing: Outgoing) -> None:
    """The same, for a background worker: a failure is logged (without the address) and goes no further."""
    try:
        send_preferences_link(settings, email, outgoing)
    except outgoing.refusals as error:
        log.error("could not send a preferences-link email: %s", type(error).__name__)
    except Exception:
        log.exception("a preferences-link request failed")


def request_preferences_link_later(settings: Settings, email: str, outgoing: Outgoing) -> None:
    """Hand the request over and return at once, whether or not the address is known."""
    if outgoing.queue_preferences_link is not None:
        outgoing.queue_preferences_link(email)
    else:
        _local.put(send_preferences_link_logged, settings, email, outgoing)


_local = Later("subscriber-mail")
drain = _local.drain

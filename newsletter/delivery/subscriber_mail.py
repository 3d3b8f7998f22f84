"""The transport the subscribers package is handed for its own emails (confirm, already subscribed, your link).

The same transport as the newsletter's (SMTP, or the outbox folder on the embedded default). Where
workers run (`NEWSLETTER_REDIS_URL`), a "mail me a new link" request is queued for them as the
`subscribers.preferences_link` task (newsletter/delivery/tasks.py) instead of this process's thread.
"""

from __future__ import annotations

from newsletter.config import Settings
from newsletter.delivery.celery_app import producer
from newsletter.delivery.transport import DeliveryError, transport_for
from subscribers.api import Outgoing


def outgoing(settings: Settings) -> Outgoing:
    queue = None
    if settings.redis_url:
        def queue(email: str) -> None:
            producer(settings).send_task("subscribers.preferences_link", args=[email])

    return Outgoing(connect=transport_for, refusals=(DeliveryError, OSError), queue_preferences_link=queue)


__all__ = ["outgoing"]

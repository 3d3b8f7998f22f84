"""Celery tasks for subscriber mail: thin, the work is in subscribers/background.py.

The message carries only the address someone typed; the worker looks it up, so the web request that
queued it did the same work for a known address as for an unknown one.
"""

from __future__ import annotations

from newsletter.config import get_settings
from newsletter.delivery.celery_app import app
from subscribers.background import send_preferences_link_logged


@app.task(name="subscribers.preferences_link", acks_late=True, ignore_result=True)
def preferences_link(email: str) -> None:
    send_preferences_link_logged(get_settings(), email)

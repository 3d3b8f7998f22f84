"""The Celery entry point: `celery -A worker worker` (and `celery -A worker beat` once, for the tick)."""

from newsletter.delivery.celery_app import make_celery

app = make_celery()

__all__ = ["app"]

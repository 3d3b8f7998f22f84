"""Log lines an operator can use: one JSON object a line with `NEWSLETTER_LOG_FORMAT=json`.

Every process (the web app, `newsletter` commands, Celery workers and beat) logs through the root
logger; this module gives its handlers one formatter and one filter. The filter adds what the line
is about (the web request's id, the campaign and delivery being worked on, the Celery task) from
context variables, so a log search for one request or one campaign finds every line of it, whichever
module wrote them.

What never goes in a line at INFO or above: a reader's address or one of their tokens (a token is a
key to their preferences). Log ids, counts and SMTP reply codes instead; tests/test_logs.py sends a
campaign through the real path and scans every line for each reader's address and tokens.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
campaign_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("campaign_id", default=None)
delivery_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("delivery_id", default=None)

# An incoming X-Request-ID is kept only if it looks like one (a proxy's UUID or similar): anything else
# could be used to forge log lines or fill them with someone's data.
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_CONTEXT_FIELDS = ("request_id", "campaign_id", "delivery_id")
# Marks the handler this module installed, so configuring twice replaces it instead of doubling lines.
_OURS = "_newsletter_handler"


def well_formed_request_id(value: str | None) -> str | None:
    return value if value is not None and _WELL_FORMED_ID.fullmatch(value) else None


@contextmanager
def log_context(**values: int | str | None) -> Iterator[None]:
    """Lines written inside the block carry these ids (campaign_id, delivery_id, request_id)."""
    variables = {"request_id": request_id, "campaign_id": campaign_id, "delivery_id": delivery_id}
    tokens = [(variables[name], variables[name].set(value)) for name, value in values.items()]  # type: ignore[arg-type]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


class ContextFilter(logging.Filter):
    """Copies the context's ids onto each record (an id given with `extra=` wins) and the Celery task."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in (("request_id", request_id), ("campaign_id", campaign_id),
                               ("delivery_id", delivery_id)):
            if getattr(record, name, None) is None:
                setattr(record, name, variable.get())
        if not hasattr(record, "task_name"):
            task = _current_task()
            record.task_name, record.task_id = (task.name, task.request.id) if task is not None else (None, None)
        return True


def _current_task() -> Any:
    celery_state = sys.modules.get("celery._state")
    if celery_state is None:  # not a Celery process: do not import Celery for a web request's log line
        return None
    task = celery_state.get_current_task()
    return task if task is not None and getattr(task.request, "id", None) else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the ids that apply.

    Only these fields are written: `extra=` values other than the ids are left out, so a library that
    passes its arguments as extras (Celery passes a task's arguments) cannot put them in the line.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in (*_CONTEXT_FIELDS, "task_name", "task_id"):
            value = getattr(record, name, None)
            if value is not None:
                line[name.replace("task_name", "task")] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(log_format: str, level: str = "INFO") -> None:
    """Send the root logger's lines to standard error in `log_format` ("text" or "json"), once per process.

    For the web app and the commands. Celery configures its own handlers; `adopt_handlers` then
    gives them this format (newsletter/delivery/celery_app.py).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _OURS, True)
    handler.setFormatter(formatter_for(log_format))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)


def adopt_handlers(logger: logging.Logger, log_format: str) -> None:
    """Give handlers someone else set up (Celery's) the context filter and, for json, the JSON format."""
    for handler in logger.handlers:
        if not any(isinstance(existing, ContextFilter) for existing in handler.filters):
            handler.addFilter(ContextFilter())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())


__all__ = ["ContextFilter", "JsonFormatter", "adopt_handlers", "configure", "log_context",
           "well_formed_request_id"]

"""How this package's emails leave: through a transport it is handed, never one it picks itself.

subscribers/ knows nothing of SMTP, the outbox folder or Celery. Whoever runs it (the web app, the
command line, a send worker) hands over an `Outgoing`: how to open a transport for the settings,
which errors mean "the mail server did not take it", and, where workers run, how to queue a
"mail me a new link" request for them. `newsletter.delivery.subscriber_mail.outgoing` makes the
usual one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from newsletter.config import Settings


class Mailer(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> str:
        """Hand over one message; returns the server's acceptance reply, raises one of `refusals` if refused."""
        ...


@dataclass(frozen=True)
class Outgoing:
    connect: Callable[[Settings], Mailer]
    # What a refusing or unreachable mail server raises: logged as a failed send, not as a fault.
    refusals: tuple[type[BaseException], ...] = (OSError,)
    # Set where send workers run: hands an address to them instead of this process's own mail thread.
    queue_preferences_link: Callable[[str], None] | None = None


__all__ = ["Mailer", "Outgoing"]

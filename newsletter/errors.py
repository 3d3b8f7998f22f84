"""The one base for every error the service reports to a person as a sentence.

An error deriving from `NewsletterError` carries a message written for whoever reads it: a council
officer at the terminal or in the composer, a reviewer, a family on a public page. The command line
prints it as `Error: <message>` instead of a traceback (newsletter/cli/__init__.py), so a new error
type needs no change there. Errors that only steer the code (a mail server's temporary refusal, the
rate limiter being out of reach) are not `NewsletterError`s: no person reads their message.

This module imports nothing, so any package (subscribers/ included) may use it.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Something a person asked for could not be done; the message says why, and what to do instead."""


class NotAllowed(NewsletterError):
    """A person asked for something the rules forbid: approving their own issue, re-adding someone who left."""


__all__ = ["NewsletterError", "NotAllowed"]

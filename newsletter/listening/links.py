"""The feedback and poll links in an issue: signed, and the same in every reader's copy.

A link carries the issue's slug and the answer (for a poll, the block's position and the choice),
signed with NEWSLETTER_SECRET_KEY so nobody can make links for other issues, polls or answers, and
without a time in it (`tokens.sign_stable`), so every rendering gives the same address: nothing in
it can tell one reader from another.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.config import Settings
from newsletter.listening.models import Usefulness
from newsletter.tokens import BadToken, sign_stable, unsign_stable

FEEDBACK_PURPOSE = "feedback-link"
POLL_PURPOSE = "poll-link"
OTHER = "other"


@dataclass(frozen=True)
class FeedbackLink:
    slug: str
    answer: Usefulness


@dataclass(frozen=True)
class PollLink:
    slug: str
    # The poll block's position in the issue (from 0); a sent issue's blocks no longer move.
    index: int
    # The answer's position (from 0), or None for "something else".
    choice: int | None


def feedback_url(settings: Settings, slug: str, answer: Usefulness) -> str:
    token = sign_stable(FEEDBACK_PURPOSE, [slug, answer.value], secret=settings.secret_key)
    return f"{settings.base_url}/answer/feedback/{token}"


def poll_url(settings: Settings, slug: str, index: int, choice: int | None) -> str:
    token = sign_stable(POLL_PURPOSE, [slug, index, OTHER if choice is None else choice], secret=settings.secret_key)
    return f"{settings.base_url}/answer/poll/{token}"


def read_feedback(settings: Settings, token: str) -> FeedbackLink:
    """What a feedback link says, or BadToken for one that was changed or made for something else."""
    payload = unsign_stable(FEEDBACK_PURPOSE, token, secret=settings.secret_key)
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)
            and payload[1] in {member.value for member in Usefulness}):
        raise BadToken("This link is not valid. It may have been copied incompletely.")
    return FeedbackLink(payload[0], Usefulness(payload[1]))


def read_poll(settings: Settings, token: str) -> PollLink:
    """What a poll link says, or BadToken for one that was changed or made for something else."""
    payload = unsign_stable(POLL_PURPOSE, token, secret=settings.secret_key)
    if not (isinstance(payload, list) and len(payload) == 3 and isinstance(payload[0], str)
            and type(payload[1]) is int and (payload[2] == OTHER or type(payload[2]) is int)):
        raise BadToken("This link is not valid. It may have been copied incompletely.")
    return PollLink(payload[0], payload[1], None if payload[2] == OTHER else payload[2])

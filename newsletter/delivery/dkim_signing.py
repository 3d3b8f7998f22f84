"""Optional DKIM signing (RSA-SHA256) with dkimpy, when NEWSLETTER_DKIM_KEY_FILE is set.

The signed headers are named explicitly: dkimpy's default list may leave out List-Unsubscribe and
List-Unsubscribe-Post, and a bulk sender's one-click unsubscribe must be covered by the signature.
Signing costs an RSA operation per message (see docs/performance.md), so it is off unless configured.
"""

from __future__ import annotations

from pathlib import Path

import dkim

from newsletter.config import Settings, SettingsError

SIGNED_HEADERS = [
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type",
    b"List-Id", b"List-Unsubscribe", b"List-Unsubscribe-Post", b"Feedback-ID",
]


class DkimSigner:
    def __init__(self, private_key: bytes, selector: str, domain: str) -> None:
        self.private_key = private_key
        self.selector = selector.encode()
        self.domain = domain.encode()

    def sign(self, message: bytes) -> bytes:
        header = dkim.sign(
            message,
            self.selector,
            self.domain,
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=SIGNED_HEADERS,
            linesep=b"\r\n",
        )
        return header + message


def signer_for(settings: Settings) -> DkimSigner | None:
    if settings.dkim_key_file is None:
        return None
    path = Path(settings.dkim_key_file)
    try:
        key = path.read_bytes()
    except OSError as error:
        raise SettingsError(f"setting NEWSLETTER_DKIM_KEY_FILE is invalid: {error}") from None
    if b"PRIVATE KEY" not in key:
        raise SettingsError("setting NEWSLETTER_DKIM_KEY_FILE is invalid: not a PEM private key")
    return DkimSigner(key, settings.dkim_selector, settings.sender_domain)

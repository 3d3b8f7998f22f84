"""MIME messages for one reader: multipart/alternative, text first, quoted-printable, CRLF.

This is the straightforward builder (the email package does the encoding). It is what test sends
and the checks use; the bulk path pre-encodes the parts once per issue.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from newsletter.headersafe import check_header
from newsletter.render.pipeline import RenderedIssue

# SMTP policy: CRLF line ends and lines folded to RFC 5322 limits; smtplib sends bytes as they are.
SMTP_POLICY = policy.SMTP.clone(max_line_length=78)


def build_message(
    rendered: RenderedIssue,
    *,
    subject: str,
    from_address: str,
    to: str | Address,
    language: str,
    personal: dict[str, str],
    domain: str,
) -> bytes:
    # The email package refuses CR and LF itself but fails later, and less clearly, on U+2028 and the like.
    check_header("the From address", from_address)
    check_header("the subject", subject)
    check_header("the language", language)
    if isinstance(to, Address):
        check_header("the reader's name", to.display_name)
        check_header("the reader's address", to.addr_spec)
    else:
        check_header("the reader's address", to)
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Content-Language"] = language
    # quoted-printable: MJML writes lines of 50,000 characters and no line may pass 998.
    message.set_content(rendered.text.fill(personal), subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html.fill(personal), subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=SMTP_POLICY)

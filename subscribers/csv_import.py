"""Importing subscribers from a CSV file the team exported from a spreadsheet or another system.

How it behaves, and why:
- **Two passes over the file.** The first only decodes and parses it (about a second for 100,000
  rows) and checks the header, so a file with a broken encoding, no email column or a CSV syntax
  error is refused whole, with the line number, before a single row is stored. The second pass
  imports in batches of `BATCH` rows, one transaction each, so memory stays flat whatever the size
  of the file and the web app is never locked out for long.
- **Idempotent.** Every row is an upsert keyed by the normalised address; importing the same file
  again changes nothing and writes no new consent lines. If an import is interrupted, run it again.
- **Consent.** Rows are marked confirmed only when `consent` states where consent came from (it is
  logged as the wording). Without it they are stored unconfirmed and never mailed an issue.
- **Never brings anyone back.** An address on the suppression list (bounced, complained, erased),
  a person who unsubscribed from everything, or from this list, is skipped and reported; also when
  they leave or are erased while the import runs (see `_Batch`: each batch decides under locks).
- **Bad rows** are reported with their line number and reason, in the summary and in a problems
  CSV with the original columns plus `import_line` and `import_problem`, so an officer can fix that
  file and import it as it is.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from subscribers import csvsafe
from subscribers.bulk_sql import (
    BulkValues,
    insert_rows,
    insert_rows_ignoring_conflicts,
    is_postgresql,
    one_of,
    take_sqlite_write_lock,
)
from subscribers.emails import email_hash, normalise_email
from subscribers.errors import ImportRefused, InvalidEmail
from subscribers.links import new_token_key
from subscribers.models import (
    ConsentAction,
    ConsentSource,
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from subscribers.store import NAME_MAX, clean_name

BATCH = 5000
ATTRIBUTE_MAX = 1000

TARGETS = ("email", "name", "first_name", "last_name", "ignore")
# Header spellings we recognise, compared with case, spaces, hyphens and underscores removed.
_SYNONYMS = {
    "email": "email", "emailaddress": "email", "mail": "email", "emailid": "email", "contactemail": "email",
    "parentemail": "email", "parentcarersemail": "email",
    "name": "name", "fullname": "name", "contactname": "name", "parentname": "name", "displayname": "name",
    "firstname": "first_name", "forename": "first_name", "givenname": "first_name",
    "lastname": "last_name", "surname": "last_name", "familyname": "last_name",
}
# Columns our own export and problems file write, which must not turn into attributes on re-import.
_IGNORED = {
    "status", "subscriptionstatus", "subscriberstatus", "subscribedat", "confirmedat", "unsubscribedat",
    "createdat", "updatedat", "importline", "importproblem", "list",
}

UNCONFIRMED_WORDING = (
    "Imported by the team with no consent source stated: stored unconfirmed and not mailed until confirmed."
)

_SKIP_REASONS = {
    SuppressionReason.ERASED: "this person asked for their details to be erased; only they can sign up again, "
                              "using the subscribe form",
    SuppressionReason.HARD_BOUNCE: "email to this address bounced, so it is on the suppression list",
    SuppressionReason.COMPLAINT: "this person reported our email as spam, so they are on the suppression list",
    SuppressionReason.MANUAL: "this address is on the suppression list",
}
_STATUS_REASONS = {
    SubscriberStatus.UNSUBSCRIBED: "this person unsubscribed from all our emails; only they can sign up again",
    SubscriberStatus.BOUNCED: "email to this address bounced; it is not added back",
    SubscriberStatus.COMPLAINED: "this person reported our email as spam; they are not added back",
}


def _key(header: str) -> str:
    return re.sub(r"[\s_\-'’.]+", "", header.strip().lower())


@dataclass
class ImportReport:
    rows: int = 0
    new_subscribers: int = 0
    added: int = 0
    confirmed: int = 0
    unchanged: int = 0
    updated: int = 0
    not_added_back: int = 0
    duplicates: int = 0
    invalid: int = 0
    problems_file: Path | None = None
    first_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return self.not_added_back + self.duplicates + self.invalid

    def lines(self) -> list[str]:
        out = [
            f"Read {self.rows:,} rows.",
            f"  {self.added:,} added to the list ({self.new_subscribers:,} of them new subscribers)",
            f"  {self.confirmed:,} already waiting on the list, now confirmed",
            f"  {self.unchanged:,} already on the list, unchanged ({self.updated:,} had their name or details updated)",
            f"  {self.not_added_back:,} not added back because they left, bounced or asked to be erased",
            f"  {self.duplicates:,} repeated an address from an earlier row",
            f"  {self.invalid:,} had a problem and were not imported",
        ]
        if self.problems_file is not None:
            out.append(f"Rows not imported, with their line number and reason: {self.problems_file}")
            out.extend(f"  {line}" for line in self.first_problems)
            if self.problems > len(self.first_problems):
                out.append(f"  ... and {self.problems - len(self.first_problems):,} more in the file")
        return out


@dataclass(frozen=True)
class ColumnPlan:
    header: list[str]
    email: int
    name: int | None
    first_name: int | None
    last_name: int | None
    attributes: list[tuple[int, str]]


def _plan(header: list[str], mapping: dict[str, str]) -> ColumnPlan:
    unknown_targets = {target for target in mapping.values() if target not in TARGETS}
    if unknown_targets:
        raise ImportRefused(
            f"--map can send a column to {', '.join(TARGETS)}, not {', '.join(sorted(unknown_targets))}"
        )
    names = [csvsafe.unprotect(column.strip()) for column in header]  # headings we exported come back as typed
    missing = [column for column in mapping if column.strip() not in names]
    if missing:
        raise ImportRefused(
            f"--map names a column the file does not have: {', '.join(missing)}. "
            f"The columns are: {', '.join(n for n in names if n)}"
        )
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name and name.lower() in seen:
            raise ImportRefused(f"the column {name!r} appears twice in the header (columns {seen[name.lower()] + 1} "
                                f"and {index + 1}); rename or remove one")
        seen[name.lower()] = index
    explicit = {column.strip(): target for column, target in mapping.items()}
    roles: dict[str, list[int]] = {target: [] for target in TARGETS}
    attributes: list[tuple[int, str]] = []
    for index, name in enumerate(names):
        if not name:
            continue
        role = explicit.get(name) or _SYNONYMS.get(_key(name))
        if role is None and _key(name) in _IGNORED:
            role = "ignore"
        if role is None:
            attributes.append((index, name))
        else:
            roles[role].append(index)
    for role in ("email", "name", "first_name", "last_name"):
        if len(roles[role]) > 1:
            columns = " and ".join(repr(names[i]) for i in roles[role])
            raise ImportRefused(
                f"both {columns} look like the {role.replace('_', ' ')} column; keep one with "
                f"--map '{names[roles[role][1]]}=ignore'"
            )
    if not roles["email"]:
        shown = ", ".join(repr(n) for n in names if n) or "none"
        raise ImportRefused(
            f"the file has no email column. Its columns are: {shown}. Name the email column in the first row "
            "(for example \"email\"), or say which column it is with --map 'COLUMN=email'. Nothing was imported."
        )

    def one(role: str) -> int | None:
        return roles[role][0] if roles[role] else None

    return ColumnPlan(names, roles["email"][0], one("name"), one("first_name"), one("last_name"), attributes)


class _Semicolons(csv.excel):
    delimiter = ";"


class _Tabs(csv.excel):
    delimiter = "\t"


def _sniff(sample: str) -> type[csv.Dialect]:
    """Excel's dialect with the header line's delimiter: commas, or semicolons (Excel in many European
    locales) or tabs. csv.Sniffer is not used: from a header alone it guesses quoting rules wrongly."""
    header = sample.split("\n", 1)[0]
    counts = {",": header.count(","), ";": header.count(";"), "\t": header.count("\t")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ","))
    return {";": _Semicolons, "\t": _Tabs}.get(delimiter, csv.excel) if counts[delimiter] else csv.excel


def _encoding_name(encoding: str) -> str:
    # Excel writes UTF-8 with a byte-order mark; utf-8-sig reads files with or without one.
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def _check_bytes(path: Path, encoding: str) -> None:
    """Refuse, before anything is stored, a file that is not text in the expected encoding."""
    with path.open("rb") as raw:
        start = raw.read(8)
        if not start:
            raise ImportRefused(f"{path.name} is empty: there is nothing to import")
        if start.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise ImportRefused(
                f"{path.name} is an Excel workbook, not a CSV file. In Excel choose File > Save As > "
                "\"CSV UTF-8 (comma delimited)\" and import that file. Nothing was imported."
            )
        raw.seek(0)
        decoder = codecs.getincrementaldecoder(_encoding_name(encoding))("strict")
        line = 1
        while True:
            chunk = raw.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                where = line + chunk.count(b"\n", 0, max(error.start, 0))
                hint = (
                    " If it came from Excel, save it again as \"CSV UTF-8 (comma delimited)\", or import it with "
                    "--encoding cp1252 (the usual Windows encoding)."
                    if _encoding_name(encoding) == "utf-8-sig" else ""
                )
                raise ImportRefused(
                    f"{path.name} is not valid {encoding} text: line {where} has a byte "
                    f"(0x{chunk[error.start]:02X}) that is not {encoding}. Nothing was imported.{hint}"
                ) from None
            if not chunk:
                return
            line += chunk.count(b"\n")


def _open(path: Path, encoding: str) -> TextIO:
    return path.open("r", encoding=_encoding_name(encoding), newline="")


def _records(handle: TextIO) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) for every record, however many lines a quoted field spans."""
    sample = handle.read(64 * 1024)
    handle.seek(0)
    # Strict: a quote left open to the end of the file, or closed in the middle of a value, is an error
    # (Python's default reads both silently, and the rows after an open quote vanish into one value).
    reader = csv.reader(handle, _sniff(sample), strict=True)
    previous = 0
    try:
        for fields in reader:
            if reader.line_num - previous > 1:
                _refuse_swallowed_rows(previous + 1, reader.line_num, fields, reader.dialect.delimiter)
            yield previous + 1, fields
            previous = reader.line_num
    except csv.Error as error:
        raise ImportRefused(
            f"line {previous + 1} cannot be read as CSV ({error}). Nothing was imported. "
            "Check for an unclosed quotation mark."
        ) from None


def _refuse_swallowed_rows(first: int, last: int, fields: list[str], delimiter: str) -> None:
    """A value may run over several lines (an address, a note), but not over what looks like another row.

    A quotation mark left open on one line, and closed by one on a later line, makes every row between
    part of one value: the file reads, but people vanish into someone's name. A later line of a value
    holding both the delimiter and an email address is taken to be such a row.
    """
    for value in fields:
        if "\n" not in value and "\r" not in value:
            continue
        if any(delimiter in text and "@" in text for text in value.splitlines()[1:]):
            swallowed = f"line {last}" if last == first + 1 else f"lines {first + 1} to {last}"
            raise ImportRefused(
                f"line {first} has a quotation mark that is not closed until line {last}, so {swallowed} would be "
                f"read as part of one value instead of as rows. Check for an unclosed quotation mark on line "
                f"{first}. Nothing was imported."
            )


def inspect(path: Path, encoding: str = "utf-8", mapping: dict[str, str] | None = None) -> tuple[ColumnPlan, int]:
    """The first pass: check the whole file reads, and plan the columns; returns (plan, data rows)."""
    if not path.is_file():
        raise ImportRefused(f"there is no file at {path}")
    _check_bytes(path, encoding)
    with _open(path, encoding) as handle:
        records = _records(handle)
        first = next(records, None)
        if first is None or not any(cell.strip() for cell in first[1]):
            raise ImportRefused(f"{path.name} has no header row; the first line must name the columns")
        plan = _plan(first[1], mapping or {})
        rows = sum(1 for _ in records)
    return plan, rows


@dataclass
class _Row:
    line: int
    fields: list[str]
    email: str
    name: str | None
    attributes: dict[str, str]


class _Problems:
    """The problems CSV, created on the first problem and written as the import goes."""

    def __init__(self, path: Path, header: list[str], report: ImportReport, stack: ExitStack):
        self.path, self.header, self.report, self.stack = path, header, report, stack
        self.writer: Any = None

    def add(self, line: int, fields: list[str], reason: str) -> None:
        if self.writer is None:
            handle = self.stack.enter_context(self.path.open("w", encoding="utf-8-sig", newline=""))
            self.writer = csv.writer(handle)
            headings = [csvsafe.protect(heading) for heading in self.header]
            self.writer.writerow([*headings, "import_line", "import_problem"])
            self.report.problems_file = self.path
        # Exactly the header's columns, so the file can be fixed and imported as it is; extra values are in the reason.
        padded = (fields + [""] * len(self.header))[: len(self.header)]
        self.writer.writerow([csvsafe.protect(value) for value in padded] + [str(line), reason])
        if len(self.report.first_problems) < 10:
            self.report.first_problems.append(f"line {line}: {reason}")


def _parse(line: int, fields: list[str], plan: ColumnPlan) -> _Row:
    """One record to a row, or InvalidEmail/ValueError with the reason for the problems file."""
    width = len(plan.header)
    if len(fields) > width and any(value.strip() for value in fields[width:]):
        extra = ", ".join(repr(value) for value in fields[width:])
        raise ValueError(f"the row has {len(fields)} values but the header has {width} columns (extra: {extra})")

    def cell(index: int | None) -> str:
        if index is None or index >= len(fields):
            return ""
        return csvsafe.unprotect(fields[index].strip())

    email = normalise_email(cell(plan.email))
    name = cell(plan.name) or " ".join(part for part in (cell(plan.first_name), cell(plan.last_name)) if part)
    if len(name) > NAME_MAX:
        raise ValueError(f"the name is longer than {NAME_MAX} characters")
    attributes: dict[str, str] = {}
    for index, key in plan.attributes:
        value = cell(index)
        if value:
            if len(value) > ATTRIBUTE_MAX:
                raise ValueError(f"the value in column {key!r} is longer than {ATTRIBUTE_MAX} characters")
            attributes[key] = value
    return _Row(line, fields, email, clean_name(name), attributes)


# Rounds of "read, decide, write conditionally" for a batch's subscriptions. Under the batch's locks the
# first round's writes all succeed; a later round is needed only if a row changed without the person's lock.
_ROUNDS = 3


@dataclass
class _Outcome:
    """What happened to one row of the file on the import's lists."""

    subscriber_id: int
    done: list[int] = field(default_factory=list)  # lists this import joined or confirmed (one consent line each)
    added: bool = False  # at least one of them is a new subscription, not a confirmation
    left: list[str] = field(default_factory=list)  # why a list was not touched: they left it
    seen_in_this_run: int = 0
    failed: bool = False  # still changing under us after every round: reported as a problem


class _Batch:
    """One transaction's worth of rows: a handful of set-based queries, whatever the batch size.

    Decided and written under locks, so an unsubscribe, an erasure or a second import of the same file
    arriving mid-batch waits for this batch, or this batch for it, and never works from what the other is
    about to change: on PostgreSQL the batch's stored subscribers are locked (in id order, so two imports
    cannot deadlock) before anything about them is read; on SQLite the batch takes the database's write
    lock first. Every write is conditional as well (insert unless there, confirm only what is still
    unconfirmed) and the consent lines are written from what the writes returned, never from the read.
    """

    def __init__(self, session: Session, lists: list[MailingList], consent: str | None, source_name: str,
                 started: datetime, report: ImportReport, problems: _Problems):
        self.session, self.lists, self.consent = session, lists, consent
        self.source_name, self.started, self.report, self.problems = source_name, started, report, problems

    def run(self, rows: list[_Row]) -> None:
        session, report = self.session, self.report
        first_line: dict[str, int] = {}
        unique: list[_Row] = []
        for row in rows:
            if row.email in first_line:
                report.duplicates += 1
                self.problems.add(row.line, row.fields, f"same address as line {first_line[row.email]} (skipped)")
                continue
            first_line[row.email] = row.line
            unique.append(row)
        if not unique:
            return

        take_sqlite_write_lock(session)
        hashes = {row.email: email_hash(row.email) for row in unique}
        stored = self._lock_stored([row.email for row in unique])
        # Read after the lock: an erasure that finished before it is seen here; one that had not is waiting.
        query = select(Suppression.email_hash, Suppression.reason).where(
            one_of(session, Suppression.email_hash, list(hashes.values())))
        suppressed: dict[str, SuppressionReason] = {row[0]: row[1] for row in session.execute(query)}
        keep = self._may_add(unique, hashes, suppressed, stored)

        now = utcnow()
        values = BulkValues(session, now)
        # In address order, so two imports inserting the same new people wait for each other, never in a circle.
        new_rows = sorted((row for row in keep if row.email not in stored), key=lambda row: row.email)
        inserted = {email: subscriber_id for subscriber_id, email in insert_rows_ignoring_conflicts(
            session, "subscribers", [
                {"email": row.email, "email_hash": hashes[row.email], "name": row.name,
                 "attributes": values.json(row.attributes), "status": SubscriberStatus.ACTIVE.value,
                 "token_key": new_token_key(), "created_at": values.now, "updated_at": values.now}
                for row in new_rows
            ], ("id", "email"))}
        report.new_subscribers += len(inserted)
        late = [row for row in new_rows if row.email not in inserted]
        if late:
            # Stored by someone else (the form) since our read: judged like anyone already stored.
            late_stored = self._lock_stored([row.email for row in late])
            stored.update(late_stored)
            allowed_late = {row.email for row in self._may_add(
                [row for row in late if row.email in late_stored], hashes, suppressed, late_stored)}
            for row in late:
                if row.email not in late_stored:
                    self._invalid(row, "the address changed while importing; import the file again")
            keep = [row for row in keep if row.email in inserted or row.email in allowed_late
                    or (row.email in stored and row.email not in late_stored)]

        changes = []
        for row in keep:
            found = stored.get(row.email)
            if found is None:
                continue
            name = row.name or found.name
            attributes = {**(found.attributes or {}), **row.attributes}
            if name != found.name or attributes != (found.attributes or {}):
                changes.append({"id": found.id, "name": name, "attributes": attributes, "updated_at": now})
        if changes:
            session.execute(update(Subscriber), changes)
        report.updated += len(changes)

        ids = {email: found.id for email, found in stored.items()} | inserted
        outcomes = {row.email: _Outcome(ids[row.email]) for row in keep}
        self._subscribe_all(keep, outcomes, now)

        action = ConsentAction.CONFIRM if self.consent else ConsentAction.SUBSCRIBE
        wording = self.consent or UNCONFIRMED_WORDING
        log: list[dict[str, Any]] = []
        for row in keep:
            outcome = outcomes[row.email]
            for list_id in outcome.done:  # every change made gets its line, even on a row reported as a problem
                log.append({"subscriber_id": outcome.subscriber_id, "list_id": list_id, "action": action.value,
                            "source": ConsentSource.IMPORT.value, "wording": wording, "at": values.now,
                            "detail": values.json({"file": self.source_name, "line": row.line})})
            self._count(row, outcome)
        if log:
            insert_rows(session, "consent_log", log)

    def _lock_stored(self, emails: list[str]) -> dict[str, Any]:
        """The stored subscribers among `emails`, read afresh and locked until the batch commits."""
        query = (select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.attributes, Subscriber.status)
                 .where(one_of(self.session, Subscriber.email, emails)).order_by(Subscriber.id))
        if is_postgresql(self.session):
            query = query.with_for_update(key_share=True)
        return {found.email: found for found in self.session.execute(query)}

    def _may_add(self, rows: list[_Row], hashes: dict[str, str], suppressed: dict[str, SuppressionReason],
                 stored: dict[str, Any]) -> list[_Row]:
        """The rows that may be imported; the others are reported: suppressed, or left, bounced, complained."""
        keep: list[_Row] = []
        for row in rows:
            reason = suppressed.get(hashes[row.email])
            found = stored.get(row.email)
            if reason is not None:
                self._not_added(row, _SKIP_REASONS[reason])
            elif found is not None and found.status is not SubscriberStatus.ACTIVE:
                self._not_added(row, _STATUS_REASONS[found.status])
            else:
                keep.append(row)
        return keep

    def _subscribe_all(self, rows: list[_Row], outcomes: dict[str, _Outcome], now: datetime) -> None:
        """Join or confirm each row on each list: read, decide, write conditionally, and decide again for any
        write whose condition no longer held (the row changed between our read and our write)."""
        session = self.session
        values = BulkValues(session, now)
        status = SubscriptionStatus.CONFIRMED if self.consent else SubscriptionStatus.UNCONFIRMED
        list_ids = [lst.id for lst in self.lists]
        todo = [(row, lst) for row in rows for lst in self.lists]
        for attempt in range(_ROUNDS):
            if not todo:
                return
            people = list({outcomes[row.email].subscriber_id for row, _ in todo})
            query = select(Subscription.subscriber_id, Subscription.list_id, Subscription.status,
                           Subscription.created_at, Subscription.unsubscribed_at).where(
                one_of(session, Subscription.subscriber_id, people), Subscription.list_id.in_(list_ids))
            current = {(r.subscriber_id, r.list_id): r for r in session.execute(query)}
            inserts: list[dict[str, Any]] = []
            confirms: dict[int, list[int]] = {}
            tried: list[tuple[_Row, MailingList]] = []
            for row, lst in todo:
                outcome = outcomes[row.email]
                found = current.get((outcome.subscriber_id, lst.id))
                if found is None:
                    inserts.append({"subscriber_id": outcome.subscriber_id, "list_id": lst.id, "status": status.value,
                                    "created_at": values.now, "updated_at": values.now,
                                    "confirmed_at": values.now if self.consent else None})
                    tried.append((row, lst))
                elif found.status is SubscriptionStatus.UNSUBSCRIBED:
                    when = found.unsubscribed_at.date().isoformat() if found.unsubscribed_at else "an earlier date"
                    outcome.left.append(
                        f"this person unsubscribed from {lst.name!r} on {when}; they are not added back")
                elif found.status is SubscriptionStatus.UNCONFIRMED and self.consent:
                    confirms.setdefault(lst.id, []).append(outcome.subscriber_id)
                    tried.append((row, lst))
                elif attempt == 0 and found.created_at >= self.started:
                    outcome.seen_in_this_run += 1
            added = {(r[0], r[1]) for r in insert_rows_ignoring_conflicts(
                session, "subscriptions", inserts, ("subscriber_id", "list_id"))}
            confirmed: set[tuple[int, int]] = set()
            for list_id, subscriber_ids in confirms.items():
                confirmed.update((subscriber_id, list_id) for subscriber_id in session.scalars(
                    update(Subscription)
                    .where(Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.UNCONFIRMED,
                           one_of(session, Subscription.subscriber_id, subscriber_ids))
                    .values(status=SubscriptionStatus.CONFIRMED, confirmed_at=now, updated_at=now)
                    .returning(Subscription.subscriber_id).execution_options(synchronize_session=False)))
            todo = []
            for row, lst in tried:
                outcome = outcomes[row.email]
                key = (outcome.subscriber_id, lst.id)
                if key in added or key in confirmed:
                    outcome.done.append(lst.id)
                    outcome.added = outcome.added or key in added
                else:
                    todo.append((row, lst))
        for row, _ in todo:
            if not outcomes[row.email].failed:
                outcomes[row.email].failed = True
                self._invalid(row, "the person's subscriptions changed while importing; import the file again")

    def _count(self, row: _Row, outcome: _Outcome) -> None:
        if outcome.failed:
            return
        if outcome.left:
            self._not_added(row, "; ".join(outcome.left))
            if not outcome.done:
                return
        if outcome.done:
            self.report.added += 1 if outcome.added else 0
            self.report.confirmed += 0 if outcome.added else 1
        elif outcome.seen_in_this_run and outcome.seen_in_this_run == len(self.lists):
            self.report.duplicates += 1
            self.problems.add(row.line, row.fields, "same address as an earlier row in this file (skipped)")
        else:
            self.report.unchanged += 1

    def _not_added(self, row: _Row, reason: str) -> None:
        self.report.not_added_back += 1
        self.problems.add(row.line, row.fields, reason)

    def _invalid(self, row: _Row, reason: str) -> None:
        self.report.invalid += 1
        self.problems.add(row.line, row.fields, reason)


def problems_path_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}-problems.csv")


def read_problems(path: Path, limit: int | None = None) -> list[tuple[int, str]]:
    """(line, reason) for the rows in a problems file this module wrote, in file order, at most `limit`."""
    found: list[tuple[int, str]] = []
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)  # the header
        for fields in reader:
            if limit is not None and len(found) >= limit:
                break
            # The last two columns are always import_line and import_problem, whatever the file's own columns.
            found.append((int(fields[-2]), fields[-1]))
    return found


def import_csv(
    path: Path,
    lists: list[MailingList],
    session_scope: Callable[[], AbstractContextManager[Session]],
    *,
    consent: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
    problems_path: Path | None = None,
    batch_size: int = BATCH,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import `path` onto `lists`. ImportRefused (nothing stored) if the file as a whole cannot be used."""
    if not lists:
        raise ImportRefused("name the list to import onto with --list SLUG")
    consent = consent.strip() if consent else None
    plan, _ = inspect(path, encoding, mapping)
    report = ImportReport()
    started = utcnow()
    list_ids = [lst.id for lst in lists]
    with ExitStack() as stack:
        problems = _Problems(problems_path or problems_path_for(path), plan.header, report, stack)
        handle = stack.enter_context(_open(path, encoding))
        records = _records(handle)
        next(records)  # the header

        def flush(batch: list[_Row]) -> None:
            with session_scope() as session:
                if session.get_bind().dialect.name == "sqlite":
                    # Three unique indexes take random keys (address, hash, link key): with SQLite's default 2 MB
                    # page cache most of an import's time went on re-reading index pages. 64 MB, this connection.
                    session.execute(text("PRAGMA cache_size=-65536"))
                batch_lists = [lst for lst in session.scalars(select(MailingList).where(MailingList.id.in_(list_ids)))]
                _Batch(session, batch_lists, consent, path.name, started, report, problems).run(batch)
            if progress is not None:
                progress(report)

        batch: list[_Row] = []
        for line, fields in records:
            if not any(value.strip() for value in fields):
                continue
            report.rows += 1
            try:
                batch.append(_parse(line, fields, plan))
            except (InvalidEmail, ValueError) as error:
                report.invalid += 1
                problems.add(line, fields, str(error))
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    with session_scope() as session:
        if is_postgresql(session):
            # Fresh statistics, or PostgreSQL plans the next queries on these tables (the send that
            # usually follows an import) as if they were nearly empty: measured at seconds a query.
            session.execute(text("ANALYZE subscribers, subscriptions, consent_log"))
    return report

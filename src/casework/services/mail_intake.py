"""Email intake: file the messages of an IMAP mailbox on cases (``casework mail fetch``).

Each unseen message is filed on the case whose reference (``CASE-2026-000123``) appears in its
subject, else in its body; without one, a new case of the configured default type is opened for
the sender (``CASEWORK_MAIL_CASE_TYPE``), or the message is reported *unmatched* and left unseen
for a person to deal with. The email becomes an inbound communication on the case and each
attachment a document (kind ``other``, channel ``email``); a file already on the case is skipped,
a refused one (too large, empty, failed file checks) is reported and the others go on. Everything
is done as the built-in system account.

**Filed once.** Filing appends an audit entry ``mail.receive`` holding the message's Message-ID
(a stable id derived from the bytes when the message has none), on the case and in the same
append-only, hash-chained trail as everything else, so the record cannot be edited away with the
communication. Before filing, the intake looks for it: among the audit entries of the cases that
have an email communication with the same subject and date (the communications table, then the
audit entries by their indexed case id), or, for a message without a Date header, over all
``mail.receive`` entries (a scan of the audit table). A message found there is not filed again:
no second communication and no second case; its attachments are offered to the case again, which
only adds any that a crash interrupted (files already there are skipped as duplicates). A message
is marked ``\\Seen`` on the server only once filed, so an unmatched or failed message is retried
on the next fetch, and a message whose ``\\Seen`` flag was lost is recognised. The receipt is
written right after the communication (a separate transaction): a crash between opening a case,
adding the communication and writing the receipt can still file that one message twice.

On PostgreSQL a fetch holds an advisory lock (per schema) so two fetches never run at once.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import json
import logging
import os
import re
import ssl
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, text

from casework.audit import log as audit
from casework.config import max_upload_bytes
from casework.documents.mail import MAX_ATTACHMENTS, MailMessage, parse_message
from casework.domain.access import Principal
from casework.domain.errors import DomainError, InvalidInput
from casework.services import cases, documents, notes, parties, users
from casework.services.casetypes import definition_for
from casework.services.schemas import CaseCreate, Channel, CommunicationCreate, Direction, PartyCreate, PartyKind
from casework.store.models import AuditEntry, Case, Communication, Party
from casework.store.unit_of_work import Database

log = logging.getLogger(__name__)

#: A case reference anywhere in a text (the stored form is upper case).
REFERENCE = re.compile(r"\bCASE-\d{4}-\d{6,}\b", re.IGNORECASE)
RECEIVE = "mail.receive"
MAX_BODY = 20000
MAX_DESCRIPTION = 2000
MAX_TITLE = 300
CLIENT = "mail"
_PG_LOCK_ID = 424243  # with the schema's hash: one fetch at a time per installation


class MailServerError(DomainError):
    """The IMAP server cannot be reached, refused the sign-in, or answered something unexpected."""

    status = 502
    title = "Mail server error"


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    user: str
    password: str
    mailbox: str = "INBOX"
    ssl: bool = True
    default_case_type: str | None = None
    default_custom_data: dict[str, Any] = field(default_factory=dict)
    max_attachments: int = MAX_ATTACHMENTS
    max_total_bytes: int = 25 * 1024 * 1024
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> MailSettings:
        """Read the CASEWORK_IMAP_* and CASEWORK_MAIL_* variables; a missing or bad one is an InvalidInput naming it."""
        env = dict(os.environ if env is None else env)
        host = (env.get("CASEWORK_IMAP_HOST") or "").strip()
        if not host:
            raise InvalidInput("CASEWORK_IMAP_HOST is not set: name the IMAP server to fetch mail from")
        use_ssl = _flag(env.get("CASEWORK_IMAP_SSL", "1"), "CASEWORK_IMAP_SSL")
        raw_port = (env.get("CASEWORK_IMAP_PORT") or "").strip()
        try:
            port = int(raw_port) if raw_port else (993 if use_ssl else 143)
        except ValueError:
            raise InvalidInput(f"CASEWORK_IMAP_PORT must be a port number, not {raw_port!r}") from None
        if not 0 < port < 65536:
            raise InvalidInput(f"CASEWORK_IMAP_PORT must be between 1 and 65535, not {port}")
        case_type = (env.get("CASEWORK_MAIL_CASE_TYPE") or "").strip() or None
        raw_data = (env.get("CASEWORK_MAIL_CASE_DATA") or "").strip()
        data: Any = {}
        if raw_data:
            try:
                data = json.loads(raw_data)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"CASEWORK_MAIL_CASE_DATA is not valid JSON: {exc}") from None
            if not isinstance(data, dict):
                raise InvalidInput("CASEWORK_MAIL_CASE_DATA must be a JSON object of custom fields")
        try:
            limit = max_upload_bytes()
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        return cls(
            host=host,
            port=port,
            user=env.get("CASEWORK_IMAP_USER", ""),
            password=env.get("CASEWORK_IMAP_PASSWORD", ""),
            mailbox=(env.get("CASEWORK_IMAP_MAILBOX") or "").strip() or "INBOX",
            ssl=use_ssl,
            default_case_type=case_type,
            default_custom_data=data,
            max_total_bytes=limit,
        )


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(f"{name} must be 1 or 0, not {raw!r}")


# ---------------------------------------------------------------- reports


class FiledReport(BaseModel):
    status: Literal["filed", "duplicate", "unmatched"]
    message_id: str
    case_reference: str | None = None
    created: bool = False  # a new case was opened for the message
    communication_id: uuid.UUID | None = None
    documents: list[uuid.UUID] = []
    duplicates: int = 0  # attachments already on the case
    refused: list[tuple[str, str]] = []  # (file name, reason)

    @property
    def filed(self) -> bool:
        return self.status in ("filed", "duplicate")


class MessageReport(BaseModel):
    uid: str
    subject: str = ""
    sender: str = ""
    status: Literal["filed", "duplicate", "unmatched", "failed"]
    error: str | None = None
    report: FiledReport | None = None


class FetchReport(BaseModel):
    mailbox: str
    unseen: int  # unseen messages on the server
    messages: list[MessageReport]

    def count(self, status: str) -> int:
        return sum(1 for m in self.messages if m.status == status)


# ---------------------------------------------------------------- filing one message


def _text(value: str, limit: int) -> str:
    """Text a pydantic command accepts: no NUL, no lone surrogates, within its length."""
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return value.strip()[:limit].strip()


def _find_case(db: Database, msg: MailMessage) -> tuple[uuid.UUID, str] | None:
    """The first existing case named in the subject, else in the body."""
    for where in (msg.subject, msg.body):
        refs = list(dict.fromkeys(m.upper() for m in REFERENCE.findall(where)))
        if not refs:
            continue
        with db.read() as s:
            rows = {ref: case_id for ref, case_id in s.execute(select(Case.reference, Case.id).where(Case.reference.in_(refs)))}
        for ref in refs:
            if ref in rows:
                return rows[ref], ref
    return None


def _party_by_email(db: Database, address: str) -> uuid.UUID | None:
    if not address:
        return None
    with db.read() as s:
        stmt = select(Party.id).where(func.lower(Party.email) == address).order_by(Party.created_at, Party.id).limit(1)
        return s.scalars(stmt).first()


def _sender_party(db: Database, who: Principal, msg: MailMessage) -> uuid.UUID | None:
    """The party with the sender's email, else a new person party named after the sender."""
    found = _party_by_email(db, msg.sender_address)
    if found is not None:
        return found
    if not msg.sender_address and not msg.sender_name:
        return None
    name = _text(msg.sender_name, 300) or _text(msg.sender_address, 300)
    try:
        cmd = PartyCreate(kind=PartyKind.PERSON, name=name, email=msg.sender_address or None)
    except ValidationError:  # an address the party schema does not accept (root@localhost): keep the name only
        cmd = PartyCreate(kind=PartyKind.PERSON, name=name)
    return parties.create_party(db, who, cmd).id


def _already_filed(db: Database, msg: MailMessage, occurred_at: dt.datetime | None, subject: str) -> AuditEntry | None:
    """The ``mail.receive`` entry of an earlier filing of this message, if any."""
    receive = (AuditEntry.action == RECEIVE) & (AuditEntry.data["message_id"].as_string() == msg.message_id)
    with db.read() as s:
        if occurred_at is not None:
            # Cheap first: only the cases with an inbound email of the same date and subject can hold it.
            case_ids = select(Communication.case_id).where(
                Communication.occurred_at == occurred_at,
                Communication.channel == Channel.EMAIL.value,
                Communication.subject == subject,
            )
            return s.scalars(select(AuditEntry).where(AuditEntry.case_id.in_(case_ids), receive).limit(1)).first()
        return s.scalars(select(AuditEntry).where(receive).order_by(AuditEntry.seq).limit(1)).first()


def _open_case(db: Database, who: Principal, msg: MailMessage, settings: MailSettings, party_id: uuid.UUID | None) -> tuple[uuid.UUID, str]:
    assert settings.default_case_type is not None
    body = _text(msg.body, MAX_DESCRIPTION + 1)
    description = body if len(body) <= MAX_DESCRIPTION else body[: MAX_DESCRIPTION - 1].rstrip() + "…"
    sender = msg.sender_address or msg.sender_name or "an unknown sender"
    cmd = CaseCreate(
        case_type=settings.default_case_type,
        title=_text(msg.subject, MAX_TITLE) or f"Email from {_text(sender, 200)}",
        description=description,
        customer_party_id=party_id,
        custom_data=dict(settings.default_custom_data),
    )
    view = cases.create_case(db, who, cmd)
    return view.id, view.reference


def _record_receipt(db: Database, who: Principal, case_id: uuid.UUID, msg: MailMessage, communication_id: uuid.UUID) -> None:
    with db.write() as s:
        audit.append(s, actor_id=who.user_id, action=RECEIVE, case_id=case_id,
                     data={"message_id": msg.message_id, "communication_id": communication_id, "from": msg.sender_address,
                           "subject": msg.subject, "attachments": [a.filename for a in msg.attachments]})  # fmt: skip


def _declared(content_type: str) -> str | None:
    """The type to declare to the file checks: none for a forwarded message, whose bytes are plain text."""
    if not content_type or content_type == "message/rfc822":
        return None
    return content_type[:100]


def _file_attachments(db: Database, who: Principal, case_id: uuid.UUID, msg: MailMessage, report: FiledReport) -> None:
    report.refused.extend(msg.skipped)
    for att in msg.attachments:
        try:
            doc = documents.upload_document(
                db, who, case_id, kind=documents.OTHER, filename=att.filename, stream=[att.data],
                declared_mime=_declared(att.content_type), visibility=documents.DocumentVisibility.INTERNAL,
                channel=documents.DocumentChannel.EMAIL,
            )  # fmt: skip
        except DomainError as exc:
            if exc.status == 409:  # the same bytes are already on the case
                report.duplicates += 1
            elif 400 <= exc.status < 500:
                report.refused.append((att.filename, exc.message))
            else:
                raise
        else:
            report.documents.append(doc.id)


def file_message(db: Database, msg: MailMessage, settings: MailSettings, *, who: Principal | None = None) -> FiledReport:
    """File one parsed message on its case (or a new one); see the module's documentation."""
    who = who or users.system_principal(db).with_client(CLIENT)
    subject = _text(msg.subject, MAX_TITLE)
    previous = _already_filed(db, msg, msg.sent_at, subject)
    if previous is not None and previous.case_id is not None:
        with db.read() as s:
            reference = s.scalars(select(Case.reference).where(Case.id == previous.case_id)).one()
        comm = previous.data.get("communication_id")
        report = FiledReport(status="duplicate", message_id=msg.message_id, case_reference=reference,
                             communication_id=uuid.UUID(comm) if comm else None)  # fmt: skip
        _file_attachments(db, who, previous.case_id, msg, report)  # adds only what an interrupted filing missed
        return report

    found = _find_case(db, msg)
    created = False
    if found is not None:
        case_id, reference = found
        party_id = _party_by_email(db, msg.sender_address)
    elif settings.default_case_type:
        party_id = _sender_party(db, who, msg)
        case_id, reference = _open_case(db, who, msg, settings, party_id)
        created = True
    else:
        return FiledReport(status="unmatched", message_id=msg.message_id)

    body = _text(msg.body, MAX_BODY)
    comm = notes.add_communication(
        db, who, case_id,
        CommunicationCreate(channel=Channel.EMAIL, direction=Direction.INBOUND, subject=subject, body=body,
                            occurred_at=msg.sent_at, party_id=party_id),
    )  # fmt: skip
    _record_receipt(db, who, case_id, msg, comm.id)
    report = FiledReport(status="filed", message_id=msg.message_id, case_reference=reference, created=created, communication_id=comm.id)
    _file_attachments(db, who, case_id, msg, report)
    return report


def check_defaults(db: Database, settings: MailSettings) -> None:
    """Refuse at once a default case type that does not exist or custom data it does not accept."""
    if not settings.default_case_type:
        return
    try:
        with db.read() as s:
            defn = definition_for(s, settings.default_case_type)
    except DomainError as exc:
        raise InvalidInput(f"CASEWORK_MAIL_CASE_TYPE: {exc.message}") from None
    problems = defn.validate_fields(settings.default_custom_data)
    if problems:
        listed = "; ".join(f"{p.field.removeprefix('fields').lstrip('.') or 'data'}: {p.message}" for p in problems)
        raise InvalidInput(f"CASEWORK_MAIL_CASE_DATA does not suit case type {defn.key}: {listed}")


# ---------------------------------------------------------------- the IMAP side


def _connect(settings: MailSettings) -> imaplib.IMAP4:
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.ssl:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port, timeout=settings.timeout)
        else:
            conn = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise MailServerError(f"cannot connect to the IMAP server {where}: {exc}", field="imap") from None
    try:
        conn.login(settings.user, settings.password)
        typ, data = conn.select(_quote(settings.mailbox))
        if typ != "OK":
            raise MailServerError(f"cannot open mailbox {settings.mailbox!r} on {where}: {_said(data)}", field="imap")
    except imaplib.IMAP4.error as exc:
        _logout(conn)
        raise MailServerError(f"the IMAP server {where} refused the sign-in of {settings.user!r}: {_said(exc)}", field="imap") from None
    except (OSError, MailServerError):
        _logout(conn)
        raise
    return conn


def _quote(mailbox: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.\-/]+", mailbox):
        return mailbox
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(data: Any) -> str:
    if isinstance(data, BaseException):
        data = data.args[0] if data.args else str(data)
    if isinstance(data, list):
        data = b" ".join(d for d in data if isinstance(d, bytes))
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return " ".join(str(data).split())


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def _command(conn: imaplib.IMAP4, *args: str) -> list[Any]:
    try:
        typ, data = conn.uid(*args)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailServerError(f"IMAP UID {args[0]} failed: {_said(exc)}", field="imap") from None
    if typ != "OK":
        raise MailServerError(f"IMAP UID {args[0]} failed: {_said(data)}", field="imap")
    return list(data)


def _raw_message(data: list[Any]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def fetch(
    db: Database,
    settings: MailSettings,
    *,
    limit: int = 100,
    progress: Callable[[int, int], None] | None = None,
) -> FetchReport:
    """File up to ``limit`` unseen messages of the mailbox; ``progress(done, total)`` after each one examined.

    Unmatched messages do not count toward ``limit`` (they stay unseen, so they would otherwise
    fill every run); each run still downloads them to look for a case reference again.

    A message is marked ``\\Seen`` only when filed (or found filed before); unmatched and failed
    messages stay unseen and are tried again next time.
    """
    check_defaults(db, settings)
    who = users.system_principal(db).with_client(CLIENT)
    with _one_fetcher(db):
        return _fetch(db, settings, who, limit, progress)


@contextmanager
def _one_fetcher(db: Database) -> Iterator[None]:
    """On PostgreSQL, refuse to run beside another fetch (two could file the same unseen message at once).

    A session-level advisory lock, held on a connection of its own for the whole run; a crashed
    process releases it with its connection. SQLite installations run on one host: schedule the
    fetch so that runs do not overlap (cron with flock, a systemd timer).
    """
    if db.dialect != "postgresql":
        yield
        return
    with db.engine.connect() as conn:
        # Keyed on the schema too: several casework installations may share one database.
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"), {"k": _PG_LOCK_ID}).scalar()
        conn.commit()
        if not got:
            raise MailServerError("another `casework mail fetch` is running on this database; try again when it has finished")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": _PG_LOCK_ID})
            conn.commit()


def _fetch(db: Database, settings: MailSettings, who: Principal, limit: int, progress: Callable[[int, int], None] | None) -> FetchReport:
    conn = _connect(settings)
    try:
        found = _command(conn, "SEARCH", "UNSEEN")
        uids = [u.decode() for u in (found[0] or b"").split()] if found and isinstance(found[0], bytes) else []
        reports: list[MessageReport] = []
        counted = 0  # unmatched messages stay unseen and do not count, or a pile of them would starve new mail
        if progress is not None:
            progress(0, len(uids))
        for done, uid in enumerate(uids, start=1):
            if counted >= limit:
                break
            reports.append(_one(db, conn, who, settings, uid))
            counted += reports[-1].status != "unmatched"
            if progress is not None:
                progress(done, len(uids))
        return FetchReport(mailbox=settings.mailbox, unseen=len(uids), messages=reports)
    finally:
        _logout(conn)


def _one(db: Database, conn: imaplib.IMAP4, who: Principal, settings: MailSettings, uid: str) -> MessageReport:
    raw = _raw_message(_command(conn, "FETCH", uid, "(BODY.PEEK[])"))
    if raw is None:
        return MessageReport(uid=uid, status="failed", error="the server sent no message body")
    msg = parse_message(raw, max_attachments=settings.max_attachments, max_total_bytes=settings.max_total_bytes)
    sender = f"{msg.sender_name} <{msg.sender_address}>" if msg.sender_name else msg.sender_address
    try:
        filed = file_message(db, msg, settings, who=who)
    except (DomainError, ValidationError) as exc:
        error = exc.message if isinstance(exc, DomainError) else str(exc).splitlines()[0]
        log.warning("mail %s (%s) not filed: %s", uid, msg.message_id, error)
        return MessageReport(uid=uid, subject=msg.subject, sender=sender, status="failed", error=error)
    except Exception as exc:  # one bad message must not stop the others; it stays unseen for the next run
        log.exception("mail %s (%s) not filed", uid, msg.message_id)
        return MessageReport(uid=uid, subject=msg.subject, sender=sender, status="failed", error=f"{type(exc).__name__}: {exc}")
    if filed.filed:
        _command(conn, "STORE", uid, "+FLAGS", "(\\Seen)")
    return MessageReport(uid=uid, subject=msg.subject, sender=sender, status=filed.status, report=filed)

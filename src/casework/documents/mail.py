"""Reading an email (RFC 5322 bytes) into what email intake files on a case: pure parsing, no I/O.

``parse_message`` never raises on a malformed message: a header it cannot parse is read raw, a
part in an unknown charset is decoded as UTF-8 with replacement characters, a missing
Message-ID is replaced by one derived from the message's bytes (so the same message always gets
the same id), a missing or nonsense Date gives ``sent_at=None``.

The text body is the plain-text part(s) when there are any, else the HTML part(s) reduced to
text. Every other leaf part is an attachment; inline images without a file name get a generated
one (``inline-1.png``). A forwarded message (``message/rfc822``) is kept whole as an ``.eml``
attachment, and the attachments inside it are extracted too (nested up to ``MAX_DEPTH``).

File names are returned as the sender wrote them (decoded from RFC 2231 or encoded-words); they
are *not* safe to use as paths: the document service sanitises them when it stores a file.
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import html
import mimetypes
import re
from dataclasses import dataclass, field
from email.headerregistry import BaseHeader
from email.message import Message
from html.parser import HTMLParser
from typing import NamedTuple

MAX_ATTACHMENTS = 50
#: How deep forwarded messages inside forwarded messages are opened for their attachments.
MAX_DEPTH = 3
#: Bounds that keep one odd message from filling a column.
MAX_HEADER = 998
MAX_SUBJECT = 300


class Attachment(NamedTuple):
    filename: str
    content_type: str  # as declared by the sender; the document service detects the real type
    data: bytes


@dataclass(frozen=True)
class MailMessage:
    message_id: str
    sender_address: str  # lower-cased; "" when the message has no usable From
    sender_name: str
    subject: str
    sent_at: dt.datetime | None  # the Date header in UTC; None when missing or unreadable
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    #: Attachments left out by the limits, as (file name, reason).
    skipped: list[tuple[str, str]] = field(default_factory=list)


# ---------------------------------------------------------------- headers


def _clean(text: str) -> str:
    """One line of text without control characters (NUL included) or lone surrogates."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words (``=?UTF-8?B?...?=``) left in a value; the value unchanged when broken."""
    if "=?" not in text:
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (ValueError, LookupError, email.errors.MessageError):  # a broken word or an unknown charset
        return text


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy's parser chokes on: fall back to the raw text
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    text = str(value or "")
    if not isinstance(value, BaseHeader):  # read raw (compat32, or a header the parser refused): decode it here
        text = _decode_words(text)
    return _clean(text)[:MAX_HEADER]


def _sender(msg: Message) -> tuple[str, str]:
    raw = _header(msg, "From") or _header(msg, "Sender") or _header(msg, "Reply-To")
    name, address = email.utils.parseaddr(raw)
    address = address.strip().lower()
    if "@" not in address or any(ch.isspace() for ch in address):
        address = ""
    return _clean(_decode_words(name)).strip("\"' "), address


def _date(msg: Message) -> dt.datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        when = when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
    return when if 1900 <= when.year <= 2200 else None


def _message_id(msg: Message, raw: bytes) -> str:
    found = _header(msg, "Message-ID").strip()
    if found:
        return found[:500]
    # No Message-ID (rare, but some scanners and scripts send such mail): the same bytes, the same id.
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@casework.invalid>"


# ---------------------------------------------------------------- bodies


class _TextExtractor(HTMLParser):
    """HTML to readable text: block elements become line breaks, scripts and styles are dropped."""

    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol",
                       "section", "article", "header", "footer", "hr"})  # fmt: skip
    SKIP = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient, but never let a body stop the intake
        return _tidy(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return _tidy("".join(parser.parts))


def _tidy(text: str) -> str:
    """Trim each line, collapse runs of blank lines, drop NULs and lone surrogates."""
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _text(part: Message) -> str:
    data = _payload(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):  # an unknown or malformed charset name
        return data.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- walking the parts


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            name = part.get_param("name", header="content-type")  # type: ignore[assignment]
            if isinstance(name, tuple):  # an RFC 2231 triple
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = None
    return _clean(_decode_words(str(name))) if name else ""


def _extension(content_type: str) -> str:
    return {"image/jpeg": ".jpg", "text/plain": ".txt", "message/rfc822": ".eml"}.get(content_type) or (
        mimetypes.guess_extension(content_type, strict=False) or ".bin"
    )


@dataclass
class _Walk:
    max_attachments: int
    max_total: int
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0
    unnamed: int = 0

    def generated(self, content_type: str) -> str:
        self.unnamed += 1
        return f"inline-{self.unnamed}{_extension(content_type)}"

    def add(self, name: str, content_type: str, data: bytes) -> None:
        if len(self.attachments) >= self.max_attachments:
            self.skipped.append((name, f"the message has more than {self.max_attachments} attachments"))
        elif self.total + len(data) > self.max_total:
            self.skipped.append((name, f"the message's attachments are larger than {self.max_total} bytes in total"))
        else:
            self.attachments.append(Attachment(name, content_type, data))
            self.total += len(data)

    def visit(self, part: Message, depth: int, *, body: bool) -> None:
        """Collect attachments below ``part``; body text only when ``body`` (the top-level message)."""
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self.forwarded(part, depth)
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    self.visit(sub, depth, body=body)
            return
        name = _filename(part)
        disposition = part.get_content_disposition()
        if ctype in ("text/plain", "text/html") and not name and disposition != "attachment":
            if body:
                (self.plain if ctype == "text/plain" else self.html).append(_text(part))
            return
        self.add(name or self.generated(ctype), ctype, _payload(part))

    def forwarded(self, part: Message, depth: int) -> None:
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else None
        if inner_msg is None:  # not parsed as a message: keep the bytes as they are
            self.add(_filename(part) or self.generated("message/rfc822"), "message/rfc822", _payload(part))
            return
        try:
            data = inner_msg.as_bytes()
        except Exception:
            data = _payload(part)
        name = _filename(part)
        if not name:
            subject = _header(inner_msg, "Subject")
            name = f"{subject[:100]}.eml" if subject else self.generated("message/rfc822")
        self.add(name, "message/rfc822", data)
        if depth < MAX_DEPTH:
            self.visit(inner_msg, depth + 1, body=False)


def parse_message(raw: bytes, *, max_attachments: int = MAX_ATTACHMENTS, max_total_bytes: int | None = None) -> MailMessage:
    """Read one RFC 5322 message; ``max_total_bytes`` (default: the upload limit) bounds all attachments together."""
    if max_total_bytes is None:
        from casework.config import max_upload_bytes

        max_total_bytes = max_upload_bytes()
    try:
        return _parse(raw, email.policy.default, max_attachments, max_total_bytes)
    except Exception:
        # The modern policy's header parsers can fail on mangled MIME parameters; the compat32
        # policy does not parse structured headers and reads almost anything.
        return _parse(raw, email.policy.compat32, max_attachments, max_total_bytes)


def _parse(raw: bytes, policy: email.policy.Policy, max_attachments: int, max_total_bytes: int) -> MailMessage:
    msg = email.message_from_bytes(raw, policy=policy)
    name, address = _sender(msg)
    walk = _Walk(max_attachments=max_attachments, max_total=max_total_bytes)
    walk.visit(msg, 0, body=True)
    texts = walk.plain or [html_to_text(h) for h in walk.html]
    body = _tidy("\n\n".join(texts))
    return MailMessage(
        message_id=_message_id(msg, raw),
        sender_address=address,
        sender_name=name,
        subject=_header(msg, "Subject")[:MAX_SUBJECT].strip(),
        sent_at=_date(msg),
        body=body,
        attachments=walk.attachments,
        skipped=walk.skipped,
    )

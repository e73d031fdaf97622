"""Parsing emails for intake: bodies, attachments, encoded names, forwarded messages, limits, odd headers."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from casework.documents.mail import html_to_text, parse_message

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def message(subject: str = "Refund CASE-2026-000001", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("sender", '"Zoë Müller" <Zoe.Muller@Example.org>')
    msg["To"] = "intake@bank.example"
    msg["Subject"] = subject
    msg["Date"] = headers.pop("date", "Tue, 03 Feb 2026 10:15:00 +0100")
    msg["Message-ID"] = headers.pop("message_id", "<m1@example.org>")
    for name, value in headers.items():
        msg[name] = value
    return msg


def test_multipart_with_pdf_and_png_attachments() -> None:
    msg = message()
    msg.set_content("Hello,\n\nplease find my statement attached.\n")
    msg.add_alternative("<p>Hello, <b>please</b> find my statement attached.</p>", subtype="html")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="statement.pdf")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="receipt.png")
    parsed = parse_message(msg.as_bytes())
    assert parsed.message_id == "<m1@example.org>"
    assert parsed.sender_address == "zoe.muller@example.org" and parsed.sender_name == "Zoë Müller"
    assert parsed.subject == "Refund CASE-2026-000001"
    assert parsed.sent_at == dt.datetime(2026, 2, 3, 9, 15, tzinfo=dt.UTC)
    assert parsed.body == "Hello,\n\nplease find my statement attached."  # plain text wins over HTML
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("statement.pdf", "application/pdf", PDF),
        ("receipt.png", "image/png", PNG),
    ]
    assert parsed.skipped == []
    # An attachment is a (file name, declared type, bytes) triple.
    name, ctype, data = parsed.attachments[0]
    assert (name, ctype, data) == ("statement.pdf", "application/pdf", PDF)


def test_html_only_body_is_reduced_to_text() -> None:
    msg = message()
    msg.set_content(
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<p>Dear team,</p><p>my card &amp; PIN were <i>blocked</i>.<br>Thanks</p>"
        "<script>alert('x')</script><ul><li>one</li><li>two</li></ul></body></html>",
        subtype="html",
    )
    parsed = parse_message(msg.as_bytes())
    assert parsed.body == "Dear team,\n\nmy card & PIN were blocked.\nThanks\n\none\n\ntwo"
    assert "alert" not in parsed.body and "color" not in parsed.body
    assert parsed.attachments == []
    assert html_to_text("<div>a</div><div>b</div>") == "a\n\nb"


def test_encoded_file_names_rfc2231_and_encoded_words() -> None:
    raw = (
        b"From: x@example.org\r\nSubject: =?UTF-8?B?w4ljaGVjIGR1IHBhaWVtZW50?=\r\nMessage-ID: <e@x>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Voil=E0 le re=E7u\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20re%C3%A7u.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b'--b\r\nContent-Type: application/pdf; name="=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?="\r\n'
        b'Content-Disposition: attachment; filename="=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?="\r\n\r\nx\r\n'
        b"--b--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Échec du paiement"
    assert parsed.body == "Voilà le reçu"
    assert [a.filename for a in parsed.attachments] == ["€ reçu.pdf", "résumé.pdf"]
    assert parsed.attachments[0].data == b"%PDF-1.4\n"


def test_path_traversal_names_are_returned_as_sent() -> None:
    """The parser reports the name as sent; the document service makes it safe (see the intake tests)."""
    msg = message()
    msg.set_content("see attached")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="../../etc/passwd")
    parsed = parse_message(msg.as_bytes())
    assert [a.filename for a in parsed.attachments] == ["../../etc/passwd"]


def test_inline_images_without_names_get_generated_names() -> None:
    msg = message()
    msg.set_content("plain version")
    msg.add_alternative('<p>Look: <img src="cid:img1"></p>', subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<img1>")
    html_part.add_related(b"\xff\xd8\xff\xe0jpeg", maintype="image", subtype="jpeg", cid="<img2>")
    parsed = parse_message(msg.as_bytes())
    assert parsed.body == "plain version"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("inline-1.png", "image/png"), ("inline-2.jpg", "image/jpeg")]


def test_forwarded_message_is_kept_whole_and_its_attachments_extracted() -> None:
    inner = message("Original complaint", sender="bank@example.net", message_id="<inner@x>")
    inner.set_content("the original text")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="contract.pdf")
    outer = message("Fwd: Original complaint")
    outer.set_content("Forwarding the mail below.")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    assert parsed.body == "Forwarding the mail below."  # the forwarded text is not mixed into the body
    names = [(a.filename, a.content_type) for a in parsed.attachments]
    assert names == [("Original complaint.eml", "message/rfc822"), ("contract.pdf", "application/pdf")]
    eml = parse_message(parsed.attachments[0].data)
    assert eml.message_id == "<inner@x>" and eml.body == "the original text"
    assert parsed.attachments[1].data == PDF


def test_attachment_limits_skip_and_report_the_rest() -> None:
    msg = message()
    msg.set_content("many files")
    for i in range(5):
        msg.add_attachment(bytes([65 + i]) * 100, maintype="application", subtype="octet-stream", filename=f"f{i}.bin")
    parsed = parse_message(msg.as_bytes(), max_attachments=3)
    assert [a.filename for a in parsed.attachments] == ["f0.bin", "f1.bin", "f2.bin"]
    assert [name for name, _ in parsed.skipped] == ["f3.bin", "f4.bin"]
    assert "more than 3 attachments" in parsed.skipped[0][1]
    by_size = parse_message(msg.as_bytes(), max_total_bytes=250)
    assert [a.filename for a in by_size.attachments] == ["f0.bin", "f1.bin"]
    assert [name for name, _ in by_size.skipped] == ["f2.bin", "f3.bin", "f4.bin"]
    assert "250 bytes in total" in by_size.skipped[0][1]


def test_missing_and_broken_headers() -> None:
    raw = b"From: nobody\r\nDate: not a date\r\nSubject: hi\x00 there\r\n\r\nbody \x00text\r\n"
    parsed = parse_message(raw)
    assert parsed.sender_address == "" and parsed.sent_at is None
    assert "\x00" not in parsed.subject and "\x00" not in parsed.body
    assert parsed.message_id.startswith("<sha256-") and parse_message(raw).message_id == parsed.message_id
    assert parse_message(raw + b"more").message_id != parsed.message_id
    bare = parse_message(b"\r\n")
    assert (bare.subject, bare.body, bare.attachments, bare.sender_name) == ("", "", [], "")


def test_unknown_charset_and_single_part_attachment() -> None:
    raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\ncaf\xc3\xa9\r\n"
    assert parse_message(raw).body == "café"
    pdf_only = b"From: a@b.example\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    parsed = parse_message(pdf_only)
    assert parsed.body == "" and [(a.filename, a.data) for a in parsed.attachments] == [("inline-1.pdf", b"%PDF-1.4\n")]


def test_headers_the_modern_parser_chokes_on_are_read_leniently() -> None:
    # The stdlib's structured header parser raises IndexError on this Content-Type.
    raw = b"From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.org>\r\nSubject: =?UTF-8?B?w6k=?= CASE-2026-000001\r\n"
    raw += b"Content-Type: text/plain; charset*\r\n\r\nhello\r\n"
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.body, parsed.sender_name, parsed.sender_address) == (
        "é CASE-2026-000001",
        "hello",
        "Zoë",
        "zoe@example.org",
    )

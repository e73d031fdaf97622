"""Email intake: filing messages on cases, new cases for new senders, duplicates, refused files, and
``fetch`` / ``casework mail fetch`` end to end against the fake IMAP server (tests/imap_server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from casework.cli import app
from casework.documents.mail import parse_message
from casework.domain.access import Principal
from casework.domain.errors import InvalidInput
from casework.services import documents, notes, parties
from casework.services.mail_intake import MailServerError, MailSettings, fetch, file_message
from casework.services.schemas import CaseView, PartyCreate
from casework.store.models import AuditEntry, Case, CaseParty, Communication, Document, Party
from casework.store.unit_of_work import Database
from tests.factories import CASE_DATA, new_case
from tests.imap_server import FakeImapServer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
TICKET_DATA = {"request_kind": "question", "product_area": "other", "channel": "email"}


def settings(**extra: Any) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=1, user="intake", password="secret", ssl=False, **extra)


def ticket_settings() -> MailSettings:
    return settings(default_case_type="support_ticket", default_custom_data=TICKET_DATA)


def email(subject: str, body: str = "Hello", *, sender: str = '"Zoë Müller" <zoe@example.org>', message_id: str = "<m1@example.org>",
          attachments: list[tuple[str, str, bytes]] | None = None, date: str = "Tue, 03 Feb 2026 10:15:00 +0100") -> bytes:  # fmt: skip
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "intake@bank.example"
    msg["Subject"] = subject
    if date:
        msg["Date"] = date
    msg["Message-ID"] = message_id
    msg.set_content(body)
    for name, ctype, data in attachments or []:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def count(db: Database, model: type[Any], *where: Any) -> int:
    with db.read() as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


@pytest.fixture
def case(db: Database, actor: Principal) -> CaseView:
    return new_case(db, actor, title="Card blocked")


def test_files_on_the_case_named_in_the_subject(db: Database, actor: Principal, case: CaseView) -> None:
    raw = email(f"Re: your case {case.reference}", "My statement and a photo.\n",
                attachments=[("statement.pdf", "application/pdf", PDF), ("photo.png", "image/png", PNG)])  # fmt: skip
    report = file_message(db, parse_message(raw), settings())
    assert report.status == "filed" and report.filed and not report.created
    assert report.case_reference == case.reference
    assert len(report.documents) == 2 and report.duplicates == 0 and report.refused == []

    [comm] = notes.list_communications(db, actor, case.id)
    assert comm.id == report.communication_id
    assert (comm.channel.value, comm.direction.value) == ("email", "inbound")
    assert comm.subject == f"Re: your case {case.reference}" and comm.body == "My statement and a photo."
    assert comm.occurred_at.isoformat() == "2026-02-03T09:15:00+00:00"
    assert comm.party_id is None  # no party has the sender's address
    docs = documents.list_documents(db, actor, case.id)
    assert sorted((d.original_name, d.mime, d.channel.value, d.kind) for d in docs) == [
        ("photo.png", "image/png", "email", "other"),
        ("statement.pdf", "application/pdf", "email", "other"),
    ]
    with db.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "mail.receive")).one()
    assert entry.case_id == case.id and entry.data["message_id"] == "<m1@example.org>"
    assert entry.data["communication_id"] == str(comm.id)


def test_reference_in_the_body_and_sender_party(db: Database, actor: Principal, case: CaseView) -> None:
    party = parties.create_party(db, actor, PartyCreate(name="Zoë Müller", email="Zoe@Example.org"))
    raw = email("A question", f"About case {case.reference.lower()}, thanks.", sender="ZOE@example.org")
    report = file_message(db, parse_message(raw), settings())
    assert report.case_reference == case.reference and not report.created
    [comm] = notes.list_communications(db, actor, case.id)
    assert comm.party_id == party.id


def test_unknown_reference_falls_back_to_the_body_then_to_unmatched(db: Database, actor: Principal, case: CaseView) -> None:
    raw = email("About CASE-2026-999999", f"Sorry, I meant {case.reference}.")
    assert file_message(db, parse_message(raw), settings()).case_reference == case.reference
    lost = email("About CASE-2026-999999", "no known reference here", message_id="<m2@example.org>")
    report = file_message(db, parse_message(lost), settings())
    assert report.status == "unmatched" and not report.filed and report.case_reference is None
    assert count(db, Communication) == 1 and count(db, Case) == 1


def test_new_case_for_an_unknown_sender_with_the_default_type(db: Database, actor: Principal) -> None:
    raw = email("Cannot log in to the app", "Since yesterday the app says error 42.\n" + "More. " * 1000,
                sender='"Nina New" <nina@example.org>', attachments=[("screen.png", "image/png", PNG)])  # fmt: skip
    report = file_message(db, parse_message(raw), ticket_settings())
    assert report.status == "filed" and report.created and len(report.documents) == 1
    with db.read() as s:
        case = s.scalars(select(Case).where(Case.reference == report.case_reference)).one()
        party = s.scalars(select(Party).where(Party.id == case.customer_party_id)).one()
        roles = s.scalars(select(CaseParty.role).where(CaseParty.case_id == case.id)).all()
        comm = s.scalars(select(Communication).where(Communication.case_id == case.id)).one()
    assert case.case_type == "support_ticket" and case.title == "Cannot log in to the app"
    assert case.custom_data == TICKET_DATA
    assert case.description.startswith("Since yesterday the app says error 42.") and len(case.description) <= 2000
    assert (party.kind, party.name, party.email) == ("person", "Nina New", "nina@example.org")
    assert roles == ["customer"] and comm.party_id == party.id

    # The next new message from the same sender reuses the party.
    again = email("Another problem", "cards this time", sender="nina@example.org", message_id="<m2@example.org>")
    second = file_message(db, parse_message(again), ticket_settings())
    assert second.created and second.case_reference != report.case_reference
    assert count(db, Party) == 1
    # A message naming the case goes to that case, not to a new one.
    reply = email(f"Re: {report.case_reference}", "thanks", sender="nina@example.org", message_id="<m3@example.org>")
    third = file_message(db, parse_message(reply), ticket_settings())
    assert not third.created and third.case_reference == report.case_reference
    assert count(db, Case) == 2


def test_unmatched_without_a_default_type_changes_nothing(db: Database, actor: Principal) -> None:
    before = count(db, AuditEntry)
    report = file_message(db, parse_message(email("Hello there", "no reference")), settings())
    assert report.status == "unmatched" and report.communication_id is None
    assert count(db, Case) == 0 and count(db, Communication) == 0 and count(db, Party) == 0
    assert count(db, AuditEntry) == before


def test_a_message_is_filed_once(db: Database, actor: Principal, case: CaseView) -> None:
    raw = email(f"Re: {case.reference}", "evidence", attachments=[("a.pdf", "application/pdf", PDF)])
    first = file_message(db, parse_message(raw), settings())
    again = file_message(db, parse_message(raw), settings())
    assert again.status == "duplicate" and again.filed and again.case_reference == case.reference
    assert again.communication_id == first.communication_id
    assert again.documents == [] and again.duplicates == 1
    assert count(db, Communication) == 1 and count(db, Document) == 1

    # Without a Date header the earlier filing is found too, and a new case is not opened twice.
    undated = email("No date here", "hi", sender="dan@example.org", message_id="<undated@x>", date="")
    opened = file_message(db, parse_message(undated), ticket_settings())
    repeat = file_message(db, parse_message(undated), ticket_settings())
    assert opened.created and repeat.status == "duplicate" and repeat.case_reference == opened.case_reference
    assert count(db, Case) == 2 and count(db, Communication) == 2

    # The same subject and date under another Message-ID is another message.
    other = email(f"Re: {case.reference}", "evidence", message_id="<m9@example.org>")
    assert file_message(db, parse_message(other), settings()).status == "filed"
    assert count(db, Communication) == 3


def test_refused_attachments_are_reported_and_the_others_filed(
    db: Database, actor: Principal, case: CaseView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEWORK_MAX_UPLOAD_MB", "0.01")  # about 10 kB per file
    exe = b"MZ\x90\x00" + b"\x00" * 200  # a Windows program
    raw = email(f"Re: {case.reference}", "four files", attachments=[
        ("empty.txt", "text/plain", b""),
        ("huge.bin", "application/octet-stream", b"\x01" * 20000),
        ("invoice.exe", "application/octet-stream", exe),
        ("ok.pdf", "application/pdf", PDF),
    ])  # fmt: skip
    report = file_message(db, parse_message(raw, max_total_bytes=10**6), settings())
    assert report.status == "filed" and len(report.documents) == 1
    refused = dict(report.refused)
    assert set(refused) == {"empty.txt", "huge.bin", "invoice.exe"}
    assert "empty" in refused["empty.txt"] and "larger than" in refused["huge.bin"]
    assert [d.original_name for d in documents.list_documents(db, actor, case.id)] == ["ok.pdf"]

    # Attachments over the message limits are reported the same way.
    limited = parse_message(email(f"Re: {case.reference}", "x", message_id="<m2@x>",
                                  attachments=[("b.pdf", "application/pdf", PDF + b"b")]), max_attachments=0)  # fmt: skip
    assert [name for name, _ in file_message(db, limited, settings()).refused] == ["b.pdf"]


def test_a_forwarded_message_is_filed_with_its_attachments(db: Database, actor: Principal, case: CaseView) -> None:
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "shop@example.net", "Your order"
    inner.set_content("Order 123 confirmed")
    inner.add_attachment(PDF + b"inner", maintype="application", subtype="pdf", filename="order.pdf")
    outer = EmailMessage()
    outer["From"], outer["Subject"], outer["Message-ID"] = "zoe@example.org", f"Fwd: Your order {case.reference}", "<fwd@x>"
    outer.set_content("See the forwarded mail.")
    outer.add_attachment(inner)
    report = file_message(db, parse_message(outer.as_bytes()), settings())
    assert report.refused == [] and len(report.documents) == 2
    docs = {d.original_name: d.mime for d in documents.list_documents(db, actor, case.id)}
    assert docs == {"Your order.eml": "text/plain", "order.pdf": "application/pdf"}


def test_unsafe_file_names_are_stored_safely(db: Database, actor: Principal, case: CaseView) -> None:
    raw = email(f"Re: {case.reference}", "names", attachments=[
        ("../../etc/passwd.pdf", "application/pdf", PDF),
        ("..\\..\\windows\\evil\x07.png", "image/png", PNG),
    ])  # fmt: skip
    report = file_message(db, parse_message(raw), settings())
    assert len(report.documents) == 2
    names = sorted(d.original_name for d in documents.list_documents(db, actor, case.id))
    assert "passwd.pdf" in names and any(n.startswith("evil") and n.endswith(".png") for n in names)
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".") and name.isprintable()


def test_bad_default_case_data_is_refused_before_any_message(db: Database, actor: Principal) -> None:
    with FakeImapServer() as server:
        server.add(email("hello", "x"))
        bad = MailSettings(host=server.host, port=server.port, user="intake", password="secret", ssl=False,
                           default_case_type="support_ticket", default_custom_data={"request_kind": "nonsense"})  # fmt: skip
        with pytest.raises(InvalidInput, match="CASEWORK_MAIL_CASE_DATA"):
            fetch(db, bad)
        unknown = MailSettings(host=server.host, port=server.port, user="intake", password="secret", ssl=False,
                               default_case_type="no_such_type")  # fmt: skip
        with pytest.raises(InvalidInput, match="CASEWORK_MAIL_CASE_TYPE"):
            fetch(db, unknown)
        assert server.connections == 0


def test_settings_from_the_environment() -> None:
    env = {"CASEWORK_IMAP_HOST": "imap.example.org", "CASEWORK_IMAP_USER": "u", "CASEWORK_IMAP_PASSWORD": "p",
           "CASEWORK_MAIL_CASE_TYPE": "support_ticket", "CASEWORK_MAIL_CASE_DATA": json.dumps(TICKET_DATA)}  # fmt: skip
    s = MailSettings.from_env(env)
    assert (s.host, s.port, s.ssl, s.mailbox, s.user, s.password) == ("imap.example.org", 993, True, "INBOX", "u", "p")
    assert s.default_case_type == "support_ticket" and s.default_custom_data == TICKET_DATA
    plain = MailSettings.from_env({**env, "CASEWORK_IMAP_SSL": "0", "CASEWORK_IMAP_MAILBOX": "Intake"})
    assert (plain.port, plain.ssl, plain.mailbox) == (143, False, "Intake")
    for broken, field in [({"CASEWORK_IMAP_HOST": ""}, "CASEWORK_IMAP_HOST"), ({"CASEWORK_IMAP_PORT": "x"}, "CASEWORK_IMAP_PORT"),
                          ({"CASEWORK_IMAP_SSL": "maybe"}, "CASEWORK_IMAP_SSL"),
                          ({"CASEWORK_MAIL_CASE_DATA": "[1]"}, "CASEWORK_MAIL_CASE_DATA"),
                          ({"CASEWORK_MAIL_CASE_DATA": "{"}, "CASEWORK_MAIL_CASE_DATA")]:  # fmt: skip
        with pytest.raises(InvalidInput, match=field):
            MailSettings.from_env({**env, **broken})


# ---------------------------------------------------------------- against the fake IMAP server


@pytest.fixture
def server() -> Iterator[FakeImapServer]:
    with FakeImapServer(user="intake", password='s3cret "quoted"') as srv:
        yield srv


def imap_settings(server: FakeImapServer, **extra: Any) -> MailSettings:
    return MailSettings(host=server.host, port=server.port, user="intake", password=server.password, ssl=False, **extra)


def test_fetch_files_unseen_mail_and_marks_it_seen(db: Database, actor: Principal, case: CaseView, server: FakeImapServer) -> None:
    filed = server.add(email(f"Re: {case.reference}", "see file", attachments=[("a.pdf", "application/pdf", PDF)]))
    new = server.add(email("Help with my card", "it is blocked", sender="max@example.org", message_id="<m2@x>"))
    old = server.add(email(f"Re: {case.reference}", "already read", message_id="<m3@x>"), seen=True)
    progress: list[tuple[int, int]] = []

    report = fetch(db, imap_settings(server, **{"default_case_type": "support_ticket", "default_custom_data": TICKET_DATA}),
                   progress=lambda done, total: progress.append((done, total)))  # fmt: skip
    assert report.unseen == 2 and [m.status for m in report.messages] == ["filed", "filed"]
    assert report.messages[0].report and report.messages[0].report.case_reference == case.reference
    assert report.messages[1].report and report.messages[1].report.created
    assert progress == [(0, 2), (1, 2), (2, 2)]
    assert "\\Seen" in server.flags(filed) and "\\Seen" in server.flags(new) and "\\Seen" in server.flags(old)
    assert any("BODY.PEEK[]" in line for line in server.log)  # fetching does not mark a message read by itself
    assert count(db, Communication) == 2 and count(db, Document) == 1 and count(db, Case) == 2

    again = fetch(db, imap_settings(server, default_case_type="support_ticket", default_custom_data=TICKET_DATA))
    assert again.unseen == 0 and again.messages == []
    assert count(db, Communication) == 2 and count(db, Case) == 2

    # A message that lost its \Seen flag is recognised and not filed again.
    server.messages[0].flags.clear()
    third = fetch(db, imap_settings(server))
    assert [m.status for m in third.messages] == ["duplicate"] and "\\Seen" in server.flags(filed)
    assert count(db, Communication) == 2


def test_fetch_leaves_unmatched_mail_unseen_and_respects_the_limit(
    db: Database, actor: Principal, case: CaseView, server: FakeImapServer
) -> None:
    lost = [server.add(email(f"Hello {i}", "no reference", message_id=f"<u{i}@x>")) for i in range(3)]
    mine = [server.add(email(f"Re: {case.reference} ({i})", "ok", message_id=f"<k{i}@x>")) for i in range(3)]
    report = fetch(db, imap_settings(server), limit=2)
    # Unmatched messages do not use up the limit, so they cannot keep new mail from being filed.
    assert report.unseen == 6 and [m.status for m in report.messages] == ["unmatched"] * 3 + ["filed"] * 2
    assert all(server.flags(uid) == set() for uid in [*lost, mine[2]])
    assert all("\\Seen" in server.flags(uid) for uid in mine[:2])
    assert count(db, Communication) == 2
    rest = fetch(db, imap_settings(server), limit=2)
    assert [m.status for m in rest.messages] == ["unmatched"] * 3 + ["filed"] and count(db, Communication) == 3


def test_fetch_refuses_a_wrong_password_and_a_missing_mailbox(db: Database, server: FakeImapServer) -> None:
    wrong = MailSettings(host=server.host, port=server.port, user="intake", password="nope", ssl=False)
    with pytest.raises(MailServerError, match="refused the sign-in"):
        fetch(db, wrong)
    with pytest.raises(MailServerError, match="mailbox"):
        fetch(db, imap_settings(server, mailbox="Elsewhere"))
    closed = MailSettings(host="127.0.0.1", port=1, user="u", password="p", ssl=False, timeout=2)
    with pytest.raises(MailServerError, match="cannot connect"):
        fetch(db, closed)


def test_two_fetches_never_overlap_on_postgres(db: Database, actor: Principal, server: FakeImapServer) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite runs are scheduled not to overlap")
    server.add(email("Hello", "no reference"))
    with db.engine.connect() as other:
        assert other.execute(text("SELECT pg_try_advisory_lock(424243, hashtext(current_schema()))")).scalar() is True
        with pytest.raises(MailServerError, match="another `casework mail fetch` is running"):
            fetch(db, imap_settings(server))
        other.execute(text("SELECT pg_advisory_unlock(424243, hashtext(current_schema()))"))
    assert [m.status for m in fetch(db, imap_settings(server)).messages] == ["unmatched"]
    assert [m.status for m in fetch(db, imap_settings(server)).messages] == ["unmatched"]  # the lock was released


def _env(server: FakeImapServer, **extra: str) -> dict[str, str]:
    return {"COLUMNS": "200", "NO_COLOR": "1", "CASEWORK_IMAP_HOST": server.host, "CASEWORK_IMAP_PORT": str(server.port),
            "CASEWORK_IMAP_USER": "intake", "CASEWORK_IMAP_PASSWORD": server.password, "CASEWORK_IMAP_SSL": "0", **extra}  # fmt: skip


def test_cli_mail_fetch(db_url: str, db: Database, actor: Principal, case: CaseView, server: FakeImapServer) -> None:
    uid = server.add(email(f"Re: {case.reference}", "from the CLI", attachments=[("cli.pdf", "application/pdf", PDF)]))
    server.add(email("Nothing to see", "no reference", message_id="<m2@x>"))
    runner = CliRunner()
    result = runner.invoke(app, ["--database-url", db_url, "mail", "fetch"], env=_env(server))
    assert result.exit_code == 0, result.output
    assert "filed" in result.stdout and case.reference in result.stdout and "1 document(s)" in result.stdout
    assert "unmatched" in result.stdout and "left unseen" in result.stdout
    assert "2 of 2 unseen message(s) in INBOX: 1 filed (0 new case(s)), 0 filed before, 1 unmatched, 0 failed" in result.stdout
    assert "\\Seen" in server.flags(uid)

    env = _env(server, CASEWORK_MAIL_CASE_TYPE="support_ticket", CASEWORK_MAIL_CASE_DATA=json.dumps(TICKET_DATA))
    as_json = runner.invoke(app, ["--database-url", db_url, "mail", "fetch", "--json", "--limit", "5"], env=env)
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["unseen"] == 1 and data["messages"][0]["status"] == "filed" and data["messages"][0]["report"]["created"] is True
    assert count(db, Case) == 2

    again = runner.invoke(app, ["--database-url", db_url, "mail", "fetch"], env=env)
    assert again.exit_code == 0 and "0 of 0 unseen" in again.stdout


def test_cli_mail_fetch_errors_are_one_line(db_url: str, db: Database, server: FakeImapServer) -> None:
    runner = CliRunner()
    cases = [
        ({"CASEWORK_IMAP_HOST": ""}, "CASEWORK_IMAP_HOST is not set"),
        ({"CASEWORK_IMAP_PASSWORD": "wrong"}, "refused the sign-in"),
        ({"CASEWORK_MAIL_CASE_TYPE": "support_ticket", "CASEWORK_MAIL_CASE_DATA": "{}"}, "CASEWORK_MAIL_CASE_DATA"),
    ]
    for extra, expected in cases:
        result = runner.invoke(app, ["--database-url", db_url, "mail", "fetch"], env=_env(server, **extra))
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
        assert "Traceback" not in result.output


def test_case_data_fixture_matches_the_shipped_types() -> None:
    assert set(TICKET_DATA) == set(CASE_DATA["support_ticket"])

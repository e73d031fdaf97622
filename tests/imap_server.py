"""A small in-memory IMAP4rev1 server for tests: just what ``imaplib`` sends during email intake.

Commands: CAPABILITY, NOOP, LOGIN, SELECT/EXAMINE, SEARCH / UID SEARCH (ALL, SEEN, UNSEEN),
FETCH / UID FETCH (RFC822, BODY[], BODY.PEEK[], FLAGS, UID), STORE / UID STORE (+FLAGS, -FLAGS,
FLAGS), LOGOUT. One mailbox of messages held in memory, shared by every connection; binds
127.0.0.1 on a free port and serves each connection in its own thread.

    with FakeImapServer(user="intake", password="secret") as server:
        uid = server.add(raw_bytes)
        ...  # connect to server.host, server.port
        assert "\\Seen" in server.flags(uid)
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field
from types import TracebackType

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|\(([^)]*)\)|(\S+)')


@dataclass
class _Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


def _tokens(line: bytes) -> list[str]:
    out = []
    for m in _TOKEN.finditer(line):
        quoted, group, atom = m.groups()
        if quoted is not None:
            out.append(re.sub(rb"\\(.)", rb"\1", quoted).decode("utf-8", "replace"))
        elif group is not None:
            out.append("(" + group.decode("utf-8", "replace") + ")")
        else:
            out.append(atom.decode("utf-8", "replace"))
    return out


def _in_set(spec: str, number: int, highest: int) -> bool:
    for piece in spec.split(","):
        lo, _, hi = piece.partition(":")
        a = highest if lo == "*" else int(lo)
        b = a if not hi else (highest if hi == "*" else int(hi))
        if min(a, b) <= number <= max(a, b):
            return True
    return False


class _Handler(socketserver.StreamRequestHandler):
    server: _TCPServer

    def send(self, text: str | bytes) -> None:
        self.wfile.write((text.encode() if isinstance(text, str) else text) + b"\r\n")

    def handle(self) -> None:
        owner = self.server.owner
        owner.connections += 1
        self.send("* OK [CAPABILITY IMAP4rev1] casework test IMAP server ready")
        authenticated = False
        selected = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            owner.log.append(line.rstrip(b"\r\n").decode("utf-8", "replace"))
            parts = _tokens(line.rstrip(b"\r\n"))
            if len(parts) < 2:
                self.send("* BAD empty command")
                continue
            tag, command, args = parts[0], parts[1].upper(), parts[2:]
            uid_mode = False
            if command == "UID" and args:
                uid_mode, command, args = True, args[0].upper(), args[1:]
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            elif command == "LOGIN":
                if len(args) == 2 and args[0] == owner.user and args[1] == owner.password:
                    authenticated = True
                    self.send(f"{tag} OK LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
            elif not authenticated:
                self.send(f"{tag} BAD log in first")
            elif command in ("SELECT", "EXAMINE"):
                if args and args[0].upper() == owner.mailbox.upper():
                    selected = True
                    with owner.lock:
                        count, next_uid = len(owner.messages), owner.next_uid
                    self.send(f"* {count} EXISTS")
                    self.send("* 0 RECENT")
                    self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
                    self.send("* OK [UIDVALIDITY 1] UIDs valid")
                    self.send(f"* OK [UIDNEXT {next_uid}] predicted next UID")
                    mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                    self.send(f"{tag} OK [{mode}] {command} completed")
                else:
                    self.send(f"{tag} NO no such mailbox")
            elif not selected:
                self.send(f"{tag} BAD select a mailbox first")
            elif command == "SEARCH":
                self.search(tag, args, uid_mode)
            elif command == "FETCH" and len(args) >= 2:
                self.fetch(tag, args[0], " ".join(args[1:]).upper(), uid_mode)
            elif command == "STORE" and len(args) >= 3:
                self.store(tag, args[0], args[1].upper(), args[2], uid_mode)
            else:
                self.send(f"{tag} BAD unknown command {command}")

    def _numbered(self) -> list[tuple[int, _Stored]]:
        with self.server.owner.lock:
            return list(enumerate(self.server.owner.messages, start=1))

    def _matching(self, spec: str, uid_mode: bool) -> list[tuple[int, _Stored]]:
        rows = self._numbered()
        if not rows:
            return []
        highest = rows[-1][1].uid if uid_mode else rows[-1][0]
        return [(n, m) for n, m in rows if _in_set(spec, m.uid if uid_mode else n, highest)]

    def search(self, tag: str, args: list[str], uid_mode: bool) -> None:
        words = [a.upper() for a in args if a.upper() not in ("CHARSET", "UTF-8", "US-ASCII")]
        found = []
        for n, m in self._numbered():
            seen = "\\Seen" in m.flags
            if all(w == "ALL" or (w == "UNSEEN" and not seen) or (w == "SEEN" and seen) for w in words):
                found.append(m.uid if uid_mode else n)
        self.send("* SEARCH" + "".join(f" {x}" for x in found))
        self.send(f"{tag} OK SEARCH completed")

    def fetch(self, tag: str, spec: str, items: str, uid_mode: bool) -> None:
        items = items.strip("()")
        try:
            rows = self._matching(spec, uid_mode)
        except ValueError:
            self.send(f"{tag} BAD invalid sequence set")
            return
        for n, m in rows:
            head = f"* {n} FETCH (UID {m.uid}"
            with self.server.owner.lock:
                if "RFC822" in items.split() or "BODY[]" in items:
                    m.flags.add("\\Seen")  # a non-peek fetch marks the message read, as real servers do
                flags = " ".join(sorted(m.flags))
            if "FLAGS" in items.split():
                head += f" FLAGS ({flags})"
            name = "RFC822" if "RFC822" in items.split() else "BODY[]" if "BODY" in items else None
            if name is None:
                self.send(head + ")")
                continue
            self.wfile.write(f"{head} {name} {{{len(m.raw)}}}\r\n".encode() + m.raw + b")\r\n")
        self.send(f"{tag} OK FETCH completed")

    def store(self, tag: str, spec: str, how: str, flag_list: str, uid_mode: bool) -> None:
        flags = set(flag_list.strip("()").split())
        try:
            rows = self._matching(spec, uid_mode)
        except ValueError:
            self.send(f"{tag} BAD invalid sequence set")
            return
        for n, m in rows:
            with self.server.owner.lock:
                if how.startswith("+FLAGS"):
                    m.flags |= flags
                elif how.startswith("-FLAGS"):
                    m.flags -= flags
                else:
                    m.flags = set(flags)
                now = " ".join(sorted(m.flags))
            if ".SILENT" not in how:
                self.send(f"* {n} FETCH (UID {m.uid} FLAGS ({now}))")
        self.send(f"{tag} OK STORE completed")


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FakeImapServer


class FakeImapServer:
    def __init__(self, user: str = "intake", password: str = "secret", mailbox: str = "INBOX") -> None:
        self.user, self.password, self.mailbox = user, password, mailbox
        self.messages: list[_Stored] = []
        self.next_uid = 101  # UIDs need not start at 1 nor match sequence numbers
        self.lock = threading.Lock()
        self.log: list[str] = []  # the command lines received
        self.connections = 0
        self._server = _TCPServer(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def add(self, raw: bytes, *, seen: bool = False) -> int:
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.messages.append(_Stored(uid, raw, {"\\Seen"} if seen else set()))
            return uid

    def flags(self, uid: int) -> set[str]:
        with self.lock:
            return set(next(m.flags for m in self.messages if m.uid == uid))

    def start(self) -> FakeImapServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-imap", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeImapServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

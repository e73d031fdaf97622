"""Browser tests: the real application served by uvicorn on a free port, driven by Playwright in
Debian's chromium (never a downloaded browser).

One server and one SQLite database serve the whole e2e session; each test creates the cases it
needs. Accounts: an administrator, a supervisor and two case workers of the complaints team, a
customer (linked to a party) and a third party. Screenshots go to ``test-output/screenshots``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from casework.domain.access import Principal, Role
from casework.services import accounts, auth, parties, users
from casework.services.schemas import PartyCreate
from casework.store.migrate import upgrade
from casework.store.unit_of_work import Database

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
OUTPUT = Path(os.environ.get("CASEWORK_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output")) / "screenshots"
PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    role: Role
    id: Any
    principal: Principal


@dataclass(frozen=True)
class Site:
    url: str
    db: Database
    admin: Principal
    accounts: dict[str, Account]
    customer_party_id: Any
    other_party_id: Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _account(db: Database, admin: Principal, key: str, role: Role, **extra: Any) -> Account:
    email = f"{key}@example.test"
    name = extra.pop("name", key.replace("_", " ").title())
    view = accounts.create_account(db, admin, accounts.AccountCreate(name=name, email=email, role=role, password=PASSWORD, **extra))
    return Account(email, name, role, view.id, auth.load_principal(db, view.id))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from casework.api.app import create_app

    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'e2e.db'}"
    # No environment changes here: they would leak into the tests that run after this session
    # fixture. Documents go next to the SQLite file; Chromium keeps Secure cookies on loopback http.
    upgrade(url)
    db = Database(url)
    admin = users.system_principal(db)
    customer_party = parties.create_party(db, admin, PartyCreate(name="Claire Martin", email="claire@example.test"))
    other_party = parties.create_party(db, admin, PartyCreate(name="Oscar Other", email="oscar@example.test"))
    made = {
        "admin": _account(db, admin, "admin", Role.ADMINISTRATOR, name="Ada Admin"),
        "supervisor": _account(db, admin, "supervisor", Role.SUPERVISOR, teams=["complaints"], name="Sam Supervisor"),
        "worker": _account(db, admin, "worker", Role.CASE_WORKER, teams=["complaints"], name="Wendy Worker"),
        "worker2": _account(db, admin, "worker2", Role.CASE_WORKER, teams=["complaints"], name="Walt Worker"),
        "customer": _account(db, admin, "customer", Role.CUSTOMER, party_id=customer_party.id, name="Claire Martin"),
        "other_customer": _account(db, admin, "other_customer", Role.CUSTOMER, party_id=other_party.id, name="Oscar Other"),
        "partner": _account(db, admin, "partner", Role.THIRD_PARTY, name="Pat Partner"),
    }
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", db, admin, made, customer_party.id, other_party.id)
    server.should_exit = True
    thread.join(timeout=10)
    db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium); .ci/run does this")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@contextlib.contextmanager
def open_page(browser: Any, site: Site) -> Iterator[Any]:
    """A page in a browser context of its own (its own cookies); JavaScript errors fail the test."""
    context = browser.new_context(base_url=site.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    with open_page(browser, site) as pg:
        yield pg


def sign_in(page: Any, account: Account) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(account.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()[:2000]


def screenshot(page: Any, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_accessibility(page: Any, *, ignore: tuple[str, ...] = ()) -> None:
    """axe-core (vendored) over the current page: no WCAG 2.x A/AA violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    violations = [v for v in result["violations"] if v["id"] not in ignore]
    described = [f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in violations]
    assert not violations, "accessibility violations on " + page.url + ":\n" + "\n".join(described)

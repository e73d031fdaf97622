"""A realistic demo data set, loaded through the services layer only.

Everything here is orchestration of ``casework.services`` calls, so the demo data goes
through the same validation, phase rules, case-type criteria, decisions and audit trail as
real work. The content is deterministic for a given seed and date (identifiers, "now"
timestamps and the handler the routing table picks among equally busy colleagues aside): a
fictional retail bank, "Northbank", with complaints, support tickets, onboarding (KYC) cases
and disputed or fraudulent transactions, spread over the last six months and over every phase.

Each case is worked the way a handler would under its case type (``casework/casetypes``):
custom fields that satisfy the type's schema; screening recommendations accepted (or
overridden, or left waiting on new cases) and automatic screenings that open, refund or refuse
at intake; questionnaires answered before assessment ends; risk scores and priorities set by
the risk tables (recommendations accepted where the type asks for a person); plans created from
the type's templates and every task finished before implementation ends; closings with one of
the type's outcomes. Some cases arrive through the online channels and are routed by the
routing table. A case stops early, and waits in its phase, when the only criteria it misses are
documents: onboarding applicants send theirs (a passport, a utility bill, a company extract...), the
automated checks run, and the handler validates what needs a person; an expired passport is rejected
and a new one requested, so that case waits in assessment, and a few documents wait for review.
What the cases say (scenarios, names, texts) lives in :mod:`casework.demo_data`.

The demo creates accounts people can sign in with, all with the password ``DEMO_PASSWORD``:
an administrator, two supervisors, case workers in the teams that handle each case type
("complaints", "support", "onboarding", "fraud"), an auditor, two customers (linked to their
party, so they see their own cases) and an external investigator (a third party that some fraud
cases are shared with). Cases are worked by the members of their team, as the real thing would be.

Each service call is one durable transaction, so the generator keeps the number of calls
per case modest (about fifteen on average).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from casework.demo_data import (
    CUSTOMER_NOTES,
    EXTRA_GOALS,
    EXTRA_TEXT,
    FIRST_NAMES,
    GENERATORS,
    INBOUND_CHANNELS,
    INTERNAL_NOTES,
    LAST_NAMES,
    OUTCOMES,
    REOPEN_REASONS,
    RETURN_TO_ASSESSMENT,
    RETURN_TO_PLANNING,
    RISK_NOTES,
    SCREEN_OUT_OVERRIDES,
    SHARED_NOTES,
    SLA_DAYS,
    STREETS,
    THIRD_PARTY_TASKS,
    TOWNS,
    TYPE_WEIGHTS,
    CaseSpec,
)
from casework.demo_documents import specimen
from casework.domain.access import Principal, Role
from casework.domain.errors import CriteriaNotMet, NotFound
from casework.domain.lifecycle import ORDER, Phase
from casework.services import accounts, answers, auth, cases, casetypes, decisions, documents, lifecycle, notes, parties, plans, sharing
from casework.services.database import Database
from casework.services.document_checks import run_document_checks
from casework.services.documents import ChecklistState, DocumentStatus, ReviewDecision
from casework.services.schemas import (
    CaseCreate,
    CasePartyLink,
    CaseView,
    Channel,
    CommunicationCreate,
    Direction,
    GoalCreate,
    GoalStatus,
    GoalUpdate,
    NoteCreate,
    NoteVisibility,
    PartyCreate,
    PartyKind,
    PartyRole,
    TaskCreate,
    TaskStatus,
    TaskUpdate,
    TransitionRequest,
)
from casework.services.sharing import ShareCreate, SharePart
from casework.services.workflow_schemas import AnswersSubmit, DecisionPoint, DecisionResolve, DecisionStatus, DecisionView, QuestionView

HISTORY_DAYS = 182
DOMAIN = "northbank.example"

# ---------------------------------------------------------------- accounts and teams

#: The one password of every demo account, so people can sign in and try the product.
#: Demo data only: never load the demo into a database that holds real cases.
DEMO_PASSWORD = "casework-demo-2026"

#: The team that handles each case type; members of a team see its cases.
TEAMS = {
    "complaint": "complaints",
    "support_ticket": "support",
    "onboarding": "onboarding",
    "disputed_transaction": "fraud",
}

#: Staff accounts: name, role, teams. Case workers and supervisors handle the cases of their teams.
#: Kept to about a dozen accounts in all: each password hash (argon2) costs a noticeable fraction of a second.
STAFF: list[tuple[str, Role, tuple[str, ...]]] = [
    ("Hannah Clarke", Role.ADMINISTRATOR, ()),
    ("Amira Haddad", Role.SUPERVISOR, ("complaints", "support")),
    ("Sofia Marquez", Role.SUPERVISOR, ("fraud", "onboarding")),
    ("Tom Whitaker", Role.CASE_WORKER, ("complaints",)),
    ("Priya Raman", Role.CASE_WORKER, ("support",)),
    ("Grace Okafor", Role.CASE_WORKER, ("onboarding",)),
    ("Daniel Brennan", Role.CASE_WORKER, ("fraud",)),
    ("Mei Chen", Role.CASE_WORKER, ("fraud",)),
    ("Ruth Adler", Role.AUDITOR, ()),
]

#: Customers with an account (linked to their party), and one third party (an external investigator
#: that fraud cases are shared with).
CUSTOMERS: list[tuple[str, str]] = [
    ("Olivia Bennett", "olivia.bennett@mail.example"),
    ("Kwame Mensah", "kwame.mensah@post.example"),
]
THIRD_PARTY = ("Kestrel Investigations", "cases@kestrel-investigations.example")

#: Share of the cases that arrive through the online channels with no team: the routing table picks team and handler.
ROUTED_SHARE = 0.3


def _phase_weights(age_days: float) -> dict[str, int]:
    """Older cases are further along; "screened_out" is a close straight from screening."""
    if age_days < 2:
        return {"screening": 60, "assessment": 25, "risk": 5, "screened_out": 10}
    if age_days < 7:
        return {"screening": 40, "assessment": 30, "risk": 10, "planning": 8, "implementation": 4, "screened_out": 6, "closed": 2}
    if age_days < 30:
        return {"screening": 8, "assessment": 14, "risk": 11, "planning": 16, "implementation": 20, "follow_up": 9,
                "evaluation": 6, "screened_out": 8, "closed": 8}  # fmt: skip
    if age_days < 90:
        return {"screening": 2, "assessment": 5, "risk": 5, "planning": 9, "implementation": 16, "follow_up": 14,
                "evaluation": 10, "screened_out": 10, "closed": 29}  # fmt: skip
    return {"assessment": 2, "planning": 3, "implementation": 6, "follow_up": 7, "evaluation": 7, "screened_out": 15, "closed": 60}


Move = tuple[Phase, str | None, str | None]  # target, reason, outcome


@dataclass
class DemoAccount:
    """A demo account people can sign in with (all share :data:`DEMO_PASSWORD`)."""

    name: str
    email: str
    role: Role
    teams: tuple[str, ...] = ()


@dataclass
class DemoReport:
    cases: int = 0
    accounts: int = 0  # accounts created by this run (existing demo accounts are reused)
    parties: int = 0
    service_calls: int = 0
    documents: int = 0  # documents sent by onboarding applicants
    seconds: float = 0.0
    by_phase: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    sign_ins: list[DemoAccount] = field(default_factory=list)


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@" + DOMAIN


def _neutral_answer(question: QuestionView, day: dt.date) -> Any:
    """An answer to a question no scenario foresees (one a newer version of the case type added)."""
    if question.type == "multichoice":
        return question.options[:1]
    if question.options:
        return question.options[0]
    return {"boolean": False, "number": 0, "integer": 0, "date": day.isoformat()}.get(question.type, "Not known")


@dataclass
class _Case:
    """One demo case while it is worked: what the handler knows and still has to do."""

    key: uuid.UUID
    reference: str
    spec: CaseSpec
    handler: Principal
    customer: uuid.UUID
    customer_account: Principal | None
    opened: dt.datetime
    phase: Phase
    risk: int | None = None
    answered: bool = False
    documents_sent: bool = False
    goals: list[uuid.UUID] = field(default_factory=list)
    open_tasks: dict[uuid.UUID, Principal] = field(default_factory=dict)  # task -> who finishes it, in plan order

    @property
    def case_type(self) -> str:
        return self.spec.case_type


class _Loader:
    def __init__(self, db: Database, who: Principal, rng: random.Random, now: dt.datetime, report: DemoReport) -> None:
        self.db, self.who, self.rng, self.now, self.report = db, who, rng, now, report
        self.midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.handlers: dict[str, list[Principal]] = {}  # team -> its case workers and supervisors
        self.staff: dict[uuid.UUID, Principal] = {}
        self.customers: list[Principal] = []  # customers with an account
        self.third_party: Principal | None = None
        self.customer_queue: list[tuple[int, Principal]] = []  # (case index, customer) still to give a case
        self.shared_once = False
        self.people: list[uuid.UUID] = []
        self.birthdays: dict[uuid.UUID, dt.date] = {}
        self.registrations: dict[uuid.UUID, str] = {}
        self.organisations: dict[str, uuid.UUID] = {}
        self.merchants: dict[str, uuid.UUID] = {}
        self.modes: dict[str, dict[str, str]] = {}  # case type -> decision point -> automatic / recommend
        #: Open cases a screened-out contact can duplicate: (reference, spec, customer, their account).
        self.open_cases: dict[str, list[tuple[str, CaseSpec, uuid.UUID, Principal | None]]] = defaultdict(list)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.report.service_calls += 1
        return fn(*args, **kwargs)

    # ------------------------------------------------------------ accounts and reference data

    def account(self, cmd: accounts.AccountCreate) -> Principal:
        """The principal of a demo account, created (with the demo password) unless it exists already."""
        try:
            view = accounts.get_account(self.db, self.who, cmd.email)
        except NotFound:
            view = self.call(accounts.create_account, self.db, self.who, cmd)
            self.report.accounts += 1
        self.report.sign_ins.append(DemoAccount(view.name, view.email, view.role, tuple(view.teams)))
        principal: Principal = auth.load_principal(self.db, view.id)
        return principal

    def ensure_accounts(self) -> None:
        for name, role, teams in STAFF:
            cmd = accounts.AccountCreate(name=name, email=_email(name), role=role, teams=list(teams), password=DEMO_PASSWORD)
            principal = self.account(cmd)
            self.staff[principal.user_id] = principal
            if role in (Role.CASE_WORKER, Role.SUPERVISOR):
                for team in teams:
                    self.handlers.setdefault(team, []).append(principal)
        for name, email in CUSTOMERS:
            try:
                party_id = accounts.get_account(self.db, self.who, email).party_id
            except NotFound:
                party_id = None
            if party_id is None:
                party = self._person().model_copy(update={"name": name, "email": email})
                party_id = self.call(parties.create_party, self.db, self.who, party).id
                self.report.parties += 1
            born = self.call(parties.get_party, self.db, self.who, party_id).date_of_birth
            if born is not None:
                self.birthdays[party_id] = born
            cmd = accounts.AccountCreate(name=name, email=email, role=Role.CUSTOMER, party_id=party_id, password=DEMO_PASSWORD)
            self.customers.append(self.account(cmd))
        name, email = THIRD_PARTY
        self.third_party = self.account(accounts.AccountCreate(name=name, email=email, role=Role.THIRD_PARTY, password=DEMO_PASSWORD))

    def read_case_types(self) -> None:
        """Which decisions each case type takes automatically and which it only recommends."""
        self.call(casetypes.install_shipped, self.db, self.who)  # all at once: cheaper than one by one on first use
        for key in TEAMS:
            definition = self.call(casetypes.get_case_type, self.db, self.who, key).definition
            self.modes[key] = {point: binding["mode"] for point, binding in (definition.get("decisions") or {}).items()}

    def plan_customer_cases(self, count: int) -> None:
        """Give each demo customer a few cases, spread over the period, so they see something when they sign in."""
        if not self.customers or count < 1:
            return
        per_customer = max(2, count // 50)
        wanted = min(count, per_customer * len(self.customers))
        indices = sorted(self.rng.sample(range(count), k=wanted))
        self.customer_queue = [(i, self.customers[n % len(self.customers)]) for n, i in enumerate(indices)]

    def _person(self, born: tuple[int, int] = (1938, 2006)) -> PartyCreate:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        town, postcode = rng.choice(TOWNS)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        slug = f"{first}.{last}".lower().replace("'", "")
        return PartyCreate(
            kind=PartyKind.PERSON,
            name=f"{first} {last}",
            email=f"{slug}{rng.randint(1, 99)}@{rng.choice(['mail.example', 'post.example', 'inbox.example'])}",
            phone=f"+44 7700 9{rng.randint(0, 99999):05d}",
            address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {town} {postcode} "
            f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}",
            date_of_birth=dt.date(rng.randint(*born), rng.randint(1, 12), rng.randint(1, 28)),
        )

    def _organisation(self, name: str) -> PartyCreate:
        rng = self.rng
        town, postcode = rng.choice(TOWNS)
        slug = "".join(ch for ch in name.lower().split(" ltd")[0] if ch.isalnum())
        return PartyCreate(
            kind=PartyKind.ORGANISATION,
            name=name,
            email=f"accounts@{slug}.example",
            phone=f"+44 20 7946 0{rng.randint(0, 999):03d}",
            address=f"Unit {rng.randint(1, 40)}, {rng.choice(STREETS)}, {town} {postcode}",
            registration_number=f"{rng.randint(1000000, 15999999):08d}",
        )

    def _create_party(self, cmd: PartyCreate) -> uuid.UUID:
        party: uuid.UUID = self.call(parties.create_party, self.db, self.who, cmd).id
        self.report.parties += 1
        if cmd.date_of_birth is not None:
            self.birthdays[party] = cmd.date_of_birth
        if cmd.registration_number is not None:
            self.registrations[party] = cmd.registration_number
        return party

    def customer_for(self, index: int, spec: CaseSpec) -> tuple[uuid.UUID, Principal | None]:
        """The case's customer party, and their account if they have one.

        Organisations are one party per name; demo customers with an account get the personal cases
        planned for them; about a third of the other personal cases (not new applicants) come from a
        returning customer.
        """
        if spec.organisation is None and self.customer_queue and self.customer_queue[0][0] <= index:
            _, account = self.customer_queue.pop(0)
            assert account.party_id is not None
            return account.party_id, account
        if spec.organisation is not None:
            if spec.organisation not in self.organisations:
                self.organisations[spec.organisation] = self._create_party(self._organisation(spec.organisation))
            return self.organisations[spec.organisation], None
        if self.people and spec.born is None and self.rng.random() < 0.35:
            return self.rng.choice(self.people), None
        person = self._create_party(self._person(spec.born or (1938, 2006)))
        self.people.append(person)
        return person, None

    def merchant(self, name: str) -> uuid.UUID:
        if name not in self.merchants:
            self.merchants[name] = self._create_party(self._organisation(name))
        return self.merchants[name]

    # ------------------------------------------------------------ small steps a handler takes

    def note(self, key: uuid.UUID, actor: Principal, body: str, shared: bool = False) -> None:
        visibility = NoteVisibility.SHARED if shared else NoteVisibility.INTERNAL
        self.call(notes.add_note, self.db, actor, key, NoteCreate(body=body, visibility=visibility))

    def communicate(self, c: _Case, at: dt.datetime, direction: Direction, subject: str, body: str) -> None:
        outbound = [Channel.EMAIL, Channel.PHONE, Channel.LETTER]
        channel = self.rng.choice(INBOUND_CHANNELS if direction is Direction.INBOUND else outbound)
        cmd = CommunicationCreate(channel=channel, direction=direction, subject=subject, body=body, occurred_at=min(at, self.now),
                                  party_id=c.customer)  # fmt: skip
        self.call(notes.add_communication, self.db, c.handler, c.key, cmd)

    def move(self, c: _Case, to_phase: Phase, reason: str | None = None, outcome: str | None = None) -> CaseView:
        view: CaseView = self.call(
            lifecycle.transition_case, self.db, c.handler, c.key, TransitionRequest(to_phase=to_phase, reason=reason, outcome=outcome)
        )
        c.phase = view.phase
        return view

    def pending(self, c: _Case, point: DecisionPoint) -> DecisionView | None:
        """The recommendation waiting at ``point``, if any."""
        found = [
            d
            for d in self.call(decisions.list_decisions, self.db, c.handler, c.key)
            if d.point is point and d.status is DecisionStatus.PENDING
        ]
        return found[-1] if found else None

    def resolve(self, c: _Case, decision: DecisionView, outputs: dict[str, Any] | None = None, reason: str | None = None) -> CaseView:
        """Accept a recommendation (or override it with ``outputs`` and a reason); its outputs take effect."""
        command = DecisionResolve(outputs=outputs, reason=reason)
        result = self.call(decisions.resolve_decision, self.db, c.handler, c.key, decision.id, command)
        view: CaseView = result[1]
        c.phase = view.phase
        if view.risk_score is not None:
            c.risk = view.risk_score
        return view

    def answer(self, c: _Case, partial: bool = False) -> None:
        """Fill in the questionnaires with what the customer said; ``partial`` stops halfway through the interview."""
        for questionnaire, given in c.spec.answers.items():
            if partial:
                given = dict(list(given.items())[: max(1, len(given) // 2)])
            view = self.call(answers.submit_answers, self.db, c.handler, c.key, questionnaire, AnswersSubmit(answers=given))
            if partial:
                continue
            for _ in range(5):  # questions the scenario did not foresee (a newer case type) get a neutral answer
                if view.complete:
                    break
                filled = dict(view.answers)
                filled.update({q.key: _neutral_answer(q, c.opened.date()) for q in view.questions if q.key in view.missing})
                view = self.call(answers.submit_answers, self.db, c.handler, c.key, questionnaire, AnswersSubmit(answers=filled))
        c.answered = not partial

    def finish_task(self, c: _Case, task: uuid.UUID) -> None:
        actor = c.open_tasks.pop(task)
        status = TaskStatus.CANCELLED if actor is c.handler and self.rng.random() < 0.06 else TaskStatus.DONE
        self.call(plans.update_task, self.db, actor, c.key, task, TaskUpdate(status=status))

    def load_plan(self, c: _Case) -> None:
        """The goals and tasks the case type's templates created when the case entered planning."""
        for goal in self.call(plans.get_plan, self.db, c.handler, c.key):
            c.goals.append(goal.id)
            for task in sorted(goal.tasks, key=lambda t: (t.due_date or dt.date.max, t.title)):
                if task.status.value not in ("done", "cancelled"):
                    c.open_tasks[task.id] = c.handler

    def add_task(self, c: _Case, goal: uuid.UUID, title: str, assignee: Principal, due: dt.date | None = None) -> uuid.UUID:
        command = TaskCreate(title=title, assignee_id=assignee.user_id, due_date=due)
        task: uuid.UUID = self.call(plans.add_task, self.db, c.handler, c.key, goal, command).id
        c.open_tasks[task] = assignee
        return task

    def extra_goal(self, c: _Case) -> None:
        """The handler's own goal on top of the templates: a standard one, or one for a high-risk case."""
        high = c.risk is not None and c.risk >= 50
        title, task_titles = EXTRA_GOALS[c.case_type][1 if high else 0]
        goal: uuid.UUID = self.call(plans.add_goal, self.db, c.handler, c.key, GoalCreate(title=title)).id
        c.goals.append(goal)
        for i, task_title in enumerate(task_titles):
            self.add_task(c, goal, task_title, c.handler, (c.opened + dt.timedelta(days=SLA_DAYS[c.spec.priority] + 3 * i)).date())

    def share_with_third_party(self, c: _Case) -> None:
        """Share a dispute with the external investigator and give them a task."""
        if self.third_party is None or not c.goals:
            return
        share = ShareCreate(user_id=self.third_party.user_id, parts=[SharePart.TASKS, SharePart.NOTES])
        self.call(sharing.share_case, self.db, c.handler, c.key, share)
        self.add_task(c, c.goals[0], self.rng.choice(THIRD_PARTY_TASKS), self.third_party, (c.opened + dt.timedelta(days=10)).date())
        self.note(c.key, c.handler, "We have asked Kestrel Investigations to review the transaction evidence.", shared=True)
        self.shared_once = True

    def outcome(self, c: _Case) -> str:
        """A closing outcome from the type's list that fits the case."""
        weights = dict(OUTCOMES[c.case_type])
        kind = c.spec.custom_data.get("transaction_kind")
        if c.case_type == "disputed_transaction":
            if kind != "unauthorised_transfer":
                weights.pop("recalled", None)
            if kind not in ("card_charge", "online_purchase"):
                weights.pop("chargeback_raised", None)
        if c.case_type == "complaint" and not c.spec.answers["complaint_details"].get("regulator_contacted"):
            weights.pop("referred_to_ombudsman", None)
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # ------------------------------------------------------------ one case

    def moves(self, target: str) -> list[Move]:
        """The moves after assessment (which the screening decision enters) that take a case to ``target``."""
        rng = self.rng
        closing = target == "closed"
        stop = ORDER.index(Phase.EVALUATION if closing else Phase(target))
        risk_return = stop >= ORDER.index(Phase.PLANNING) and rng.random() < 0.07
        follow_up_return = stop >= ORDER.index(Phase.EVALUATION) and rng.random() < 0.14
        moves: list[Move] = []
        for phase in ORDER[2 : stop + 1]:
            moves.append((phase, None, None))
            if phase is Phase.RISK and risk_return:
                moves += [(Phase.ASSESSMENT, rng.choice(RETURN_TO_ASSESSMENT), None), (Phase.RISK, None, None)]
            if phase is Phase.FOLLOW_UP and follow_up_return:
                moves += [(Phase.PLANNING, rng.choice(RETURN_TO_PLANNING), None), (Phase.IMPLEMENTATION, None, None),
                          (Phase.FOLLOW_UP, None, None)]  # fmt: skip
        if closing:
            moves.append((Phase.CLOSED, None, ""))  # the outcome is chosen when the case closes
            if rng.random() < 0.06:
                moves.append((rng.choice([Phase.ASSESSMENT, Phase.PLANNING]), rng.choice(REOPEN_REASONS), None))
        return moves

    def screen(self, c: _Case, screen_out: bool, duplicate_of: str | None) -> None:
        """Act on the screening recommendation: accept it, or override it when the handler knows better."""
        decision = self.pending(c, DecisionPoint.SCREENING)
        if decision is None:  # the type recommends nothing at screening: the handler decides alone
            if screen_out:
                reason = f"Duplicate of {duplicate_of}" if duplicate_of else self.rng.choice(SCREEN_OUT_OVERRIDES)[1]
                self.move(c, Phase.CLOSED, reason, "screened_out")
            else:
                self.move(c, Phase.ASSESSMENT)
            return
        action = decision.outputs.get("action")
        if screen_out and action not in ("drop", "fast_track"):
            action, why = ("drop", f"Duplicate of {duplicate_of}") if duplicate_of else self.rng.choice(SCREEN_OUT_OVERRIDES)
            self.resolve(c, decision, {"action": action, "reason": why}, why)
        elif not screen_out and action != "open":
            why = "The customer's account of events needs a closer look"
            self.resolve(c, decision, {"action": "open", "reason": why}, why)
        else:
            self.resolve(c, decision)

    def finish_phase(self, c: _Case) -> None:
        """Meet the exit criteria of the current phase before moving on, as a handler would."""
        if c.phase is Phase.ASSESSMENT:
            if not c.answered:
                self.answer(c)
            if c.case_type == "onboarding" and not c.documents_sent:
                self.send_documents(c)
        elif c.phase is Phase.RISK and self.modes[c.case_type].get("risk") == "recommend":
            decision = self.pending(c, DecisionPoint.RISK)
            if decision is not None:
                self.resolve(c, decision)
        elif c.phase is Phase.PLANNING and not c.goals:
            self.extra_goal(c)  # a type without plan templates
        elif c.phase is Phase.IMPLEMENTATION:
            for task in list(c.open_tasks):
                self.finish_task(c, task)

    def send_documents(self, c: _Case) -> None:
        """The applicant's documents arrive (PDFs from the portal or by email), the automated checks run
        (what the background worker does after an upload), and the handler reviews what needs a person:
        an expired passport is rejected and a new one requested, which keeps the case in assessment."""
        c.documents_sent = True
        party = self.call(parties.get_party, self.db, self.who, c.customer)
        today = self.now.date()
        for item in self.call(documents.checklist, self.db, c.handler, c.key):
            if not item.required or item.state is not ChecklistState.MISSING:
                continue
            sent = specimen(item.kind, name=party.name, address=party.address, fields=c.spec.custom_data, today=today, rng=self.rng)
            view = self.call(documents.upload_document, self.db, c.handler, c.key, kind=item.kind, filename=sent.filename,
                             stream=[sent.data])  # fmt: skip
            view = self.call(run_document_checks, self.db, None, c.key, view.id, today=today)
            self.report.documents += 1
            if view.status not in (DocumentStatus.RECEIVED, DocumentStatus.IN_REVIEW):
                continue  # validated by its checks
            if sent.expired:
                self.call(documents.review_document, self.db, c.handler, c.key, view.id, ReviewDecision.REJECT,
                          "The passport has expired.")  # fmt: skip
                self.call(documents.request_document, self.db, c.handler, c.key, item.kind,
                          "The passport you sent has expired: please send a valid passport or identity card.")  # fmt: skip
            elif self.rng.random() < 0.9:  # a few wait in the review queue
                self.call(documents.review_document, self.db, c.handler, c.key, view.id, ReviewDecision.VALIDATE)

    def entered(self, c: _Case, view: CaseView, previous: Phase, first_time: bool, outcome: str | None) -> None:
        """What happens on the case once it is in its new phase."""
        rng = self.rng
        phase = c.phase
        returning = Phase.CLOSED not in (previous, phase) and ORDER.index(phase) < ORDER.index(previous)
        if view.risk_score is not None:
            c.risk = view.risk_score
        if phase is Phase.RISK and first_time and c.risk is not None and c.risk >= 60 and rng.random() < 0.6:
            self.note(c.key, c.handler, rng.choice(RISK_NOTES))
        elif phase is Phase.PLANNING and first_time:
            self.load_plan(c)
            high = c.risk is not None and c.risk >= 50
            if rng.random() < (0.5 if high else 0.2):
                self.extra_goal(c)
            if c.case_type == "disputed_transaction" and (not self.shared_once or rng.random() < 0.2):
                self.share_with_third_party(c)
        elif phase is Phase.PLANNING and returning and c.goals and rng.random() < 0.6:
            self.add_task(c, c.goals[0], "Agree the next action with the customer", c.handler)
        elif phase is Phase.IMPLEMENTATION and first_time and rng.random() < 0.4:
            self.communicate(c, c.opened + dt.timedelta(hours=rng.randint(4, 72)), Direction.OUTBOUND, f"Update on your case {c.reference}",
                             rng.choice(SHARED_NOTES[:3]))  # fmt: skip
        elif phase is Phase.FOLLOW_UP and first_time and rng.random() < 0.3:
            self.note(c.key, c.handler, SHARED_NOTES[2], shared=True)
        elif phase is Phase.CLOSED and previous is Phase.EVALUATION:
            if rng.random() < 0.4:
                for goal in c.goals:
                    self.call(plans.update_goal, self.db, c.handler, c.key, goal, GoalUpdate(status=GoalStatus.ACHIEVED))
            if rng.random() < 0.4:
                self.note(c.key, c.handler, f"Outcome: {(outcome or '').replace('_', ' ')}. " + SHARED_NOTES[3], shared=True)

    def settle(self, c: _Case) -> None:
        """Leave the case where it stops as it would be found mid-work."""
        rng = self.rng
        if c.phase is Phase.ASSESSMENT and not c.answered:
            roll = rng.random()
            if roll < 0.4:
                self.answer(c, partial=True)  # the interview is under way
            elif roll < 0.65:
                self.answer(c)  # ready to move on
        elif c.phase is Phase.RISK and self.modes[c.case_type].get("risk") == "recommend" and rng.random() < 0.5:
            decision = self.pending(c, DecisionPoint.RISK)
            if decision is not None:
                self.resolve(c, decision)
        elif c.phase is Phase.IMPLEMENTATION and c.open_tasks:
            for task in list(c.open_tasks)[: rng.randint(0, len(c.open_tasks) - 1)]:
                self.finish_task(c, task)
        if c.phase not in (Phase.CLOSED, Phase.SCREENING) and rng.random() < 0.35:
            decision = self.pending(c, DecisionPoint.NEXT_ACTION)
            if decision is not None:
                self.resolve(c, decision)

    def one_case(self, index: int, opened: dt.datetime) -> None:
        rng = self.rng
        case_type = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
        age_days = (self.midnight - opened).total_seconds() / 86400
        weights = _phase_weights(age_days)
        target = rng.choices(list(weights), weights=list(weights.values()))[0]
        automatic = self.modes[case_type].get("screening") == "automatic"
        if case_type == "onboarding" and target == "screened_out" and rng.random() < 0.7:
            target = "assessment"  # few applicants live in a sanctioned country
        screen_out = target == "screened_out"
        # Most contacts closed at screening look like it (feedback, a password reset); the handler closes the rest.
        spec = GENERATORS[case_type](rng, opened, screen_out and (automatic or rng.random() < 0.75))
        duplicate_of = None
        if screen_out and not automatic and self.open_cases[case_type] and rng.random() < 0.3:
            duplicate_of, original, customer, customer_account = rng.choice(self.open_cases[case_type])
            spec = dataclasses.replace(original, title=f"{original.title} (second contact)", answers=copy.deepcopy(original.answers),
                                       custom_data={**original.custom_data, "duplicate_of": duplicate_of})  # fmt: skip
        else:
            customer, customer_account = self.customer_for(index, spec)
        if case_type == "onboarding":
            self.applicant_fields(spec, customer)
        extra = rng.choice(EXTRA_TEXT)
        if case_type == "complaint" and extra == EXTRA_TEXT[-1]:  # "Second contact about this issue."
            spec.custom_data["repeat_complaint"] = True
            spec.answers["complaint_details"]["raised_before"] = True

        team = TEAMS[case_type]
        routed = rng.random() < ROUTED_SHARE
        handler = rng.choice(self.handlers[team])
        assigned = not routed and (target not in ("screening", "screened_out") or rng.random() < 0.4)
        view: CaseView = self.call(
            cases.create_case,
            self.db,
            self.who if routed else handler,  # online intake has no team: the routing table picks one and a handler
            CaseCreate(
                case_type=case_type,
                title=spec.title,
                description=spec.description + extra,
                priority=spec.priority,
                assignee_id=handler.user_id if assigned else None,
                team=None if routed else team,
                customer_party_id=customer,
                custom_data=spec.custom_data,
                due_date=(opened + dt.timedelta(days=SLA_DAYS[spec.priority])).date(),
            ),
            opened_at=opened,
        )
        if routed and view.assignee_id is not None:
            handler = self.staff.get(view.assignee_id) or auth.load_principal(self.db, view.assignee_id)
        c = _Case(view.id, view.reference, spec, handler, customer, customer_account, opened, view.phase)
        self.report.cases += 1
        self.report.by_type[case_type] += 1
        if rng.random() < 0.55:
            self.communicate(c, opened + dt.timedelta(minutes=rng.randint(1, 90)), Direction.INBOUND, spec.title, spec.description)
        if rng.random() < 0.25:
            self.note(c.key, handler, rng.choice(INTERNAL_NOTES))
        if spec.merchant and rng.random() < 0.3:
            link = CasePartyLink(party_id=self.merchant(spec.merchant), role=PartyRole.THIRD_PARTY)
            self.call(parties.link_party, self.db, handler, c.key, link)

        if c.phase is Phase.SCREENING and target != "screening":
            self.screen(c, screen_out, duplicate_of)
        if c.phase is Phase.ASSESSMENT:
            if customer_account is not None and rng.random() < 0.6:
                self.note(c.key, customer_account, rng.choice(CUSTOMER_NOTES), shared=True)
            elif rng.random() < 0.35:
                self.note(c.key, handler, rng.choice(INTERNAL_NOTES))
            self.walk(c, target)
        self.settle(c)
        self.report.by_phase[c.phase.value] += 1
        if c.phase is not Phase.CLOSED and not automatic:
            self.open_cases[case_type].append((c.reference, spec, customer, customer_account))

    def applicant_fields(self, spec: CaseSpec, party: uuid.UUID) -> None:
        """An applicant's date of birth or registration number, as on their party record."""
        if spec.custom_data.get("customer_type") == "organisation":
            number = self.registrations.get(party)
            if number is not None:
                spec.custom_data["registration_number"] = number
            return
        born = self.birthdays.get(party) or dt.date(self.rng.randint(*(spec.born or (1950, 2004))), 6, 15)
        spec.custom_data["date_of_birth"] = born.isoformat()

    def walk(self, c: _Case, target: str) -> None:
        """Work the case from assessment towards ``target``, meeting each phase's criteria on the way."""
        seen = {Phase.SCREENING, Phase.ASSESSMENT}
        for to_phase, reason, outcome in self.moves(target) if target not in ("screening", "screened_out") else []:
            previous = c.phase
            forward = previous is not Phase.CLOSED and (to_phase is Phase.CLOSED or ORDER.index(to_phase) > ORDER.index(previous))
            if forward:
                self.finish_phase(c)
            if outcome is not None:
                outcome = self.outcome(c)
            try:
                view = self.move(c, to_phase, reason, outcome)
            except CriteriaNotMet as exc:
                # Only documents may hold a case back (an expired passport waits for its replacement).
                if not all(message.startswith("documents not received") for message in exc.unmet):
                    raise
                return
            first_time = to_phase not in seen
            seen.add(to_phase)
            self.entered(c, view, previous, first_time, outcome)


def load_demo(
    db: Database,
    who: Principal,
    *,
    cases: int = 300,
    seed: int = 42,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Create ``cases`` demo cases, plus the demo accounts and customers.

    ``who`` sets things up (accounts, parties) and must be an administrator, normally the system
    principal; it also opens the cases that arrive online, which the routing table hands to a team.
    The cases are worked by the demo case workers and supervisors of the team that handles each
    case type. ``progress`` is told after each case.
    """
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    rng = random.Random(seed)
    report = DemoReport()
    loader = _Loader(db, who, rng, now, report)
    loader.ensure_accounts()
    loader.read_case_types()
    loader.plan_customer_cases(cases)
    # Cases open on the days before today, more of them recently (the service is growing), mostly in
    # working hours; ages count from midnight so the data set depends on the seed and the date only.
    # Cases are created in date order so that references grow with the opening date.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    openings = []
    for _ in range(cases):
        days_ago = 1 + int((HISTORY_DAYS - 1) * rng.random() ** 1.5)
        hour = rng.choice([8, 9, 9, 10, 10, 11, 12, 13, 14, 14, 15, 16, 17, 19, 22])
        time_of_day = dt.timedelta(hours=hour, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
        openings.append(midnight - dt.timedelta(days=days_ago) + time_of_day)
    for index, opened in enumerate(sorted(openings)):
        loader.one_case(index, opened)
        if progress is not None:
            progress(1)
    report.seconds = time.perf_counter() - started
    return report

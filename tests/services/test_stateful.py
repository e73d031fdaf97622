"""Random sequences of service calls against a real database, checking invariants after every step.

A hypothesis state machine opens cases and drives them with transitions (to any phase, with
or without reason, outcome and version), field updates, notes, assignments and plan changes,
valid or not. It keeps a model of what each case should look like and checks after every
step that:

* the phase history is contiguous, starts with the opening and ends in the current phase;
* status matches the phase; a closed case has an outcome and closed_at, an open one neither;
* every successful change appended exactly one audit entry for its case (changes with no
  effect none), and a refused command appended none and left the case as it was (version
  included);
* every read of the case or its history appended exactly one access entry, and nothing else
  did (phase history and plan reads are not access-audited);
* the whole audit chain verifies.

Each example runs on a fresh database: a copy of the migrated SQLite template, or the
per-worker PostgreSQL schema emptied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from casework.domain.errors import DomainError, InvalidInput, NotFound, PreconditionFailed, StaleVersion
from casework.domain.lifecycle import MoveKind, Phase, Priority, Status, allowed_targets, history_is_contiguous, status_for
from casework.services import cases, casetypes, history, lifecycle, notes, plans, users
from casework.services.schemas import (
    AssignRequest,
    CaseCreate,
    CaseUpdate,
    CaseView,
    GoalCreate,
    NoteCreate,
    TaskCreate,
    TaskStatus,
    TaskUpdate,
    TransitionRequest,
)
from casework.store.unit_of_work import Database
from tests.conftest import _truncate_all, fresh_sqlite, remove_sqlite
from tests.domain.test_lifecycle import oracle
from tests.factories import ACCESS, audit_count, make_account

PLAIN_OUTCOMES = {"because"}
PLAIN_TYPE = """
key: plain
version: 1
name: Plain case
fields: {type: object, additionalProperties: false, properties: {note: {type: string}}}
outcomes: [because]
"""

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# PostgreSQL commits are durable (synchronous_commit on), so each step costs more there; the
# rules are the same, and SQLite gets the larger share of the examples.
EXAMPLES = {"sqlite": 25, "postgres": 10}

texts = st.sampled_from([None, "", "   ", "because", "  new facts  "])
titles = st.sampled_from(["Refund", "  Refund  ", "Chargeback", "Lost card"])
# How the caller states the version it edited: not at all, right, stale, or in If-Match.
version_modes = st.sampled_from(["none", "body", "stale body", "if-match", "stale if-match"])


@dataclass
class Expected:
    phase: Phase = Phase.SCREENING
    outcome: str | None = None
    version: int = 1
    audit: int = 1  # change entries
    reads: int = 0  # access entries
    moves: int = 1
    title: str = "Refund"
    priority: Priority = Priority.P3
    assignee: uuid.UUID | None = None
    team: str | None = None
    goals: list[uuid.UUID] = field(default_factory=list)
    tasks: dict[uuid.UUID, TaskStatus] = field(default_factory=dict)


def _versions(mode: str, current: int) -> tuple[int | None, int | None, type[DomainError] | None]:
    """(body version, If-Match, the error the version check must raise)."""
    return {
        "none": (None, None, None),
        "body": (current, None, None),
        "stale body": (current + 1, None, StaleVersion),
        "if-match": (None, current, None),
        "stale if-match": (current, max(current - 1, 1) if current > 1 else current + 3, PreconditionFailed),
    }[mode]


def make_machine(fresh_db: Any) -> type[RuleBasedStateMachine]:
    class CaseMachine(RuleBasedStateMachine):
        case_ids = Bundle("cases")

        def __init__(self) -> None:
            super().__init__()
            self.db: Database = fresh_db()
            self.actor = users.system_principal(self.db)
            self.staff = [make_account(self.db, self.actor, f"{n}@example.org").id for n in ("ann", "ben")]
            # A case type without criteria, decisions or templates, so the lifecycle rules alone decide.
            casetypes.install_source(self.db, self.actor, PLAIN_TYPE)
            self.model: dict[uuid.UUID, Expected] = {}
            # Each case as last read; the invariants re-read every case after every step, so this
            # is the state a command starts from (reads are audited writes, so they cost a commit).
            self.views: dict[uuid.UUID, CaseView] = {}

        def teardown(self) -> None:
            self.db.dispose()
            if self.db.dialect == "sqlite":
                remove_sqlite(Path(self.db.engine.url.database or ""))

        # ---------------------------------------------------------- helpers

        def read(self, case_id: uuid.UUID) -> CaseView:
            """Read the case as the system user; every read is one access entry on the case."""
            view = cases.get_case(self.db, self.actor, case_id)
            self.model[case_id].reads += 1
            self.views[case_id] = view
            return view

        def attempt(self, case_id: uuid.UUID, expected_error: type[DomainError] | None, call: Any) -> Any:
            """Run a command; a refused one must raise the expected error and change nothing."""
            before = self.views[case_id] if case_id in self.views else self.read(case_id)
            entries = audit_count(self.db)
            if expected_error is not None:
                with pytest.raises(expected_error):
                    call()
                assert audit_count(self.db) == entries  # not even an access entry
                assert self.read(case_id) == before
                return None
            return call()

        def changed(self, case_id: uuid.UUID, *, bumps_version: bool) -> None:
            exp = self.model[case_id]
            exp.audit += 1
            if bumps_version:
                exp.version += 1

        # ---------------------------------------------------------- rules

        @initialize(target=case_ids)
        def first_case(self) -> uuid.UUID:
            return self.open_case_now()

        @precondition(lambda self: len(self.model) < 3)
        @rule(target=case_ids)
        def open_case(self) -> uuid.UUID:
            return self.open_case_now()

        def open_case_now(self) -> uuid.UUID:
            case_id: uuid.UUID = cases.create_case(self.db, self.actor, CaseCreate(case_type="plain", title="Refund")).id
            self.model[case_id] = Expected()
            return case_id

        @rule(
            case_id=case_ids,
            pick=st.integers(0, 7),
            among_allowed=st.booleans(),
            reason=texts,
            outcome=texts,
            mode=version_modes,
        )
        def transition(
            self, case_id: uuid.UUID, pick: int, among_allowed: bool, reason: str | None, outcome: str | None, mode: str
        ) -> None:
            exp = self.model[case_id]
            choices = allowed_targets(exp.phase) if among_allowed else list(Phase)
            target = choices[pick % len(choices)]
            version, if_match, version_error = _versions(mode, exp.version)
            planned = oracle(exp.phase, target, reason, outcome)
            error = version_error or (planned if isinstance(planned, type) else None)
            if error is None and planned is MoveKind.CLOSE and (outcome or "").strip() not in PLAIN_OUTCOMES:
                error = InvalidInput  # not one of the case type's outcomes
            cmd = TransitionRequest(to_phase=target, reason=reason, outcome=outcome, version=version)
            view = self.attempt(case_id, error, lambda: lifecycle.transition_case(self.db, self.actor, case_id, cmd, if_match=if_match))
            if view is None:
                return
            assert not isinstance(planned, type)
            exp.phase = target
            exp.moves += 1
            if planned is MoveKind.CLOSE:
                exp.outcome = (outcome or "").strip()
            elif planned is MoveKind.REOPEN:
                exp.outcome = None
            self.changed(case_id, bumps_version=True)

        @rule(
            case_id=case_ids,
            title=st.none() | titles,
            priority=st.none() | st.sampled_from(list(Priority)),
            mode=version_modes,
        )
        def update(self, case_id: uuid.UUID, title: str | None, priority: Priority | None, mode: str) -> None:
            exp = self.model[case_id]
            version, if_match, error = _versions(mode, exp.version)
            if mode == "none":
                error = InvalidInput
            given: dict[str, Any] = {"version": version}
            if title is not None:
                given["title"] = title
            if priority is not None:
                given["priority"] = priority
            cmd = CaseUpdate(**given)
            view = self.attempt(case_id, error, lambda: cases.update_case(self.db, self.actor, case_id, cmd, if_match=if_match))
            if view is None:
                return
            new_title = title.strip() if title is not None else exp.title
            new_priority = priority or exp.priority
            if (new_title, new_priority) != (exp.title, exp.priority):
                exp.title, exp.priority = new_title, new_priority
                self.changed(case_id, bumps_version=True)

        @rule(case_id=case_ids, who=st.integers(0, 3), team=st.sampled_from(["unset", None, "fraud", "complaints"]), mode=version_modes)
        def assign(self, case_id: uuid.UUID, who: int, team: str | None, mode: str) -> None:
            exp = self.model[case_id]
            assignee = [None, *self.staff, uuid.uuid4()][who]
            version, if_match, error = _versions(mode, exp.version)
            if error is None and who == 3:
                error = NotFound  # an unknown user
            cmd = (
                AssignRequest(assignee_id=assignee, version=version)
                if team == "unset"
                else AssignRequest(assignee_id=assignee, team=team, version=version)
            )
            view = self.attempt(case_id, error, lambda: cases.assign_case(self.db, self.actor, case_id, cmd, if_match=if_match))
            if view is None:
                return
            new_team = exp.team if team == "unset" else team
            if (assignee, new_team) != (exp.assignee, exp.team):
                exp.assignee, exp.team = assignee, new_team
                self.changed(case_id, bumps_version=True)
            assert (view.assignee_id, view.team) == (exp.assignee, exp.team)

        @rule(case_id=case_ids, body=st.sampled_from(["Called the customer", "  Sent a letter  ", "x" * 500]))
        def add_note(self, case_id: uuid.UUID, body: str) -> None:
            note = notes.add_note(self.db, self.actor, case_id, NoteCreate(body=body))
            assert note.body == body.strip()
            self.changed(case_id, bumps_version=False)  # notes do not edit the case row

        @rule(case_id=case_ids)
        def add_goal(self, case_id: uuid.UUID) -> None:
            goal = plans.add_goal(self.db, self.actor, case_id, GoalCreate(title="Put it right"))
            self.model[case_id].goals.append(goal.id)
            self.changed(case_id, bumps_version=False)

        @rule(case_id=case_ids, pick=st.integers(0, 10))
        def add_task(self, case_id: uuid.UUID, pick: int) -> None:
            exp = self.model[case_id]
            if not exp.goals:
                self.attempt(case_id, NotFound, lambda: plans.add_task(self.db, self.actor, case_id, uuid.uuid4(), TaskCreate(title="t")))
                return
            goal_id = exp.goals[pick % len(exp.goals)]
            task = plans.add_task(self.db, self.actor, case_id, goal_id, TaskCreate(title="Call back"))
            exp.tasks[task.id] = TaskStatus.TODO
            self.changed(case_id, bumps_version=False)

        @precondition(lambda self: any(e.tasks for e in self.model.values()))
        @rule(data=st.data(), status=st.sampled_from(list(TaskStatus)))
        def update_task(self, data: st.DataObject, status: TaskStatus) -> None:
            case_id = data.draw(st.sampled_from(sorted(c for c, e in self.model.items() if e.tasks)))
            exp = self.model[case_id]
            task_id = data.draw(st.sampled_from(sorted(exp.tasks)))
            task = plans.update_task(self.db, self.actor, case_id, task_id, TaskUpdate(status=status))
            assert task.status is status
            assert (task.completed_at is not None) == (status is TaskStatus.DONE)
            if exp.tasks[task_id] is not status:
                exp.tasks[task_id] = status
                self.changed(case_id, bumps_version=False)

        # ---------------------------------------------------------- invariants

        @invariant()
        def cases_match_the_model(self) -> None:
            for case_id, exp in self.model.items():
                view = self.read(case_id)
                assert (view.phase, view.version, view.title, view.priority) == (exp.phase, exp.version, exp.title, exp.priority)
                assert (view.assignee_id, view.team) == (exp.assignee, exp.team)
                assert view.status is status_for(view.phase)
                assert view.allowed_transitions == allowed_targets(view.phase)
                if view.status is Status.CLOSED:
                    assert view.outcome and view.closed_at is not None
                    assert view.outcome == exp.outcome
                else:
                    assert view.outcome is None and view.closed_at is None

                moves = lifecycle.phase_history(self.db, self.actor, case_id)
                pairs = [(m.from_phase.value if m.from_phase else None, m.to_phase.value) for m in moves]
                assert history_is_contiguous(pairs)
                assert len(moves) == exp.moves
                assert moves[-1].to_phase is view.phase
                assert [m.seq for m in moves] == list(range(1, len(moves) + 1))

                entries = history.case_history(self.db, self.actor, case_id, include_access=True)
                exp.reads += 1  # the history read lists its own access entry
                changes = [e for e in entries if not e.action.startswith(ACCESS)]
                reads = [e for e in entries if e.action.startswith(ACCESS)]
                assert len(changes) == exp.audit
                assert len(reads) == exp.reads
                assert changes[0].action == "case.create"
                assert sum(e.action == "case.transition" for e in changes) == exp.moves - 1
                assert all(e.action == "access.case.read" and e.actor_id == self.actor.user_id for e in reads)
                assert {e.data["part"] for e in reads} == {"case", "history"}
                assert entries[-1].data == {"part": "history", "client": None}

        @invariant()
        def audit_chain_verifies(self) -> None:
            report = history.verify_audit(self.db, self.actor)
            assert report.ok, report.message
            # Every entry belongs to a case, except the creation of the three users and the case type's installation.
            assert report.checked == sum(e.audit + e.reads for e in self.model.values()) + 4

    return CaseMachine


def test_random_service_calls_keep_the_invariants(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        directory: Path = request.getfixturevalue("sqlite_dir")

        def fresh_db() -> Database:
            return Database(f"sqlite:///{fresh_sqlite(template, directory)}")

    else:
        url: str = request.getfixturevalue("postgres_url")

        def fresh_db() -> Database:
            database = Database(url)
            _truncate_all(database)
            return database

    run_state_machine_as_test(make_machine(fresh_db), settings=settings(SETTINGS, max_examples=EXAMPLES[backend]))

"""Plans: goals split into tasks, each change audited against its case."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import log as audit
from casework.domain.access import Perm, Principal, Role
from casework.domain.errors import Forbidden, NotFound
from casework.services.common import apply_changes, check_version, load, load_case, require
from casework.services.schemas import GoalCreate, GoalUpdate, GoalView, TaskCreate, TaskUpdate, TaskView
from casework.services.sharing import shared_parts
from casework.store.models import Goal, Task, User
from casework.store.types import utcnow
from casework.store.unit_of_work import Database


def _goal_on_case(s: Session, case_id: uuid.UUID, goal_id: uuid.UUID) -> Goal:
    goal = s.get(Goal, goal_id)
    if goal is None or goal.case_id != case_id:
        raise NotFound(f"goal {goal_id} not found on this case", field="goal_id")
    return goal


def add_goal(db: Database, who: Principal, key: str | uuid.UUID, cmd: GoalCreate) -> GoalView:
    require(who, Perm.PLAN_MANAGE)
    with db.write() as s:
        case = load_case(s, key, who)
        goal = Goal(case_id=case.id, title=cmd.title, description=cmd.description)
        s.add(goal)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="plan.goal.add", case_id=case.id, data={"goal_id": goal.id, "title": goal.title})
        return GoalView.model_validate(goal)


def update_goal(db: Database, who: Principal, key: str | uuid.UUID, goal_id: uuid.UUID, cmd: GoalUpdate) -> GoalView:
    require(who, Perm.PLAN_MANAGE)
    with db.write() as s:
        case = load_case(s, key, who)
        goal = _goal_on_case(s, case.id, goal_id)
        check_version(goal.version, cmd.version, None)
        changes = apply_changes(goal, cmd.model_dump(exclude_unset=True, exclude={"version"}), required=("title",))
        if changes:
            audit.append(s, actor_id=who.user_id, action="plan.goal.update", case_id=case.id, data={"goal_id": goal.id, "changes": changes})
            s.flush()
        view = GoalView.model_validate(goal)
        view.tasks = [TaskView.model_validate(t) for t in s.scalars(select(Task).where(Task.goal_id == goal.id).order_by(Task.created_at))]
        return view


def add_task(db: Database, who: Principal, key: str | uuid.UUID, goal_id: uuid.UUID, cmd: TaskCreate) -> TaskView:
    require(who, Perm.PLAN_MANAGE)
    with db.write() as s:
        case = load_case(s, key, who)
        goal = _goal_on_case(s, case.id, goal_id)
        if cmd.assignee_id:
            load(s, User, cmd.assignee_id, "user", "assignee_id")
        task = Task(case_id=case.id, goal_id=goal.id, title=cmd.title, assignee_id=cmd.assignee_id, due_date=cmd.due_date)
        s.add(task)
        s.flush()
        audit.append(s, actor_id=who.user_id, action="plan.task.add", case_id=case.id,
                     data={"goal_id": goal.id, "task_id": task.id, "title": task.title, "assignee_id": task.assignee_id,
                           "due_date": task.due_date})  # fmt: skip
        return TaskView.model_validate(task)


def update_task(db: Database, who: Principal, key: str | uuid.UUID, task_id: uuid.UUID, cmd: TaskUpdate) -> TaskView:
    require(who, Perm.TASK_UPDATE)
    with db.write() as s:
        case = load_case(s, key, who)
        task = s.get(Task, task_id)
        if task is None or task.case_id != case.id or not _task_visible(s, who, task):
            raise NotFound(f"task {task_id} not found on this case", field="task_id")
        check_version(task.version, cmd.version, None)
        given = cmd.model_dump(exclude_unset=True, exclude={"version"})
        if not who.can(Perm.PLAN_MANAGE) and set(given) - {"status"}:
            raise Forbidden("you may only change the status of a task assigned to you")
        if given.get("assignee_id"):
            load(s, User, given["assignee_id"], "user", "assignee_id")
        changes = apply_changes(task, given, required=("title",))
        if "status" in changes:
            task.completed_at = utcnow() if task.status == "done" else None
        if changes:
            audit.append(s, actor_id=who.user_id, action="plan.task.update", case_id=case.id, data={"task_id": task.id, "changes": changes})
            s.flush()
        return TaskView.model_validate(task)


def _task_visible(s: Session, who: Principal, task: Task) -> bool:
    """A third party sees only the tasks assigned to them, and only while the case shares its tasks."""
    if who.role is not Role.THIRD_PARTY:
        return True
    return task.assignee_id == who.user_id and "tasks" in shared_parts(s, who, task.case_id)


def get_plan(db: Database, who: Principal, key: str | uuid.UUID) -> list[GoalView]:
    require(who, Perm.PLAN_READ)
    with db.read() as s:
        case = load_case(s, key, who)
        goals = s.scalars(select(Goal).where(Goal.case_id == case.id).order_by(Goal.created_at, Goal.id)).all()
        tasks = s.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.created_at, Task.id)).all()
        tasks = [t for t in tasks if _task_visible(s, who, t)]
        views = []
        for g in goals:
            v = GoalView.model_validate(g)
            v.tasks = [TaskView.model_validate(t) for t in tasks if t.goal_id == g.id]
            if who.role is not Role.THIRD_PARTY or v.tasks:
                views.append(v)
        return views

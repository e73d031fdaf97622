"""Turns a principal's visibility into a SQL condition, so lists and counts never leak cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import false, or_, select, true

from casework.domain.access import Principal, Visibility
from casework.store.models import Case, CaseShare


def active_share_condition(now: dt.datetime) -> Any:
    return (CaseShare.revoked_at.is_(None)) & or_(CaseShare.expires_at.is_(None), CaseShare.expires_at > now)


def visible_cases(who: Principal, now: dt.datetime) -> Any:
    vis = who.visibility
    if vis is Visibility.ALL:
        return true()
    if vis is Visibility.TEAMS:
        conds = [Case.assignee_id == who.user_id]
        if who.teams:
            conds.append(Case.team.in_(sorted(who.teams)))
        return or_(*conds)
    if vis is Visibility.CUSTOMER:
        return Case.customer_party_id == who.party_id if who.party_id else false()
    shared = select(CaseShare.case_id).where(CaseShare.user_id == who.user_id, active_share_condition(now))
    return Case.id.in_(shared)

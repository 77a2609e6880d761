"""Deadlines of rectification cases: working days in Shanghai, and when a case is overdue.

Weekends are skipped; statutory holidays and their swapped working weekends (调休) are not
modelled (they change every year by State Council notice), so around a holiday the due day
may be a holiday or a day early or late.
"""
from __future__ import annotations

from datetime import date, timedelta

from api.localtime import local_today

CASE_WORKING_DAYS = 3


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself never counts)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def case_due_on(opened: int | float) -> date:
    return add_working_days(local_today(opened), CASE_WORKING_DAYS)


def is_overdue(case, *, now: int) -> bool:
    """Still open after its due day, or resolved after it."""
    if case.status == "open":
        return local_today(now) > case.due_on
    return case.resolved_on is not None and case.resolved_on > case.due_on


def overdue_clause(now: int):
    """`is_overdue` as SQL over rating_cases (indexed by status, due_on)."""
    from sqlalchemy import and_, or_

    from api.ratings.models import RatingCase
    today = local_today(now)
    return or_(and_(RatingCase.status == "open", RatingCase.due_on < today),
               and_(RatingCase.status == "resolved", RatingCase.resolved_on > RatingCase.due_on))

"""The rules of family links: ages (in Shanghai's calendar), limits, and a link's status now."""
from __future__ import annotations

from datetime import date

from api.localtime import local_today

ADULT_AGE = 18              # a minor's link ends on their 18th birthday, by itself
ELDER_AGE = 60              # 老年人: who may be added as an elder
MAX_DEPENDENTS = 5          # live (pending or active) links per guardian
MAX_GUARDIANS = 3           # active guardians per elder
LINK_ATTEMPTS = "10/day"    # link requests per guardian, failures included (registry probing)
CLERK_CONSENTS = "60/hour"  # in-person agreements recorded per clerk
CONSENT_VENUE_KINDS = ("community", "government")   # 社区事务受理中心, 政务服务中心


def anniversary(born: date, years: int) -> date:
    """The day someone born on `born` turns `years`; 29 February counts from 1 March."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def age_on(born: date, today: date) -> int:
    years = today.year - born.year
    return years if today >= anniversary(born, years) else years - 1


def comes_of_age_on(born: date | None) -> date | None:
    return anniversary(born, ADULT_AGE) if born else None


def effective_status(status: str, relation: str, born: date | None, now: int) -> tuple[str, str | None]:
    """(status, ended_reason override) as of `now`: a minor's active or pending link has ended on
    their 18th birthday even if nothing has written that yet (checked on every use)."""
    if relation == "minor_child" and status in ("active", "pending"):
        adult_on = comes_of_age_on(born)
        if adult_on is None or local_today(now) >= adult_on:
            return "ended", "came_of_age"
    return status, None

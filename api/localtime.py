"""Shanghai local time, the one place the service turns epoch seconds into local dates.

Everything that depends on the calendar (ages, licence validity, quiet hours, daily caps,
working days) uses these, with `now` passed in by the caller.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_datetime(now: int | float) -> datetime:
    return datetime.fromtimestamp(now, LOCAL_TZ)


def local_today(now: int | float) -> date:
    return local_datetime(now).date()


def local_day_start(now: int | float) -> int:
    """Epoch seconds of local midnight starting the day that contains `now`."""
    return int(local_datetime(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp())

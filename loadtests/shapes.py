"""Load shapes: the morning peak (ramp → plateau → 3× spike → back) and a soak.

Chosen by the locustfile from SSB_SHAPE (`peak`, `soak`, `steps`); sizes from SSB_SHAPE_USERS
(plateau users) and SSB_SHAPE_SECONDS (whole run), so the same shape runs for 60 s on a laptop
and for an hour before a release.
"""
from __future__ import annotations

import os

from locust import LoadTestShape


def _env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


class MorningPeak(LoadTestShape):
    """07:30-09:00 compressed: ramp to the plateau (30 %), hold (30 %), 3× spike (a train
    emptying onto the gates, a top-of-the-hour push: 15 %), back to the plateau (25 %)."""

    def __init__(self) -> None:
        super().__init__()
        self.users = int(_env("SSB_SHAPE_USERS", 60))
        self.seconds = _env("SSB_SHAPE_SECONDS", 90)
        self.spike = _env("SSB_SHAPE_SPIKE", 3.0)

    def phases(self) -> list[tuple[float, int, float]]:
        """(end second, users, spawn rate) per phase."""
        s, u = self.seconds, self.users
        return [(0.30 * s, u, max(1.0, u / (0.25 * s))), (0.60 * s, u, u),
                (0.75 * s, int(u * self.spike), u * self.spike), (s, u, u * self.spike)]

    def tick(self):
        t = self.get_run_time()
        for end, users, rate in self.phases():
            if t < end:
                return users, rate
        return None


class Soak(LoadTestShape):
    """A constant moderate load for a long time: leaks, pool exhaustion, growing Redis keys."""

    def __init__(self) -> None:
        super().__init__()
        self.users = int(_env("SSB_SHAPE_USERS", 40))
        self.seconds = _env("SSB_SHAPE_SECONDS", 3600)

    def tick(self):
        if self.get_run_time() >= self.seconds:
            return None
        return self.users, max(1.0, self.users / 10)


class Steps(LoadTestShape):
    """Capacity measurement: users step up evenly over SSB_SHAPE_STEPS steps; the capacity report
    credits the highest step whose p95 held the target for its sustain window."""

    def __init__(self) -> None:
        super().__init__()
        self.users = int(_env("SSB_SHAPE_USERS", 80))
        self.seconds = _env("SSB_SHAPE_SECONDS", 90)
        self.steps = int(_env("SSB_SHAPE_STEPS", 4))

    def tick(self):
        t = self.get_run_time()
        if t >= self.seconds:
            return None
        step = int(t // (self.seconds / self.steps)) + 1
        users = max(1, round(self.users * step / self.steps))
        return users, users


SHAPES = {"peak": MorningPeak, "soak": Soak, "steps": Steps}

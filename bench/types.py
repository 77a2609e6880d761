"""What benchmark modules declare; the harness (bench/__main__.py) runs them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    """One hot endpoint driven by the load generator against our app under gunicorn.

    The same request is replayed for the whole run, so choose requests that stay valid when
    repeated (a code verified in a non-replay scene, a read). `bodies` may instead give a list
    of JSON bodies the generator cycles through (for one-time payloads, pre-made in setup)."""

    name: str                                   # e.g. "GET /v1/me"
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: dict | None = None
    bodies: list[dict] | Callable[[], list[dict]] | None = None   # a callable is called per round
    expect_status: int = 200


@dataclass(frozen=True)
class MicroResult:
    """An in-process comparison: our operation vs a baseline measured in the same run."""

    name: str
    ours_per_s: float
    baseline_name: str
    baseline_per_s: float
    unit: str = "ops/s"
    aim: float | None = None                    # ratio the issue asks for, if any

    @property
    def ratio(self) -> float:
        return self.ours_per_s / self.baseline_per_s if self.baseline_per_s else 0.0


@dataclass
class BenchContext:
    """Given to `scenarios(ctx)`: a running app and helpers to create data through its API."""

    base_url: str
    http: object                                # httpx.Client on base_url
    login: object                               # login(phone, device_id="bench") -> token dict
    operator_token: object                      # operator_token() -> access token with operator role
    flask_cli: object                           # flask_cli(*args) runs `flask --app wsgi ...` with the bench env
    env: dict = field(default_factory=dict)

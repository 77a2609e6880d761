"""The request deadline's bookkeeping (api.db_deadline), which needs no database: how much time
a request's database work has left, nested bounds, and the WSGI middleware that starts the clock.
The deadline's effect on a frozen PostgreSQL is tested in test_frozen_stores.py."""
from __future__ import annotations

import time

import pytest

from api import db_deadline


def test_outside_any_deadline_nothing_is_bounded():
    assert db_deadline.remaining() is None


def test_within_bounds_the_work_and_an_inner_bound_never_extends_the_outer():
    with db_deadline.within(2.0):
        outer = db_deadline.remaining()
        assert 1.5 < outer <= 2.0
        with db_deadline.within(10.0):
            assert db_deadline.remaining() <= outer
        with db_deadline.within(0.5):
            assert db_deadline.remaining() <= 0.5
        assert db_deadline.remaining() == pytest.approx(outer, abs=0.2)
    assert db_deadline.remaining() is None


def test_the_middleware_starts_each_request_with_its_own_deadline_and_clears_it():
    seen = []

    def wsgi_app(environ, start_response):
        seen.append(db_deadline.remaining())
        return [b"ok"]

    app = db_deadline.RequestDeadline(wsgi_app, 3.0)
    assert app({}, None) == [b"ok"]
    time.sleep(0.01)
    app({}, None)
    assert all(2.5 < left <= 3.0 for left in seen)
    assert db_deadline.remaining() is None


def test_the_deadline_is_cleared_even_when_the_request_fails():
    def failing(environ, start_response):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db_deadline.RequestDeadline(failing, 3.0)({}, None)
    assert db_deadline.remaining() is None

"""Fixtures for the attack tests: an operator and a venue, made through the CLI and the API."""
from __future__ import annotations

import pytest

from tests.conftest import bearer

OPERATOR = "13900000099"


def promote(app, phone: str, *roles: str) -> None:
    args = ["create-admin", "--phone", phone]
    for role in roles or ("operator",):
        args += ["--role", role]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output


@pytest.fixture
def operator(app, login):
    promote(app, OPERATOR)
    return bearer(login(OPERATOR, device_id="op"))


@pytest.fixture
def make_venue(client, operator):
    def _make(name: str = "黄浦区车管所", kind: str = "government") -> dict:
        r = client.post("/v1/admin/venues", headers=operator,
                        json={"name": name, "address": "中山南路 1 号", "district": "黄浦区", "kind": kind})
        assert r.status_code == 201, r.json
        return r.json

    return _make


@pytest.fixture
def venue(make_venue):
    return make_venue()

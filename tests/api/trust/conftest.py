"""Trust federation fixtures: a fake peer platform on loopback, an operator who registers it,
and the 随申码 venue/staff fixtures (a transit venue whose staff scan general/transport/veteran)."""
from __future__ import annotations

import pytest

from tests.api.codes.conftest import (  # noqa: F401  (fixtures)
    get_code,
    make_venue,
    operator,
    resident,
    staff,
    venue,
    verify,
)
from tests.fakes.peer_platform import FakePeerPlatform

PEERS = "/v1/admin/trust/peers"


@pytest.fixture(autouse=True)
def quick_fetches(app, monkeypatch):
    """Short timeouts so the slow-peer tests take a second or two, not the production ten. Not
    shorter: on a loaded 2-core CI machine a loopback connect once took more than 400 ms."""
    cfg = app.extensions["ssb.config"]
    monkeypatch.setattr(cfg, "TRUST_FETCH_TIMEOUT_MS", 1000)
    monkeypatch.setattr(cfg, "TRUST_FETCH_DEADLINE_MS", 1500)
    return cfg


@pytest.fixture
def peer():
    with FakePeerPlatform() as platform:
        yield platform


@pytest.fixture
def now(clock):
    return lambda: int(clock())


@pytest.fixture
def register(client, operator):  # noqa: F811 - the imported fixture
    def _register(platform: FakePeerPlatform, **overrides):
        body = {"name": "苏服办", "region": "320000", "issuer": platform.issuer, "jwks_url": platform.jwks_url,
                "token_types": [platform.typ], "scenes": ["general", "transport"], **overrides}
        return client.post(PEERS, headers=operator, json=body)

    return _register


@pytest.fixture
def refresh(client, operator):  # noqa: F811 - the imported fixture
    def _refresh(peer_id: int):
        r = client.post(f"{PEERS}/{peer_id}/refresh", headers=operator)
        assert r.status_code == 200, r.json
        return r.json

    return _refresh


@pytest.fixture
def trusted_peer(peer, register, refresh):
    """The fake platform registered and its keys fetched once."""
    r = register(peer)
    assert r.status_code == 201, r.json
    view = refresh(r.json["id"])
    assert view["key_status"] == "current", view
    return view

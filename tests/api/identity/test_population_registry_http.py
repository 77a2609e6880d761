"""The population registry's HTTP client (api.identity.population.HttpPopulationRegistry) against
a loopback fake speaking the registry's protocol, and real-name verification through it."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

import pytest

from api.extensions import db
from api.identity.population import HttpPopulationRegistry, RegistryUnavailable, registry_from_config
from tests.conftest import bearer
from tests.factories import resident_id
from tests.fakes.population_registry_server import FakePopulationRegistry

KEY = "registry-key"
ZHANG = resident_id("310101", "19900307", "123")


@pytest.fixture
def registry():
    with FakePopulationRegistry(KEY) as fake:
        fake.add(ZHANG, "张三", "1990-03-07", district="徐汇区", hukou=True, attributes={"veteran": True})
        yield fake


def lookup(client, number=ZHANG):
    return client.lookup(id_type="resident_id", id_number=number, blind_index="bidx")


def test_a_signed_lookup_finds_the_person(registry):
    person = lookup(HttpPopulationRegistry(registry.url, KEY))
    assert (person.name, person.birth_date, person.district, person.hukou) == ("张三", date(1990, 3, 7), "徐汇区", True)
    assert person.attributes == {"veteran": True} and person.guardian_bidxs == ()
    [request] = registry.requests
    ts = request["headers"]["X-Timestamp"]
    assert request["headers"]["X-Signature"] == hmac.new(KEY.encode(), ts.encode() + b"\n" + request["body"],
                                                         hashlib.sha256).hexdigest()
    assert json.loads(request["body"]) == {"id_type": "resident_id", "id_number": ZHANG}


def test_someone_the_registry_does_not_know_is_none(registry):
    assert lookup(HttpPopulationRegistry(registry.url, KEY), resident_id("310101", "19800101", "001")) is None


@pytest.mark.parametrize("failure", ["fail_next", "garble_next"])
def test_a_server_error_or_an_answer_that_is_not_json_is_unavailable(registry, failure):
    setattr(registry, failure, 1)
    with pytest.raises(RegistryUnavailable):
        lookup(HttpPopulationRegistry(registry.url, KEY))


def test_an_answer_outside_the_protocol_is_unavailable(registry):
    registry.persons[("resident_id", ZHANG)] = {"birth_date": "1990-03-07"}       # no name
    with pytest.raises(RegistryUnavailable, match="malformed"):
        lookup(HttpPopulationRegistry(registry.url, KEY))
    registry.persons[("resident_id", ZHANG)] = {"name": "张三", "birth_date": "07/03/1990"}
    with pytest.raises(RegistryUnavailable, match="malformed"):
        lookup(HttpPopulationRegistry(registry.url, KEY))


def test_a_wrong_key_is_refused_by_the_registry(registry):
    with pytest.raises(RegistryUnavailable, match="HTTPStatusError"):
        lookup(HttpPopulationRegistry(registry.url, "not-the-key"))


def test_a_slow_registry_times_out(registry):
    registry.delay = 1.0
    with pytest.raises(RegistryUnavailable, match="Timeout"):
        lookup(HttpPopulationRegistry(registry.url, KEY, timeout=0.2))


# ---------------------------------------------------------------------------- through the API

@pytest.fixture
def http_registry(app, registry, monkeypatch):
    """The app's registry built from REGISTRY_BACKEND=http:<fake>, as create_app builds it."""
    built = registry_from_config(f"http:{registry.url}", KEY, lambda: db.session,
                                 blind_index=app.extensions["ssb.pii"].blind_index)
    assert isinstance(built, HttpPopulationRegistry)
    monkeypatch.setitem(app.extensions, "ssb.population_registry", built)
    return built


def verify(client, tokens, name="张三"):
    return client.post("/v1/me/real-name", headers=bearer(tokens),
                       json={"name": name, "id_type": "resident_id", "id_number": ZHANG})


def test_real_name_verified_through_the_http_registry(client, login, http_registry, registry):
    tokens = login()
    assert verify(client, tokens, name="李四").json["error"] == "REAL_NAME_MISMATCH"
    r = verify(client, tokens)
    assert r.status_code == 200 and r.json["real_name"]["verified"] is True
    assert len(registry.requests) == 2


def test_a_registry_outage_is_503_and_binds_nothing(client, login, http_registry, registry):
    tokens = login()
    registry.fail_next = 1
    r = verify(client, tokens)
    assert r.status_code == 503 and r.json["error"] == "UPSTREAM_UNAVAILABLE"
    assert client.get("/v1/me", headers=bearer(tokens)).json["real_name"]["verified"] is False
    assert verify(client, tokens).status_code == 200

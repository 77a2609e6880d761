"""Operators register peer platforms: what is accepted, what is refused, who may do it."""
import pytest

from tests.api.trust.conftest import PEERS


def test_an_operator_registers_a_peer_and_its_keys_are_pending(client, operator, peer, register):
    r = register(peer, name="苏服办", region="320500", algorithms=["ES256", "EdDSA"])
    assert r.status_code == 201, r.json
    assert r.json["issuer"] == peer.issuer and r.json["region_name"] == "江苏省苏州市"
    assert r.json["key_status"] == "pending" and r.json["keys"] == [] and r.json["last_refresh"] is None
    assert r.json["algorithms"] == ["ES256", "EdDSA"] and r.json["scenes"] == ["general", "transport"]
    listed = client.get(PEERS, headers=operator).json["items"]
    assert [p["id"] for p in listed] == [r.json["id"]]


def test_registering_enqueues_a_first_refresh(app, peer, register):
    assert register(peer).status_code == 201
    queue = app.extensions["ssb.broker"].client.lrange("ssb-jobs:trust", 0, -1)
    assert len(queue) == 1


def test_residents_and_staff_may_not_register_peers(client, resident, staff, peer):
    body = {"name": "x", "region": "320000", "issuer": "https://x", "jwks_url": "https://x/jwks.json",
            "token_types": ["x+jwt"], "scenes": ["general"]}
    for headers in (resident, staff):
        assert client.post(PEERS, headers=headers, json=body).status_code == 403
        assert client.get(PEERS, headers=headers).status_code == 403


def test_a_duplicate_issuer_is_refused(peer, register):
    assert register(peer).status_code == 201
    for issuer in (peer.issuer, peer.issuer.upper() + "/"):
        r = register(peer, issuer=issuer)
        assert r.status_code == 409 and r.json["error"] == "PEER_ISSUER_TAKEN"


@pytest.mark.parametrize("issuer", ["https://ssb.sh.gov.cn", "https://SSB.sh.gov.cn/"])
def test_our_own_issuer_is_refused(peer, register, issuer):
    r = register(peer, issuer=issuer)
    assert r.status_code == 422 and r.json["error"] == "PEER_ISSUER_IS_OURS"


@pytest.mark.parametrize("url", [
    "http://zwfw.jiangsu.gov.cn/jwks.json",          # plain http to the internet
    "http://10.0.0.8/jwks.json",
    "http://localhost.evil.example/jwks.json",
    "http://127.0.0.1@evil.example/jwks.json",      # userinfo trick
    "https://user:pw@zwfw.jiangsu.gov.cn/jwks.json",
    "ftp://zwfw.jiangsu.gov.cn/jwks.json",
    "file:///etc/passwd",
    "https://zwfw.jiangsu.gov.cn/jwks.json#x",
    "https:///jwks.json",
    "https://zwfw.jiangsu.gov.cn:99999/jwks.json",
])
def test_unacceptable_jwks_urls_are_refused(peer, register, url):
    r = register(peer, jwks_url=url)
    assert r.status_code == 422 and r.json["error"] == "PEER_URL_NOT_ALLOWED", r.json


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081/jwks.json", "http://localhost/jwks.json",
                                 "http://[::1]:9000/jwks.json", "https://zwfw.jiangsu.gov.cn/.well-known/jwks.json"])
def test_https_and_loopback_http_are_accepted(peer, register, url):
    assert register(peer, jwks_url=url).status_code == 201


@pytest.mark.parametrize("region", ["310000", "320000", "320500", "320583", "330100", "341800"])
def test_delta_regions_are_accepted(peer, register, region):
    assert register(peer, region=region).status_code == 201


@pytest.mark.parametrize("region", ["110000", "350100", "320099", "320001", "3200", "32000a", "329900", "341400"])
def test_regions_outside_the_delta_are_refused(peer, register, region):
    r = register(peer, region=region)
    assert r.status_code == 422 and "region" in r.json["errors"]


@pytest.mark.parametrize("algorithms", [["RS256"], ["HS256"], ["none"], ["EdDSA", "ES384"], []])
def test_algorithms_other_than_eddsa_and_es256_are_refused(peer, register, algorithms):
    r = register(peer, algorithms=algorithms)
    assert r.status_code == 422 and "algorithms" in r.json["errors"]


@pytest.mark.parametrize("typ", ["ssb-code+jwt", "at+jwt", "ssb-trust-list+jwt"])
def test_our_own_token_types_are_reserved(peer, register, typ):
    r = register(peer, token_types=[typ])
    assert r.status_code == 422 and r.json["error"] == "PEER_TYPE_RESERVED"


def test_unknown_scenes_and_fields_are_refused(peer, register):
    assert register(peer, scenes=["casino"]).status_code == 422
    assert register(peer, scenes=[]).status_code == 422
    assert register(peer, trusted=True).status_code == 422


def test_one_peer_shows_its_recent_refreshes(client, operator, trusted_peer, refresh):
    refresh(trusted_peer["id"])
    r = client.get(f"{PEERS}/{trusted_peer['id']}", headers=operator)
    assert r.status_code == 200
    assert [x["status"] for x in r.json["refreshes"]] == ["not_modified", "ok"]
    assert client.get(f"{PEERS}/999999", headers=operator).json["error"] == "PEER_NOT_FOUND"
    assert client.post(f"{PEERS}/999999/refresh", headers=operator).json["error"] == "PEER_NOT_FOUND"


def test_removing_a_peer_frees_its_issuer(client, operator, trusted_peer, peer, register):
    assert client.delete(f"{PEERS}/{trusted_peer['id']}", headers=operator).status_code == 204
    assert client.get(PEERS, headers=operator).json["items"] == []
    assert client.delete(f"{PEERS}/{trusted_peer['id']}", headers=operator).status_code == 404
    assert register(peer).status_code == 201

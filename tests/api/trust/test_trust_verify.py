"""POST /v1/verify with a peer platform's code: accepted only under that peer's registration,
recorded as a peer scan, replay-protected like ours; and every way an attacker might bend it."""
import base64
import json

import pytest
from sqlalchemy import select

from tests.api.trust.conftest import PEERS
from tests.fakes.peer_platform import FakeKey, FakePeerPlatform, b64, b64json


def _scans(app):
    from api.extensions import db
    from api.trust.models import PeerScan
    with app.app_context():
        return [(s.issuer, s.sub, s.scene, s.venue_id) for s in db.session.scalars(select(PeerScan))]


def test_a_trusted_peers_code_is_accepted_and_names_the_issuer(app, trusted_peer, peer, verify, venue, now):
    r = verify(peer.issue_code(now=now(), scene="general"))
    assert r.status_code == 200, r.json
    assert r.json["valid"] is True and r.json["scene"] == "general"
    assert r.json["issuer"] == {"name": "苏服办", "region": "320000", "region_name": "江苏省"}
    assert r.json["holder"] == {"name": None, "real_name_verified": False}
    assert r.json["venue"]["id"] == venue["id"]
    assert _scans(app) == [(peer.issuer, "js-holder-5c1e", "general", venue["id"])]


def test_es256_peers_are_verified_too(register, refresh, verify, now):
    with FakePeerPlatform(issuer="https://zlb.zj.gov.cn", typ="zj-code+jwt", alg="ES256") as zj:
        created = register(zj, name="浙里办", region="330100")
        assert created.status_code == 201, created.json
        refresh(created.json["id"])
        r = verify(zj.issue_code(now=now(), scene="transport"))
    assert r.status_code == 200, r.json
    assert r.json["issuer"]["region_name"] == "浙江省杭州市"


def test_our_own_codes_carry_no_issuer_member(trusted_peer, verify, get_code, resident):
    r = verify(get_code(resident))
    assert r.status_code == 200 and "issuer" not in r.json


def test_a_peer_transport_code_is_single_use(trusted_peer, peer, verify, now):
    code = peer.issue_code(now=now(), scene="transport")
    assert verify(code).status_code == 200
    r = verify(code)
    assert r.status_code == 409 and r.json["error"] == "CODE_REPLAYED"


def test_time_checks_use_our_leeway(trusted_peer, peer, verify, now, clock):
    code = peer.issue_code(now=now(), scene="general", ttl=60)
    clock.advance(60 + 9)
    assert verify(code).status_code == 200
    clock.advance(2)
    assert verify(code).json["error"] == "CODE_EXPIRED"
    future = peer.issue_code(now=now() + 30, scene="general")
    assert verify(future).json["error"] == "CODE_NOT_YET_VALID"


def test_staff_are_checked_before_anything_about_the_code(client, login, trusted_peer, peer, venue, now):
    from tests.conftest import bearer
    stranger = bearer(login("13900000077", device_id="x"))
    r = client.post("/v1/verify", headers=stranger, json={"payload": peer.issue_code(now=now()),
                                                          "venue_id": venue["id"]})
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"


# ------------------------------------------------------------------------------- attackers


def test_an_unknown_issuer_is_refused_as_not_ours(trusted_peer, verify, now):
    with FakePeerPlatform(issuer="https://evil.example") as evil:
        r = verify(evil.issue_code(now=now()))
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_ISSUER"


def test_a_peers_key_never_signs_for_our_issuer(trusted_peer, peer, verify, now):
    for typ in ("ssb-code+jwt", peer.typ):
        r = verify(peer.issue_code(now=now(), iss="https://ssb.sh.gov.cn", typ=typ))
        assert r.status_code == 422 and r.json["error"] in ("CODE_UNKNOWN_KEY", "CODE_WRONG_TYPE"), r.json


def test_a_peer_cannot_sign_as_another_peer(trusted_peer, peer, register, refresh, verify, now):
    with FakePeerPlatform(issuer="https://www.ahzwfw.gov.cn", typ="ah-code+jwt") as anhui:
        refresh(register(anhui, name="皖事通", region="340000").json["id"])
        # Jiangsu's key, Anhui's issuer and typ: only Anhui's key set is tried.
        forged = peer.sign(anhui.claims(now=now()), typ="ah-code+jwt")
        assert verify(forged).json["error"] == "CODE_UNKNOWN_KEY"
        # Same, with Jiangsu copying the kid of Anhui's key.
        anhui_kid = anhui.signing_key.kid
        peer.keys.append(FakeKey(kid=anhui_kid, alg="EdDSA", private=peer.signing_key.private))
        forged = peer.sign(anhui.claims(now=now()), kid=anhui_kid, typ="ah-code+jwt")
        assert verify(forged).json["error"] == "CODE_BAD_SIGNATURE"


def test_a_withdrawn_key_stops_verifying_at_the_next_refresh(trusted_peer, peer, refresh, verify, now):
    old = peer.signing_key.kid
    new = peer.rotate()
    refresh(trusted_peer["id"])
    assert verify(peer.issue_code(now=now(), kid=old, scene="general")).status_code == 200
    assert verify(peer.issue_code(now=now(), kid=new, scene="general")).status_code == 200
    peer.withdraw(old)
    view = refresh(trusted_peer["id"])
    assert [k["kid"] for k in view["keys"]] == [new]
    r = verify(peer.issue_code(now=now(), kid=old, scene="general"))
    assert r.status_code == 422 and r.json["error"] == "CODE_UNKNOWN_KEY"


def test_a_scene_the_peer_is_not_trusted_for_is_refused(trusted_peer, peer, verify, now):
    r = verify(peer.issue_code(now=now(), scene="veteran"))   # the venue and staff accept veteran; we don't trust it
    assert r.status_code == 403 and r.json["error"] == "CODE_SCENE_NOT_TRUSTED"


def test_a_scene_the_venue_does_not_accept_is_refused(client, operator, peer, register, refresh, verify, now):
    refresh(register(peer, scenes=["general", "medical"]).json["id"])
    r = verify(peer.issue_code(now=now(), scene="medical"))   # a transit venue
    assert r.status_code == 403 and r.json["error"] == "SCENE_NOT_ALLOWED"


@pytest.mark.parametrize("member", [
    {"jku": "JWKS"}, {"jwk": "KEY"}, {"x5u": "http://127.0.0.1:9/cert.pem"}, {"x5c": ["MIIB"]},
    {"crit": ["exp"]},
])
def test_codes_naming_or_carrying_their_own_key_are_refused_and_nothing_is_fetched(
        trusted_peer, peer, verify, now, member):
    attacker = FakeKey.generate()
    value = next(iter(member.values()))
    if value == "JWKS":
        member = {"jku": peer.url + "/attacker-jwks.json"}
    if value == "KEY":
        member = {"jwk": attacker.jwk()}
    peer.keys.append(attacker)   # signed with the attacker's own key, which the header offers
    fetched_before = len(peer.requests)
    r = verify(peer.issue_code(now=now(), scene="general", kid=attacker.kid, header=member))
    assert r.status_code == 422 and r.json["error"] == "CODE_HEADER_NOT_ALLOWED"
    assert len(peer.requests) == fetched_before


def test_a_token_type_the_peer_did_not_register_is_refused(trusted_peer, peer, verify, now):
    r = verify(peer.issue_code(now=now(), typ="js-licence+jwt"))
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_TYPE"


def test_algorithm_confusion_is_refused(trusted_peer, peer, verify, now):
    claims = peer.claims(now=now(), scene="general")
    unsigned = b64json({"alg": "none", "typ": peer.typ, "kid": peer.signing_key.kid}) + "." + b64json(claims) + "."
    assert verify(unsigned).json["error"] == "CODE_BAD_SIGNATURE"
    es_header = b64json({"alg": "ES256", "typ": peer.typ, "kid": peer.signing_key.kid})
    signing_input = es_header + "." + b64json(claims)
    forged = signing_input + "." + b64(peer.signing_key.sign(signing_input.encode()))
    assert verify(forged).json["error"] == "CODE_BAD_SIGNATURE"


def test_a_tampered_peer_code_is_refused(trusted_peer, peer, verify, now):
    head, body, sig = peer.issue_code(now=now(), scene="general").split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "someone-else"
    assert verify(f"{head}.{b64json(claims)}.{sig}").json["error"] == "CODE_BAD_SIGNATURE"


def test_a_removed_peer_is_refused_at_once(client, operator, trusted_peer, peer, verify, now):
    code = peer.issue_code(now=now(), scene="general")
    assert client.delete(f"{PEERS}/{trusted_peer['id']}", headers=operator).status_code == 204
    assert verify(code).json["error"] == "CODE_WRONG_ISSUER"


def test_keys_of_a_peer_unreachable_too_long_stop_verifying(app, trusted_peer, peer, refresh, verify, now, clock,
                                                           monkeypatch):
    monkeypatch.setattr(app.extensions["ssb.config"], "TRUST_KEYS_MAX_AGE", 600)   # within a sign-in's life
    peer.mode = "error"
    clock.advance(600 - 60)
    assert refresh(trusted_peer["id"])["key_status"] == "stale"
    assert verify(peer.issue_code(now=now(), scene="general")).status_code == 200   # last good keys
    clock.advance(120)
    view = refresh(trusted_peer["id"])
    assert view["key_status"] == "expired" and view["last_refresh"]["key_count"] == 0
    r = verify(peer.issue_code(now=now(), scene="general"))
    assert r.status_code == 503 and r.json["error"] == "CODE_ISSUER_KEYS_EXPIRED"


def test_a_registered_peer_whose_keys_were_never_fetched_is_refused(peer, register, verify, now):
    assert register(peer).status_code == 201
    r = verify(peer.issue_code(now=now(), scene="general"))
    assert r.status_code == 503 and r.json["error"] == "CODE_ISSUER_KEYS_EXPIRED"


def test_garbage_claiming_a_peer_issuer_is_never_a_server_error(trusted_peer, peer, verify, now):
    claims = peer.claims(now=now(), scene="general")
    for bad in ({**claims, "exp": "soon"}, {**claims, "scn": "casino"}, {**claims, "sub": 7},
                {**claims, "nbf": claims["exp"]}, {k: v for k, v in claims.items() if k != "jti"}):
        r = verify(peer.sign(bad))
        assert r.status_code == 422 and r.json["error"] == "MALFORMED_CODE", (bad, r.json)


# ------------------------------------------------------------------------------- retention


def test_peer_scans_and_refresh_records_are_purged_after_the_retention(app, trusted_peer, peer, verify, now, clock):
    from api.extensions import db
    from api.trust.models import TrustRefresh
    assert verify(peer.issue_code(now=now(), scene="general")).status_code == 200
    runner = app.test_cli_runner()
    assert "'scans': 0" in runner.invoke(args=["trust", "purge"]).output
    clock.advance(30 * 86400 + 1)
    out = runner.invoke(args=["trust", "purge"]).output
    assert "'scans': 1" in out and "'refreshes': 1" in out
    assert _scans(app) == []
    with app.app_context():
        assert db.session.scalars(select(TrustRefresh)).all() == []


def test_a_peer_scan_keeps_only_the_pseudonym(app, trusted_peer, peer, verify, now):
    from api.trust.models import PeerScan
    verify(peer.issue_code(now=now(), scene="general", sub="js-8d2f", name="王五", id_number="320583199001011234"))
    assert {c.name for c in PeerScan.__table__.columns} == {
        "id", "peer_id", "issuer", "sub", "jti", "scene", "venue_id", "staff_user_id", "scanned_at"}
    assert _scans(app)[0][1] == "js-8d2f"

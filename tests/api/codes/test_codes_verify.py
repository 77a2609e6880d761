"""Staff verify codes: each kind of bad payload is refused with its own code and never a 500."""
import base64
import json
import threading

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import bearer


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _claims(payload):
    return jwt.decode(payload, options={"verify_signature": False})


def _sign(app, claims, typ="ssb-code+jwt", headers=None):
    import qr
    with app.app_context():
        from api.extensions import get_keyring
        ring = get_keyring()
        return qr.sign(claims, typ=typ, ring=ring) if headers is None else jwt.encode(
            claims, ring.signing_key().private_key, algorithm="EdDSA", headers=headers)


def test_staff_verify_a_code_and_the_scan_shows_in_the_access_log(client, verified_resident, verify, get_code,
                                                                   venue):
    r = verify(get_code(verified_resident))
    assert r.status_code == 200, r.json
    assert r.json["valid"] is True and r.json["verdict"] == "accepted" and r.json["scene"] == "general"
    assert r.json["holder"] == {"name": "*三", "real_name_verified": True}
    log = client.get("/v1/me/access-log", headers=verified_resident).json["items"]
    assert len(log) == 1 and log[0]["kind"] == "code_scan" and log[0]["scene"] == "general"
    assert log[0]["accessor"] == {"type": "venue", "venue_id": venue["id"], "venue_name": venue["name"],
                                  "district": "黄浦区"}


def test_general_codes_may_be_scanned_again(verify, get_code, resident):
    code = get_code(resident)
    assert verify(code).status_code == 200
    assert verify(code).status_code == 200


def test_a_transport_code_is_single_use(verify, get_code, resident):
    code = get_code(resident, "transport")
    assert verify(code).status_code == 200
    r = verify(code)
    assert r.status_code == 409 and r.json["error"] == "CODE_REPLAYED"


def test_concurrent_scans_of_one_transport_code_accept_exactly_one(app, staff, venue, get_code, resident):
    code = get_code(resident, "transport")
    results, barrier = [], threading.Barrier(4)

    def scan():
        c = app.test_client()
        barrier.wait()
        results.append(c.post("/v1/verify", headers=staff, json={"payload": code, "venue_id": venue["id"]}).status_code)

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409, 409]


def test_transport_entitlement_shows_the_veteran_concession(verify, get_code, veteran, resident):
    r = verify(get_code(veteran, "transport"))
    assert r.json["entitlement"] == {"concession": "veteran", "fare": "preferential"}
    r = verify(get_code(resident, "transport"))
    assert r.json["entitlement"] == {"concession": None, "fare": "standard"}
    r = verify(get_code(veteran, "veteran"))
    assert r.status_code == 200 and r.json["entitlement"]["preferential_travel"] is True


def test_expired_code(verify, get_code, resident, clock):
    code = get_code(resident)
    clock.advance(60 + 10)
    r = verify(code)
    assert r.status_code == 422 and r.json["error"] == "CODE_EXPIRED"


def test_clock_skew_allowance(verify, get_code, resident, clock):
    code = get_code(resident)
    clock.advance(60 + 5)
    assert verify(code).status_code == 200


def test_future_code(verify, get_code, resident):
    later = get_code(resident, count=3)["codes"][2]["payload"]
    r = verify(later)
    assert r.status_code == 422 and r.json["error"] == "CODE_NOT_YET_VALID"


def test_prefetched_code_becomes_valid_in_its_window(verify, get_code, resident, clock):
    later = get_code(resident, count=3)["codes"][1]["payload"]
    clock.advance(60)
    assert verify(later).status_code == 200


def test_tampered_code(verify, get_code, resident):
    code = get_code(resident)
    header, payload, sig = code.split(".")
    claims = _claims(code)
    forged = ".".join([header, _b64({**claims, "scn": "veteran"}), sig])
    r = verify(forged)
    assert r.status_code == 422 and r.json["error"] == "CODE_BAD_SIGNATURE"
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    r = verify(".".join([header, payload, flipped]))
    assert r.status_code == 422 and r.json["error"] == "CODE_BAD_SIGNATURE"


def test_foreign_key_and_unknown_kid(verify, get_code, resident):
    code = get_code(resident)
    claims = _claims(code)
    kid = jwt.get_unverified_header(code)["kid"]
    attacker = Ed25519PrivateKey.generate()
    same_kid = jwt.encode(claims, attacker, algorithm="EdDSA", headers={"typ": "ssb-code+jwt", "kid": kid})
    r = verify(same_kid)
    assert r.status_code == 422 and r.json["error"] == "CODE_BAD_SIGNATURE"
    other_kid = jwt.encode(claims, attacker, algorithm="EdDSA", headers={"typ": "ssb-code+jwt", "kid": "evil"})
    r = verify(other_kid)
    assert r.status_code == 422 and r.json["error"] == "CODE_UNKNOWN_KEY"


def test_alg_none_and_hs256_confusion(verify, get_code, resident, app):
    code = get_code(resident)
    claims = _claims(code)
    kid = jwt.get_unverified_header(code)["kid"]
    none = _b64({"alg": "none", "typ": "ssb-code+jwt", "kid": kid}) + "." + _b64(claims) + "."
    r = verify(none)
    assert r.status_code == 422 and r.json["error"] in ("CODE_BAD_SIGNATURE", "MALFORMED_CODE")
    with app.app_context():
        from api.extensions import get_keyring
        from qr.keys import raw_public_bytes
        public = raw_public_bytes(get_keyring().get(kid).public_key)
    hs = jwt.encode(claims, public, algorithm="HS256", headers={"typ": "ssb-code+jwt", "kid": kid})
    r = verify(hs)
    assert r.status_code == 422 and r.json["error"] == "CODE_BAD_SIGNATURE"


def test_an_access_token_presented_as_a_code(verify, resident):
    r = verify(resident["Authorization"].split()[1])
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_TYPE"


def test_a_licence_or_place_token_presented_as_a_code(verify, get_code, resident, app, client, operator, venue):
    claims = _claims(get_code(resident))
    licence = _sign(app, claims, typ="ssb-licence+jwt")
    r = verify(licence)
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_TYPE"
    place = client.get(f"/v1/venues/{venue['id']}/place-code", headers=operator).json["payload"]
    r = verify(place)
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_TYPE"


def test_well_signed_code_with_bad_claims(verify, get_code, resident, app):
    claims = _claims(get_code(resident))
    cases = [
        {k: v for k, v in claims.items() if k != "jti"},
        {**claims, "exp": str(claims["exp"])},
        {**claims, "scn": "party"},
        {**claims, "nbf": True},
        {**claims, "exp": claims["nbf"] + 100000},
    ]
    for bad in cases:
        r = verify(_sign(app, bad))
        assert r.status_code == 422 and r.json["error"] == "MALFORMED_CODE", bad
    r = verify(_sign(app, {**claims, "iss": "https://evil.example"}))
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_ISSUER"
    r = verify(_sign(app, claims, headers={"typ": "ssb-code+jwt", "kid": jwt.get_unverified_header(
        get_code(resident))["kid"], "crit": ["exp"]}))
    assert r.status_code == 422 and r.json["error"] == "MALFORMED_CODE"


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "...", "a.b", "Zm9v.YmFy.YmF6", "€.€.€", "a" * 4096,
                                     "eyJhbGciOiJFZERTQSJ9.e30.", "W10.W10.W10", "bnVsbA.bnVsbA.AAAA",
                                     "e30=.e30=.e30="])
def test_garbage_payloads(verify, staff, garbage):
    r = verify(garbage)
    assert r.status_code == 422, (garbage, r.json)
    assert r.json["error"] in ("MALFORMED_CODE", "CODE_BAD_SIGNATURE", "CODE_WRONG_TYPE", "VALIDATION_ERROR")


def test_non_string_payload(client, staff, venue):
    for payload in [None, 1, ["a"], {"a": 1}]:
        r = client.post("/v1/verify", headers=staff, json={"payload": payload, "venue_id": venue["id"]})
        assert r.status_code == 422


def test_not_staff_of_this_venue(client, login, verify, get_code, resident, make_venue, venue):
    other = make_venue(name="另一站")
    r = verify(get_code(resident), venue_id=other["id"])
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"
    stranger = bearer(login("13900000066", device_id="x"))
    r = verify(get_code(resident), headers=stranger)
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"
    r = verify(get_code(resident), venue_id="vn_doesnotexist00")
    assert r.status_code == 404 and r.json["error"] == "VENUE_NOT_FOUND"


def test_a_non_staff_learns_nothing_about_the_code(verify, make_venue):
    other = make_venue(name="另一站")
    r = verify("garbage", venue_id=other["id"])
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"


def test_scene_not_allowed_at_venue_or_for_staff(client, verify, get_code, verified_resident, operator, venue):
    r = verify(get_code(verified_resident, "medical"))
    assert r.status_code == 403 and r.json["error"] == "SCENE_NOT_ALLOWED"
    # Narrow the staff member's grant to general: transport is refused at once.
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": "13900000009", "scenes": ["general"]})
    assert r.status_code == 200
    r = verify(get_code(verified_resident, "transport"))
    assert r.status_code == 403 and r.json["error"] == "SCENE_NOT_ALLOWED"


def test_revoked_staff_is_refused_at_once(client, verify, get_code, resident, operator, venue):
    assert verify(get_code(resident)).status_code == 200
    staff_id = client.get(f"/v1/admin/venues/{venue['id']}/staff", headers=operator).json[0]["user_id"]
    assert client.delete(f"/v1/admin/venues/{venue['id']}/staff/{staff_id}", headers=operator).status_code == 204
    r = verify(get_code(resident))
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"


def test_a_disabled_holder_is_revoked(client, verify, get_code, resident, operator, app):
    code = get_code(resident)
    with app.app_context():
        from api.extensions import db
        from api.identity.models import User
        user_id = db.session.query(User).filter(User.phone == "+8613900000001").one().id
    r = client.post(f"/v1/admin/users/{user_id}/disable", headers=operator, json={"reason": "fraud"})
    assert r.status_code == 200 and r.json["status"] == "disabled"
    r = verify(code)
    assert r.status_code == 403 and r.json["error"] == "CODE_REVOKED"
    assert client.get("/v1/codes/suishen", headers=resident).status_code == 401


def test_the_replay_key_lives_until_the_code_expires(app, verify, get_code, resident):
    """A failed access-record write must not burn a single-use code."""
    code = get_code(resident, "transport")
    with app.app_context():
        from api.codes.services import replay_key
        from api.extensions import get_redis
        claims = _claims(code)
        assert not get_redis().exists(replay_key(claims["sub"], claims["jti"]))
    assert verify(code).status_code == 200
    with app.app_context():
        from api.extensions import get_redis
        ttl = get_redis().ttl(replay_key(claims["sub"], claims["jti"]))
        assert 0 < ttl <= 60 + 11


def test_enterprise_scene_for_a_token_acting_for_an_enterprise(app, client, login, operator, make_venue, resident):
    import time as _time

    from api.identity.tokens import decode_access_token, issue_access_token
    office = make_venue(kind="government", name="市民中心")
    client.post(f"/v1/admin/venues/{office['id']}/staff", headers=operator,
                json={"phone": "13900000044", "scenes": ["enterprise"]})
    clerk = bearer(login("13900000044", device_id="desk"))
    with app.app_context():
        p = decode_access_token(resident["Authorization"].split()[1], now=int(_time.time()))
        acting, _ = issue_access_token(user_id=p.user_id, session_id=p.session_id, roles=list(p.roles),
                                       now=int(_time.time()), acting_for={"enterprise_id": 7, "role": "admin"},
                                       holder_id=p.claims["hid"])
    r = client.get("/v1/codes/suishen?scene=enterprise", headers=bearer(acting))
    assert r.status_code == 200, r.json
    code = r.json["codes"][0]["payload"]
    assert _claims(code)["ent"] == {"enterprise_id": 7, "role": "admin"}
    r = client.post("/v1/verify", headers=clerk, json={"payload": code, "venue_id": office["id"]})
    assert r.status_code == 200, r.json
    assert r.json["entitlement"] == {"enterprise_id": 7, "role": "admin"}

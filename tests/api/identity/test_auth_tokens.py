"""Access tokens: typed, pinned, our keys only; refresh rotation and reuse detection."""
import base64
import json

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import bearer


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_login_creates_account_and_token_has_the_contract_shape(client, login):
    tokens = login()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt" and header["kid"]
    claims = _claims(tokens["access_token"])
    assert {"iss", "aud", "exp", "jti", "sub", "sid", "iat"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900
    assert tokens["refresh_token"].startswith("rt_")
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200


def test_alg_none_is_refused(client, login):
    claims = _claims(login()["access_token"])
    forged = _b64({"alg": "none", "typ": "at+jwt"}) + "." + _b64(claims) + "."
    r = client.get("/v1/me", headers=bearer(forged))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"


def test_hs256_signed_with_our_public_key_is_refused(client, login, app_ctx):
    tokens = login()
    header = jwt.get_unverified_header(tokens["access_token"])
    from api.extensions import get_keyring
    from qr.keys import raw_public_bytes
    public = raw_public_bytes(get_keyring().get(header["kid"]).public_key)
    forged = jwt.encode(_claims(tokens["access_token"]), public, algorithm="HS256",
                        headers={"typ": "at+jwt", "kid": header["kid"]})
    assert client.get("/v1/me", headers=bearer(forged)).status_code == 401


def test_foreign_kid_and_foreign_key_are_refused(client, login):
    claims = _claims(login()["access_token"])
    attacker = Ed25519PrivateKey.generate()
    for kid in ["attacker-key", jwt.get_unverified_header(login(device_id="d2")["access_token"])["kid"]]:
        forged = jwt.encode(claims, attacker, algorithm="EdDSA", headers={"typ": "at+jwt", "kid": kid})
        r = client.get("/v1/me", headers=bearer(forged))
        assert r.status_code == 401, kid


def test_expired_token_is_refused(client, login, clock):
    tokens = login()
    clock.advance(900 + 11)
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 401


def test_wrong_audience_and_type_are_refused(client, login, app_ctx):
    tokens = login()
    claims = _claims(tokens["access_token"])
    import qr
    from api.extensions import get_keyring
    ring = get_keyring()
    wrong_aud = qr.sign({**claims, "aud": "someone-else"}, typ="at+jwt", ring=ring)
    wrong_typ = qr.sign(claims, typ="ssb-code+jwt", ring=ring)
    assert client.get("/v1/me", headers=bearer(wrong_aud)).status_code == 401
    assert client.get("/v1/me", headers=bearer(wrong_typ)).status_code == 401
    right = qr.sign(claims, typ="at+jwt", ring=ring)
    assert client.get("/v1/me", headers=bearer(right)).status_code == 200


def test_refresh_token_is_not_an_access_token(client, login):
    tokens = login()
    r = client.get("/v1/me", headers=bearer(tokens["refresh_token"]))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"


def test_missing_and_garbage_credentials(client):
    assert client.get("/v1/me").json["error"] == "UNAUTHENTICATED"
    for header in ["Bearer", "Basic abc", "Bearer a.b.c", "Bearer " + "x" * 5000]:
        r = client.get("/v1/me", headers={"Authorization": header})
        assert r.status_code == 401, header


def test_refresh_rotates_and_old_token_reuse_revokes_the_family(app, client, clock, login):
    first = login()
    r = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/v1/me", headers=bearer(second)).status_code == 200
    # An attacker replays the first refresh token after the retry grace window: the whole
    # session is signed out.
    clock.advance(app.extensions["ssb.config"].REFRESH_REUSE_GRACE + 1)
    r = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and r.json["error"] == "REFRESH_TOKEN_REUSED"
    assert client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert client.get("/v1/me", headers=bearer(second)).status_code == 401


def test_refresh_idle_and_absolute_lifetimes(client, login, clock, app):
    cfg = app.extensions["ssb.config"]
    tokens = login()
    clock.advance(cfg.REFRESH_TOKEN_IDLE_TTL + 1)
    r = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json["error"] == "REFRESH_TOKEN_INVALID"

    tokens = login(device_id="d2")
    step = cfg.REFRESH_TOKEN_IDLE_TTL - 10
    for _ in range(cfg.REFRESH_TOKEN_ABSOLUTE_TTL // step + 2):
        clock.advance(step)
        r = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        if r.status_code != 200:
            break
        tokens = r.json
    assert r.status_code == 401, "a session cannot be kept alive past its absolute lifetime"


def test_unknown_refresh_token(client):
    r = client.post("/v1/auth/refresh", json={"refresh_token": "rt_nope"})
    assert r.status_code == 401 and r.json["error"] == "REFRESH_TOKEN_INVALID"

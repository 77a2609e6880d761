"""Offline scanners: JWKS, the revocation feed, key rotation; verification with only the JWKS."""
import dataclasses
import time

import jwt
import pytest

from qr.codes import CodeError, verify_code
from tests.conftest import bearer


def test_jwks_publishes_our_keys(client):
    r = client.get("/.well-known/jwks.json")
    assert r.status_code == 200 and "max-age" in r.headers["Cache-Control"]
    keys = r.json["keys"]
    assert keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" and k["kid"]
                        for k in keys)
    assert all("d" not in k for k in keys)


def test_offline_verification_with_only_the_jwks(client, resident, clock):
    jwks = client.get("/.well-known/jwks.json").json
    code = client.get("/v1/codes/suishen?scene=transport", headers=resident).json["codes"][0]["payload"]
    now = int(clock())
    claims = verify_code(code, jwks, now)
    assert claims["scn"] == "transport"
    with pytest.raises(CodeError) as exc:
        verify_code(code, jwks, now + 3600)
    assert exc.value.code == "CODE_EXPIRED"
    with pytest.raises(CodeError) as exc:
        verify_code(code, jwks, now, revoked=frozenset({claims["sub"]}))
    assert exc.value.code == "CODE_REVOKED"


def test_plain_pyjwt_verifies_a_code_with_the_jwks(client, resident, clock):
    jwks = client.get("/.well-known/jwks.json").json
    code = client.get("/v1/codes/suishen", headers=resident).json["codes"][0]["payload"]
    header = jwt.get_unverified_header(code)
    assert header["typ"] == "ssb-code+jwt"
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(code, key, algorithms=["EdDSA"], issuer="https://ssb.sh.gov.cn", leeway=10,
                        options={"require": ["iss", "sub", "scn", "iat", "nbf", "exp", "jti"]})
    assert claims["scn"] == "general"
    # The example in docs/offline-verification.md, verbatim in spirit: PyJWKSet + typ check.
    keyset = jwt.PyJWKSet.from_dict(jwks)
    assert keyset[header["kid"]].key is not None


def test_revocation_feed_lists_disabled_holders_incrementally(client, login, operator, app):
    from api.extensions import db
    from api.identity.models import User

    ids = []
    for phone in ("13900000101", "13900000102"):
        login(phone)
        with app.app_context():
            ids.append((db.session.query(User).filter(User.phone == "+86" + phone).one().id,
                        db.session.query(User).filter(User.phone == "+86" + phone).one().holder_id))
    r = client.post(f"/v1/admin/users/{ids[0][0]}/disable", headers=operator, json={})
    assert r.status_code == 200
    # Disabling twice is harmless and publishes nothing new.
    assert client.post(f"/v1/admin/users/{ids[0][0]}/disable", headers=operator, json={}).status_code == 200
    feed = client.get("/v1/codes/revocations", headers=operator).json
    assert [(i["kind"], i["subject"]) for i in feed["items"]] == [("holder", ids[0][1])]
    cursor = feed["next_cursor"]
    assert client.get(f"/v1/codes/revocations?since={cursor}", headers=operator).json["items"] == []
    client.post(f"/v1/admin/users/{ids[1][0]}/disable", headers=operator, json={"reason": "deceased"})
    feed = client.get(f"/v1/codes/revocations?since={cursor}", headers=operator).json
    assert [i["subject"] for i in feed["items"]] == [ids[1][1]]


def test_revocation_feed_needs_staff_or_operator(client, resident):
    assert client.get("/v1/codes/revocations").status_code == 401
    r = client.get("/v1/codes/revocations", headers=resident)
    assert r.status_code == 403 and r.json["error"] == "ROLE_REQUIRED"


def test_disable_needs_an_operator_and_an_existing_user(client, resident, operator):
    assert client.post("/v1/admin/users/1/disable", headers=resident, json={}).status_code == 403
    r = client.post("/v1/admin/users/999999/disable", headers=operator, json={})
    assert r.status_code == 404 and r.json["error"] == "USER_NOT_FOUND"


@pytest.fixture
def rotating_app(base_config, tmp_path):
    """An app with its own KEYS_DIR, so rotating does not touch the shared test key ring."""
    from tests.conftest import FakeClock
    from wsgi import create_app
    cfg = dataclasses.replace(base_config, KEYS_DIR=str(tmp_path / "keys"))
    app = create_app(cfg)
    app.extensions["ssb.clock"] = FakeClock()
    return app


def test_rotation_keeps_old_codes_valid_until_they_expire(rotating_app, app, tmp_path):
    from api.extensions import db
    from api.identity.sessions import get_or_create_user, start_session

    client = rotating_app.test_client()
    with rotating_app.app_context():
        user = get_or_create_user("+8613900000201", now=int(time.time()))
        db.session.commit()
        token = start_session(user, device_id="d", user_agent=None, now=int(time.time())).access_token
    old_code = client.get("/v1/codes/suishen", headers=bearer(token)).json["codes"][0]["payload"]
    old_kid = jwt.get_unverified_header(old_code)["kid"]

    result = rotating_app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert f"retired {old_kid}" in result.output

    new_code = client.get("/v1/codes/suishen", headers=bearer(token)).json["codes"][0]["payload"]
    new_kid = jwt.get_unverified_header(new_code)["kid"]
    assert new_kid != old_kid
    jwks = client.get("/.well-known/jwks.json").json
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}
    now = int(time.time())
    assert verify_code(old_code, jwks, now)["sub"] == verify_code(new_code, jwks, now)["sub"]

    # After the publication window the retired key leaves the JWKS.
    rotating_app.extensions["ssb.clock"].advance(3600)
    jwks = client.get("/.well-known/jwks.json").json
    assert {k["kid"] for k in jwks["keys"]} == {new_kid}
    with pytest.raises(CodeError) as exc:
        verify_code(old_code, jwks, now)
    assert exc.value.code == "CODE_UNKNOWN_KEY"

    with rotating_app.app_context():
        from api.codes.venues import list_revocations
        items = list_revocations(since=None, limit=10)["items"]
    assert [(i["kind"], i["subject"]) for i in items][-1] == ("key", old_kid)
    listing = rotating_app.test_cli_runner().invoke(args=["keys", "list"])
    assert f"{new_kid}" in listing.output and "signing" in listing.output


def test_an_operator_cannot_disable_themselves(client, operator):
    profile = client.get("/v1/me", headers=operator).json
    r = client.post(f"/v1/admin/users/{profile['id']}/disable", headers=operator, json={})
    assert r.status_code == 409 and r.json["error"] == "CANNOT_DISABLE_SELF"


def _doc_example() -> dict:
    """The Python example from docs/offline-verification.md, executed as written."""
    import pathlib
    import re
    text = (pathlib.Path(__file__).resolve().parents[3] / "docs" / "offline-verification.md").read_text()
    source = re.search(r"## Example: Python with PyJWT\n\n```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(source, "offline-verification.md", "exec"), namespace)
    return namespace


class _FlaskHttp:
    """Stands in for the example's httpx client: same calls, served by the app in-process."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path, params=None):
        response = self.client.get(path, query_string=params or {}, headers=self.headers)
        assert response.status_code == 200, response.json
        return type("Response", (), {"json": lambda _self: response.json})()


def test_the_documented_pyjwt_example_works(client, verified_resident, operator, login, app):
    from api.extensions import db
    from api.identity.models import User

    doc = _doc_example()
    verifier = doc["OfflineVerifier"]("unused")
    verifier.http = _FlaskHttp(client, operator)
    verifier.sync()
    code = client.get("/v1/codes/suishen?scene=medical", headers=verified_resident).json["codes"][0]["payload"]
    assert verifier.verify(code)["scn"] == "medical"

    refused = doc["CodeRefused"]
    for bad, error in [(verified_resident["Authorization"].split()[1], "CODE_WRONG_TYPE"),
                       ("garbage", "MALFORMED_CODE"),
                       (code[:-6] + ("AAAAAA" if not code.endswith("AAAAAA") else "BBBBBB"), "CODE_BAD_SIGNATURE")]:
        with pytest.raises(refused) as exc:
            verifier.verify(bad)
        assert exc.value.args[0] == error

    with app.app_context():
        user_id = db.session.query(User).filter(User.phone == "+8613900000001").one().id
    assert client.post(f"/v1/admin/users/{user_id}/disable", headers=operator, json={}).status_code == 200
    verifier.sync()
    with pytest.raises(refused) as exc:
        verifier.verify(code)
    assert exc.value.args[0] == "CODE_REVOKED"

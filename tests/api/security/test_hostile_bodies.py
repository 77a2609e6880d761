"""Hostile JSON bodies, no login needed: too deep, too long a number, NaN. Every JSON operation
answers a 4xx envelope (ours, or WeChat's on the WeChat-compatible paths), never a 500."""
import re

import pytest

from api.extensions import db
from api.identity.sessions import get_or_create_user, start_session
from tests.conftest import bearer

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
LONG_INT = '{"phone": ' + "9" * 4301 + "}"
NAN = '{"phone": NaN}'
HOSTILE = {"deep": DEEP, "deep_object": DEEP_OBJECT, "long_int": LONG_INT, "nan": NAN}

# Operations anyone can call: the body is parsed, so the answer must be exactly a 400.
PUBLIC_JSON_OPERATIONS = [("POST", "/v1/auth/otp"), ("POST", "/v1/auth/login"), ("POST", "/v1/auth/refresh"),
                          ("POST", "/v1/issuer/token"), ("POST", "/v1/proofs/verify")]
WECHAT_JSON_OPERATIONS = ["/cgi-bin/stable_token", "/wxa/business/getuserphonenumber?access_token=x",
                          "/ssb/realname/get?access_token=x", "/cgi-bin/message/subscribe/send?access_token=x"]


def _token(app) -> str:
    with app.app_context():
        user = get_or_create_user("+8613700137001", now=int(app.extensions["ssb.clock"]()))
        user.roles = ["resident", "operator", "staff", "issuer-admin"]
        db.session.commit()
        return start_session(user, device_id="attack", user_agent="pytest",
                             now=int(app.extensions["ssb.clock"]())).access_token


def _is_our_envelope(response, status):
    assert response.status_code == status, (response.status_code, response.data[:200])
    body = response.get_json()
    assert body["code"] == status and body["error"] and body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("method,path", PUBLIC_JSON_OPERATIONS)
def test_public_json_operations_refuse_hostile_bodies_with_400(client, app, method, path, kind):
    if not any(rule.rule == path for rule in app.url_map.iter_rules()):
        pytest.skip(f"{path} is not served by this build")
    response = client.open(path, method=method, data=HOSTILE[kind], content_type="application/json")
    _is_our_envelope(response, 400)
    assert response.json["error"] == "BAD_REQUEST"


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("path", WECHAT_JSON_OPERATIONS)
def test_wechat_compatible_operations_refuse_hostile_bodies_in_their_envelope(client, path, kind):
    # WeChat reads the body as JSON whatever the Content-Type: send none, as its SDKs do.
    response = client.post(path, data=HOSTILE[kind], content_type="")
    assert response.status_code == 400, response.data[:200]
    assert response.json["errcode"] != 0 and "errmsg" in response.json


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_every_json_operation_answers_hostile_bodies_with_a_4xx_envelope(client, app, kind):
    """Signed in with every role, so the body is reached wherever a role opens the door."""
    headers = bearer(_token(app))
    spec = client.get("/openapi.json").json
    checked = 0
    for path, ops in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method, op in ops.items():
            if method == "parameters" or "requestBody" not in op:
                continue
            response = client.open(url, method=method.upper(), headers=headers, data=HOSTILE[kind],
                                   content_type="application/json")
            assert 400 <= response.status_code < 500, (method, path, response.status_code, response.data[:200])
            body = response.get_json()
            assert "error" in body or "errcode" in body, (method, path, body)
            checked += 1
    assert checked >= 20


def test_flask_get_json_has_the_same_bounds(app):
    with app.test_request_context("/", method="POST", data=DEEP, content_type="application/json"):
        from flask import request
        from werkzeug.exceptions import BadRequest
        with pytest.raises(BadRequest):
            request.get_json()
    with app.test_request_context("/", method="POST", data='{"ok": [1, 2]}', content_type="application/json"):
        from flask import request
        assert request.get_json() == {"ok": [1, 2]}


@pytest.mark.parametrize("exp", [float("nan"), float("inf"), True, "9999999999", 1.9e9])
def test_a_signed_access_token_with_a_bad_exp_is_401_not_500(client, app, login, exp):
    """qr.sign encodes with the stdlib json: NaN and Infinity reach the claims as literals."""
    import jwt
    tokens = login("13800138111")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["exp"] = exp
    import qr
    with app.app_context():
        from api.extensions import get_keyring
        forged = qr.sign(claims, typ="at+jwt", ring=get_keyring())
    response = client.get("/v1/me", headers=bearer(forged))
    _is_our_envelope(response, 401)
    assert response.json["error"] == "INVALID_TOKEN"

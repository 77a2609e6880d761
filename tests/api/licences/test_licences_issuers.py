"""Departments: registration by operators, client-credentials tokens of their own kind."""
from sqlalchemy import text

from tests.conftest import bearer


def test_operator_registers_a_department_and_sees_the_secret_once(client, register_issuer, app):
    creds = register_issuer()
    assert creds["client_id"].startswith("iss_") and len(creds["client_secret"]) >= 40
    assert creds["licence_types"] == ["driving_licence", "vehicle_licence"]
    from api.extensions import db
    with app.app_context():
        dump = repr(db.session.execute(text("SELECT * FROM licence_issuers")).all())
    assert creds["client_secret"] not in dump


def test_only_operators_register_departments(client, login):
    r = client.post("/v1/admin/issuers", headers=bearer(login()), json={"name": "x", "licence_types": ["driving_licence"]})
    assert r.status_code == 403 and r.json["error"] == "ROLE_REQUIRED"


def test_unknown_licence_type_is_refused(client, operator):
    r = client.post("/v1/admin/issuers", headers=operator, json={"name": "x", "licence_types": ["pilot_licence"]})
    assert r.status_code == 422


def test_wrong_secret_is_refused(client, register_issuer):
    creds = register_issuer()
    r = client.post("/v1/issuer/token", json={"client_id": creds["client_id"], "client_secret": "nope" * 10})
    assert r.status_code == 401 and r.json["error"] == "ISSUER_CREDENTIALS_INVALID"
    r = client.post("/v1/issuer/token", json={"client_id": "iss_unknown", "client_secret": creds["client_secret"]})
    assert r.status_code == 401 and r.json["error"] == "ISSUER_CREDENTIALS_INVALID"


def test_token_endpoint_is_rate_limited_per_client(client, register_issuer):
    creds = register_issuer()
    codes = [client.post("/v1/issuer/token", json={"client_id": creds["client_id"], "client_secret": "x"}).status_code
             for _ in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429


def test_issuer_token_is_refused_by_resident_endpoints(client, police):
    r = client.get("/v1/licences", headers=police)
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"
    assert client.get("/v1/me", headers=police).status_code == 401


def test_resident_token_is_refused_by_issuer_endpoints(client, resident, today):
    from tests.api.licences.conftest import ZHANG, driving_body
    r = client.put(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=resident, json=driving_body(today()))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"


def test_issuer_token_expires(client, police, clock, push):
    clock.advance(601 + 10)
    r = push()
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"


def test_forged_issuer_token_is_refused(client, push):
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    forged = jwt.encode({"iss": "https://ssb.sh.gov.cn", "aud": "ssb-issuer", "sub": "issuer:1", "jti": "x",
                         "iat": 0, "exp": 2**40}, Ed25519PrivateKey.generate(), algorithm="EdDSA",
                        headers={"typ": "ssb-issuer+jwt", "kid": "forged"})
    r = push(headers=bearer(forged))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"


def test_issuer_security_scheme_is_documented(client):
    spec = client.get("/openapi.json").json
    assert "issuerAuth" in spec["components"]["securitySchemes"]
    put = spec["paths"]["/v1/issuer/licences/{licence_type}/{number}"]["put"]
    assert put["security"] == [{"issuerAuth": []}]

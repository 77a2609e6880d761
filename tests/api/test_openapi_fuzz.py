"""Schemathesis over the whole OpenAPI document, in-process against the WSGI app.

Every operation: no 5xx, responses match their documented schemas, and operations that declare
a security requirement refuse missing and invalid credentials. Later capabilities are covered
automatically as their routes join the document.
"""
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.extensions import db
from api.identity.sessions import get_or_create_user, start_session

MAX_EXAMPLES = 25   # per operation: a few hundred requests across the document


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


def _token(app, phone="+8613700137000") -> str:
    with app.app_context():
        user = get_or_create_user(phone, now=int(app.extensions["ssb.clock"]()))
        user.roles = ["resident", "operator", "staff", "issuer-admin"]
        db.session.commit()
        return start_session(user, device_id="fuzz", user_agent="schemathesis",
                             now=int(app.extensions["ssb.clock"]())).access_token


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_conformant_responses(case, app):
    headers = {}
    header_info = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    negative_headers = header_info is not None and header_info.mode == GenerationMode.NEGATIVE
    # A case that deliberately breaks the headers (drops Authorization) keeps them broken.
    if case.operation.definition.raw.get("security") and not negative_headers:
        headers["Authorization"] = f"Bearer {_token(app)}"
    # Schema-valid is not always business-valid (a well-formed but unassigned phone number, an
    # unknown id): those get a documented 4xx, so the "positive data acceptance" check is off.
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])


BEARER_SCHEMES = {"bearerAuth", "issuerAuth", "metricsAuth"}


def _schemes(op: dict) -> set[str]:
    return {name for requirement in op.get("security") or () for name in requirement}


def test_every_protected_operation_refuses_missing_and_invalid_credentials(client):
    """Deterministic sweep over the document: each bearer-secured operation, three bad credentials."""
    spec = client.get("/openapi.json").json
    checked = 0
    for path, ops in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method, op in ops.items():
            if method == "parameters" or not _schemes(op) & BEARER_SCHEMES:
                continue
            for header in ({}, {"Authorization": "Bearer not-a-token"},
                           {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}):
                response = client.open(url, method=method.upper(), headers=header, json={})
                assert response.status_code == 401, (method, path, header, response.json)
                assert response.json["error"] in ("UNAUTHENTICATED", "INVALID_TOKEN")
            checked += 1
    assert checked >= 5


def test_every_wechat_compatible_operation_refuses_missing_and_invalid_credentials(client):
    """The operations secured by WeChat's query credentials (appid + secret, access_token) answer
    WeChat's envelope with a non-zero errcode without them or with made-up ones."""
    spec = client.get("/openapi.json").json
    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            schemes = _schemes(op) if method != "parameters" else set()
            if not schemes or schemes & BEARER_SCHEMES:
                continue
            fake = {"appid": "ssb0123456789abcdef", "secret": "0" * 32, "access_token": "not-a-token"}
            for query in ({}, {name: fake[spec["components"]["securitySchemes"][name]["name"]] for name in schemes}):
                query = {**query, "grant_type": "client_credential" if "token" in path else "authorization_code"}
                response = client.open(path, method=method.upper(), query_string=query, json={})
                assert response.status_code == 200 and response.json["errcode"] not in (0, None), (path, query)
            checked += 1
    assert checked == 6

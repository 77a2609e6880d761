"""The OpenAPI document explains itself: every operation says what it does and who may call it,
lists the machine error codes it answers (from the one catalogue, api/error_codes.py), the main
flows carry examples that fit their schemas, and the WeChat-compatible calls declare how they
authenticate."""
from __future__ import annotations

import copy

import jsonschema_rs  # comes with schemathesis (requirements-dev.txt)
import pytest

from api.errors import CATALOGUE

METHODS = {"get", "put", "post", "delete", "patch"}

# The main flows: (method, path) whose request body (if any) and success answer carry an example.
EXAMPLES = [("post", "/v1/auth/otp"), ("post", "/v1/auth/login"), ("post", "/v1/auth/refresh"),
            ("get", "/v1/codes/suishen"), ("post", "/v1/verify"),
            ("post", "/v1/licences/{licence_id}/presentations"), ("post", "/v1/presentations/verify"),
            ("get", "/v1/inbox"), ("get", "/v1/inbox/unread-count")]


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").json


def operations(spec: dict):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in METHODS:
                yield method, path, op


def documentation_problems(spec: dict) -> list[str]:
    """What a reader of the document would miss: a description, or an error code that does not
    exist in the catalogue (or is documented under another status than the catalogue's)."""
    problems = []
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        summary, description = (op.get("summary") or "").strip(), (op.get("description") or "").strip()
        if not summary:
            problems.append(f"{where}: no summary (the docstring's first line)")
        if not description or description == summary:
            problems.append(f"{where}: no description (the docstring after its first line)")
        for entry in op.get("x-error-codes", ()):
            error = CATALOGUE.get(entry["code"])
            if error is None:
                problems.append(f"{where}: error code {entry['code']} is not in api/error_codes.py")
            elif entry["status"] != error.status or f"`{error.name}`" not in \
                    op["responses"].get(str(error.status), {}).get("description", ""):
                problems.append(f"{where}: {error.name} not documented under {error.status}")
    return problems


def test_every_operation_has_a_description_and_only_catalogued_error_codes(spec):
    assert len(list(operations(spec))) > 100
    assert documentation_problems(spec) == []


def test_the_check_catches_a_missing_description_and_an_unknown_code(spec):
    broken = copy.deepcopy(spec)
    login = broken["paths"]["/v1/auth/login"]["post"]
    login["description"] = ""
    login["x-error-codes"].append({"code": "OTP_WRONG", "status": None})
    problems = documentation_problems(broken)
    assert problems == ["POST /v1/auth/login: no description (the docstring after its first line)",
                        "POST /v1/auth/login: error code OTP_WRONG is not in api/error_codes.py"]


def test_an_unknown_code_in_a_decorator_reaches_the_document_for_the_check(app):
    """A typo in `@blp.errors(...)` must not break the whole document: it shows up, unknown."""
    from api.extensions import _document_error_codes

    doc = _document_error_codes({"responses": {}}, {"error_codes": ["VENUE_NOT_FOUND", "VENUE_MISSING"]})
    assert doc["x-error-codes"][1] == {"code": "VENUE_MISSING", "status": None}
    assert "`VENUE_NOT_FOUND`: No such venue. 场所不存在。" in doc["responses"][404]["description"]


def test_error_codes_are_listed_in_both_languages_under_their_status(spec):
    login = spec["paths"]["/v1/auth/login"]["post"]
    codes = {e["code"]: e for e in login["x-error-codes"]}
    assert {"OTP_INVALID", "OTP_LOCKED", "INVALID_PHONE", "ACCOUNT_DISABLED", "VALIDATION_ERROR"} <= set(codes)
    assert codes["OTP_INVALID"] == {"code": "OTP_INVALID", "status": 401, "en": CATALOGUE["OTP_INVALID"].en,
                                    "zh-CN": CATALOGUE["OTP_INVALID"].zh}
    assert "- `OTP_LOCKED`: Too many wrong codes; ask for a new one. 验证码错误次数过多，请重新获取。" in \
        login["responses"]["401"]["description"]
    verify = spec["paths"]["/v1/verify"]["post"]
    assert "`CODE_REPLAYED`" in verify["responses"]["409"]["description"]
    assert {"UNAUTHENTICATED", "INVALID_TOKEN"} <= {e["code"] for e in verify["x-error-codes"]}


def test_operations_say_who_may_call_them(spec):
    assert "Operators only" in spec["paths"]["/v1/admin/venues"]["post"]["description"]
    assert "Anyone, no sign-in" in spec["paths"]["/v1/auth/otp"]["post"]["description"]
    assert "Staff of the venue" in spec["paths"]["/v1/verify"]["post"]["description"]


def test_the_document_names_this_deployment_as_its_server(spec, app):
    assert spec["servers"] == [{"url": app.extensions["ssb.config"].PUBLIC_BASE_URL,
                                "description": "PUBLIC_BASE_URL"}]


def test_the_wechat_compatible_calls_declare_their_query_credentials(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["wechatAccessToken"] == {**schemes["wechatAccessToken"], "type": "apiKey", "in": "query",
                                            "name": "access_token"}
    assert (schemes["wechatAppId"]["name"], schemes["wechatAppSecret"]["name"]) == ("appid", "secret")
    for path in ("/sns/jscode2session", "/cgi-bin/token"):
        assert spec["paths"][path]["get"]["security"] == [{"wechatAppId": [], "wechatAppSecret": []}]
    for path in ("/wxa/business/getuserphonenumber", "/ssb/realname/get", "/ssb/licence/get",
                 "/cgi-bin/message/subscribe/send"):
        assert spec["paths"][path]["post"]["security"] == [{"wechatAccessToken": []}], path


def _json_schema(node):
    """OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a "null" type."""
    if isinstance(node, dict):
        out = {k: _json_schema(v) for k, v in node.items()}
        if out.pop("nullable", False) and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    return node


def _check_example(spec: dict, media: dict, where: str) -> None:
    assert "example" in media, f"{where}: no example"
    schema = {**_json_schema(media["schema"]), "components": _json_schema(spec["components"])}
    jsonschema_rs.Draft4Validator(schema).validate(media["example"])


@pytest.mark.parametrize(("method", "path"), EXAMPLES)
def test_the_main_flows_carry_examples_that_fit_their_schemas(spec, method, path):
    op = spec["paths"][path][method]
    if "requestBody" in op:
        _check_example(spec, op["requestBody"]["content"]["application/json"], f"{method} {path} request")
    success = next(status for status in op["responses"] if status.startswith("2"))
    _check_example(spec, op["responses"][success]["content"]["application/json"], f"{method} {path} answer")


def test_the_example_check_refuses_an_example_that_breaks_its_schema(spec):
    op = copy.deepcopy(spec["paths"]["/v1/auth/login"]["post"])
    media = op["responses"]["200"]["content"]["application/json"]
    media["example"]["expires_in"] = "soon"
    with pytest.raises(jsonschema_rs.ValidationError):
        _check_example(spec, media, "login answer")

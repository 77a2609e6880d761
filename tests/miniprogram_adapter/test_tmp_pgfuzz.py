import re
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance
from hypothesis import HealthCheck, settings
import pytest
from api.extensions import db
from api.services.sessions import get_or_create_user, start_session


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
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz(case, app):
    if not re.search(r"^/(sns|cgi-bin|wxa|ssb)/|miniprograms|/v1/mp/|consents", case.operation.path):
        return
    headers = {}
    if case.operation.definition.raw.get("security"):
        headers["Authorization"] = f"Bearer {_token(app)}"
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

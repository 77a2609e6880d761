"""An elder without a phone agrees in person: a clerk with a grant at a community centre records it."""
import pytest

from tests.api.family.conftest import ELDER, ELDER_NO_PHONE, STRANGER, grant
from tests.conftest import bearer


@pytest.fixture
def pending(parent, add_dependent) -> str:
    r = add_dependent(parent, ELDER_NO_PHONE, "钱桂英", "elder")
    assert r.status_code == 201 and r.json["status"] == "pending"
    return r.json["id"]


@pytest.fixture
def consent(client, clerk, centre):
    def _consent(body: dict, headers=None, venue=None):
        return client.post(f"/v1/venues/{(venue or centre)['id']}/family/elder-consents", headers=headers or clerk,
                           json={"id_type": "resident_id", "document_checked": True, **body})
    return _consent


def test_a_clerk_records_the_elders_agreement_by_link_id(client, parent, pending, consent, centre, code_for):
    r = consent({"id_number": ELDER_NO_PHONE, "link_id": pending})
    assert r.status_code == 201, r.json
    assert r.json["status"] == "active" and r.json["approved_via"] == "clerk"
    assert r.json["dependent"]["name"] == "**英" and r.json["guardian"] == {"name": "*芳", "phone": "139****0011"}
    assert code_for(parent, pending)
    acts = client.get(f"/v1/me/dependents/{pending}/activity", headers=parent).json["items"]
    consent_row = next(a for a in acts if a["kind"] == "family_consent")
    assert consent_row["accessor"]["venue_id"] == centre["id"] and consent_row["accessor"]["staff"] == "139****0077"
    assert any("现场" in m["body"] for m in client.get("/v1/inbox", headers=parent).json["items"])


def test_a_clerk_names_the_request_by_the_guardians_phone(parent, pending, consent):
    r = consent({"id_number": ELDER_NO_PHONE, "guardian_phone": "139 0000 0011"})
    assert r.status_code == 201 and r.json["id"] == pending


def test_an_elder_with_an_account_is_told_in_the_inbox(client, parent, elder, add_dependent, consent):
    link_id = add_dependent(parent, ELDER, "赵建国", "elder").json["id"]
    assert consent({"id_number": ELDER, "link_id": link_id}).status_code == 201
    assert any(m["title"] == "已确认亲友代办" for m in client.get("/v1/inbox", headers=elder).json["items"])
    log = client.get("/v1/me/access-log?kind=family_consent", headers=elder).json["items"]
    assert len(log) == 1 and log[0]["accessor"]["guardian"]["name"] == "*芳"


def test_another_persons_document_does_not_approve_the_request(pending, consent):
    r = consent({"id_number": STRANGER, "link_id": pending})
    assert r.status_code == 404 and r.json["error"] == "FAMILY_LINK_NOT_FOUND"
    r = consent({"id_number": ELDER, "guardian_phone": "13900000011"})
    assert r.status_code == 404


def test_the_document_must_have_been_checked(pending, consent):
    r = consent({"id_number": ELDER_NO_PHONE, "link_id": pending, "document_checked": False})
    assert r.status_code == 422
    r = consent({"id_number": ELDER_NO_PHONE})                                   # neither link_id nor phone
    assert r.status_code == 422
    r = consent({"id_number": ELDER_NO_PHONE, "link_id": pending, "guardian_phone": "13900000011"})
    assert r.status_code == 422


def test_only_staff_of_this_venue_record_agreements(client, login, operator, pending, consent, make_venue, stranger):
    r = consent({"id_number": ELDER_NO_PHONE, "link_id": pending}, headers=stranger)
    assert r.status_code == 403
    other = make_venue("community", "徐汇区社区事务受理服务中心")
    r = consent({"id_number": ELDER_NO_PHONE, "link_id": pending}, venue=other)
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"


def test_only_community_or_government_centres(client, login, operator, pending, consent, make_venue):
    museum = make_venue("culture", "上海博物馆")
    grant(client, operator, museum, "13900000078", ["general"])
    r = consent({"id_number": ELDER_NO_PHONE, "link_id": pending}, headers=bearer(login("13900000078")),
                venue=museum)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_VENUE_NOT_ALLOWED"


def test_an_answered_request_cannot_be_approved_again(pending, consent):
    assert consent({"id_number": ELDER_NO_PHONE, "link_id": pending}).status_code == 201
    r = consent({"id_number": ELDER_NO_PHONE, "link_id": pending})
    assert r.status_code == 409 and r.json["error"] == "FAMILY_LINK_NOT_PENDING"


def test_a_childs_link_is_not_an_elders_agreement(child_link, consent):
    from tests.api.family.conftest import CHILD
    r = consent({"id_number": CHILD, "link_id": child_link})
    assert r.status_code == 409 and r.json["error"] == "FAMILY_LINK_NOT_PENDING"

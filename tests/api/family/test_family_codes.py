"""A guardian shows a dependent's 随申码: `sub` the dependent's, `act.sub` the guardian's; staff see
the dependent's masked name, "shown by a guardian" and the dependent's entitlements; the
dependent's log names the guardian. Attackers: someone else's dependent, pending or ended links,
forged or mistyped tokens."""
import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.api.family.conftest import ELDER, ELDER_NO_PHONE


def _claims(payload: str) -> dict:
    return jwt.decode(payload, options={"verify_signature": False})


def _holder_id(app, phone: str) -> str:
    with app.app_context():
        from sqlalchemy import select

        from api.extensions import db
        from api.identity.models import User
        return db.session.scalar(select(User.holder_id).where(User.phone == "+86" + phone))


def test_a_childs_code_carries_the_childs_sub_and_the_guardians_act(app, client, parent, child_link, code_for):
    payload = code_for(parent, child_link)
    claims = _claims(payload)
    parent_hid = _holder_id(app, "13900000011")
    assert claims["act"] == {"sub": parent_hid} and claims["sub"] != parent_hid
    own = _claims(client.get("/v1/codes/suishen", headers=parent).json["codes"][0]["payload"])
    assert "act" not in own and own["sub"] == parent_hid
    # Nothing personal in the payload: no phone, name or identity number.
    assert set(claims) == {"iss", "sub", "scn", "iat", "nbf", "exp", "jti", "act"}


def test_staff_see_the_dependent_and_that_a_guardian_showed_it(client, parent, child_link, code_for, scan):
    r = scan(code_for(parent, child_link))
    assert r.status_code == 200, r.json
    assert r.json["holder"] == {"name": "**明", "real_name_verified": True}
    assert r.json["shown_by_guardian"] is True
    assert r.json["guardian"] == {"name": "*芳", "relation": "minor_child"}


def test_own_codes_say_not_shown_by_a_guardian(client, parent, scan):
    r = scan(client.get("/v1/codes/suishen", headers=parent).json["codes"][0]["payload"])
    assert r.status_code == 200 and r.json["shown_by_guardian"] is False and "guardian" not in r.json


def test_entitlements_follow_the_elder_not_the_guardian(client, parent, elder_link, code_for, scan):
    r = scan(code_for(parent, elder_link, "transport"))
    assert r.status_code == 200, r.json
    assert r.json["entitlement"] == {"concession": "senior", "fare": "preferential"}
    mine = scan(client.get("/v1/codes/suishen?scene=transport", headers=parent).json["codes"][0]["payload"])
    assert mine.json["entitlement"] == {"concession": None, "fare": "standard"}


def test_a_child_without_an_account_is_seen_at_the_hospital(parent, child_link, code_for, scan, hospital):
    r = scan(code_for(parent, child_link, "medical"), venue=hospital)
    assert r.status_code == 200, r.json
    assert r.json["entitlement"] == {"real_name_verified": True, "insurance_card": "active"}


def test_a_transport_code_of_a_dependent_is_single_use(parent, child_link, code_for, scan):
    payload = code_for(parent, child_link, "transport")
    assert scan(payload).status_code == 200
    assert scan(payload).json["error"] == "CODE_REPLAYED"


def test_the_elders_access_log_names_the_guardian(client, parent, elder, elder_link, code_for, scan, station):
    scan(code_for(parent, elder_link))
    log = client.get("/v1/me/access-log", headers=elder).json["items"]
    scans = [i for i in log if i["kind"] == "code_scan"]
    assert len(scans) == 1 and scans[0]["accessor"]["venue_id"] == station["id"]
    assert scans[0]["accessor"]["guardian"] == {"name": "*芳", "relation": "elder", "link_id": elder_link}
    shown = [i for i in log if i["kind"] == "guardian_act"]
    assert [i["accessor"]["action"] for i in shown] == ["code_shown"]
    assert client.get("/v1/me/access-log?kind=guardian_act", headers=elder).status_code == 200
    # The guardian's own access log is about the guardian only.
    assert client.get("/v1/me/access-log", headers=parent).json["items"] == []


def test_the_guardian_sees_what_they_did_for_whom(client, parent, child_link, elder_link, code_for, scan):
    scan(code_for(parent, child_link))
    code_for(parent, child_link)            # the app refreshes: noted once per ten minutes
    child = client.get(f"/v1/me/dependents/{child_link}/activity", headers=parent).json["items"]
    assert [(i["kind"], i["action"]) for i in child] == [("code_scan", None), ("guardian_act", "code_shown")]
    assert client.get(f"/v1/me/dependents/{elder_link}/activity", headers=parent).json["items"] == []


def test_the_elder_sees_what_a_guardian_did_for_them(client, parent, elder, elder_link, code_for, scan):
    scan(code_for(parent, elder_link))
    items = client.get(f"/v1/me/guardians/{elder_link}/activity", headers=elder).json["items"]
    assert items[0]["kind"] == "code_scan" and items[0]["accessor"]["guardian"]["name"] == "*芳"


def test_activity_of_someone_elses_link_is_404(client, parent, stranger, child_link):
    assert client.get(f"/v1/me/dependents/{child_link}/activity", headers=stranger).status_code == 404
    assert client.get(f"/v1/me/guardians/{child_link}/activity", headers=stranger).status_code == 404


def test_the_code_image_for_a_dependent(client, parent, child_link):
    r = client.get(f"/v1/codes/suishen/image?for={child_link}&format=svg", headers=parent)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"


# --------------------------------------------------------------------------- attackers


def test_acting_for_someone_elses_dependent_is_404(client, stranger, child_link):
    r = client.get(f"/v1/codes/suishen?for={child_link}", headers=stranger)
    assert r.status_code == 404 and r.json["error"] == "FAMILY_LINK_NOT_FOUND"
    assert client.get("/v1/codes/suishen?for=fl_0000000000000000", headers=stranger).status_code == 404


def test_a_pending_link_acts_for_nobody(client, parent, add_dependent):
    link_id = add_dependent(parent, ELDER_NO_PHONE, "钱桂英", "elder").json["id"]
    r = client.get(f"/v1/codes/suishen?for={link_id}", headers=parent)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_LINK_PENDING"
    assert client.get(f"/v1/licences?for={link_id}", headers=parent).json["error"] == "FAMILY_LINK_PENDING"


def test_a_refused_or_ended_link_acts_for_nobody(client, parent, elder, add_dependent, elder_link):
    client.delete(f"/v1/me/guardians/{elder_link}", headers=elder)
    r = client.get(f"/v1/codes/suishen?for={elder_link}", headers=parent)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_LINK_ENDED"
    refused = add_dependent(parent, ELDER, "赵建国", "elder").json["id"]
    client.delete(f"/v1/me/guardians/{refused}", headers=elder)
    assert client.get(f"/v1/codes/suishen?for={refused}", headers=parent).json["error"] == "FAMILY_LINK_ENDED"


def test_a_code_issued_before_the_link_ended_is_refused_at_the_scan(client, parent, elder, elder_link, code_for,
                                                                     scan):
    payload = code_for(parent, elder_link)
    client.delete(f"/v1/me/guardians/{elder_link}", headers=elder)
    r = scan(payload)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_LINK_ENDED"


def test_a_disabled_guardians_codes_are_refused(client, app, parent, child_link, code_for, scan, operator):
    payload = code_for(parent, child_link)
    with app.app_context():
        from sqlalchemy import select

        from api.extensions import db
        from api.identity.models import User
        user_id = db.session.scalar(select(User.id).where(User.phone == "+8613900000011"))
    assert client.post(f"/v1/admin/users/{user_id}/disable", headers=operator, json={}).status_code == 200
    r = scan(payload)
    assert r.status_code == 403 and r.json["error"] == "CODE_REVOKED"


def test_an_enterprise_token_cannot_act_for_a_dependent(app, client, parent, child_link):
    from api.identity.tokens import decode_access_token, issue_access_token
    with app.app_context():
        principal = decode_access_token(parent["Authorization"][7:], now=int(app.extensions["ssb.clock"]()))
        token, _ = issue_access_token(user_id=principal.user_id, session_id=principal.session_id,
                                      roles=["resident"], now=int(app.extensions["ssb.clock"]()),
                                      acting_for={"enterprise_id": 1, "role": "handler"})
    r = client.get(f"/v1/codes/suishen?for={child_link}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json["error"] == "FAMILY_PERSONAL_TOKEN_REQUIRED"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_code_with_a_forged_act_is_refused(app, client, parent, stranger, child_link, code_for, scan):
    payload = code_for(parent, child_link)
    header, body, sig = payload.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    # 1. The stranger swaps in their own holder id as the actor: the signature no longer holds.
    claims["act"] = {"sub": _holder_id(app, "13900000033")}
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{sig}"
    assert scan(tampered).json["error"] == "CODE_BAD_SIGNATURE"
    # 2. Signed with a key of their own, under our kid or theirs.
    kid = jwt.get_unverified_header(payload)["kid"]
    for key_id in (kid, "attacker-key"):
        forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA",
                            headers={"typ": "ssb-code+jwt", "kid": key_id})
        assert scan(forged).json["error"] in ("CODE_BAD_SIGNATURE", "CODE_UNKNOWN_KEY")


def test_our_other_tokens_with_an_act_are_not_codes(app, client, parent, child_link, scan):
    # An access token (ours, well signed) names `act` too for enterprises: still not a code.
    r = scan(parent["Authorization"][7:])
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_TYPE"
    import qr
    with app.app_context():
        from api.extensions import get_keyring
        claims = _claims(client.get(f"/v1/codes/suishen?for={child_link}", headers=parent).json["codes"][0]["payload"])
        as_licence = qr.sign(claims, typ="ssb-licence+jwt", ring=get_keyring())
    r = scan(as_licence)
    assert r.status_code == 422 and r.json["error"] == "CODE_WRONG_TYPE"


def test_a_well_signed_code_with_a_malformed_act_is_refused(app, parent, child_link, code_for, scan):
    import qr
    claims = _claims(code_for(parent, child_link))
    with app.app_context():
        from api.extensions import get_keyring
        for act in ({"sub": claims["sub"]}, {"sub": 7}, "someone", {"sub": "x", "role": "admin"}):
            bad = qr.sign({**claims, "act": act}, typ="ssb-code+jwt", ring=get_keyring())
            r = scan(bad)
            assert r.status_code == 422 and r.json["error"] == "MALFORMED_CODE", act


def test_a_well_signed_code_naming_an_unlinked_actor_is_refused(app, parent, stranger, child_link, code_for, scan):
    """Defence in depth: even a code we signed is honoured only while its link is active."""
    import qr
    claims = _claims(code_for(parent, child_link))
    with app.app_context():
        from api.extensions import get_keyring
        bad = qr.sign({**claims, "act": {"sub": _holder_id(app, "13900000033")}}, typ="ssb-code+jwt",
                      ring=get_keyring())
    r = scan(bad)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_LINK_ENDED"


def test_offline_verification_of_a_dependents_code_with_the_jwks(app, client, parent, child_link, code_for,
                                                                 operator, clock):
    """A scanner with only the JWKS (and the revocation feed) verifies a code shown by a guardian."""
    from qr.codes import CodeError, actor_of, verify_code
    jwks = client.get("/.well-known/jwks.json").json
    payload = code_for(parent, child_link)
    claims = verify_code(payload, jwks, int(clock()), issuer="https://ssb.sh.gov.cn")
    parent_hid = _holder_id(app, "13900000011")
    assert actor_of(claims) == parent_hid
    header = jwt.get_unverified_header(payload)
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key
    assert jwt.decode(payload, key, algorithms=["EdDSA"], issuer="https://ssb.sh.gov.cn", leeway=10)["act"] == {
        "sub": parent_hid}
    # The guardian's account is disabled: the revocation feed names them, and the code stops verifying offline.
    with app.app_context():
        from sqlalchemy import select

        from api.extensions import db
        from api.identity.models import User
        user_id = db.session.scalar(select(User.id).where(User.holder_id == parent_hid))
    client.post(f"/v1/admin/users/{user_id}/disable", headers=operator, json={})
    revoked = {i["subject"] for i in client.get("/v1/codes/revocations", headers=operator).json["items"]}
    with pytest.raises(CodeError) as exc:
        verify_code(payload, jwks, int(clock()), revoked=frozenset(revoked))
    assert exc.value.code == "CODE_REVOKED"

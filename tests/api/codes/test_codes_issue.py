"""Residents get fresh, short-lived, pseudonymous codes for the scenes they are entitled to."""
import jwt

from tests.conftest import bearer


def test_a_code_has_the_contract_shape(client, resident, app):
    r = client.get("/v1/codes/suishen?scene=general", headers=resident)
    assert r.status_code == 200, r.json
    body = r.json
    assert body["scene"] == "general" and len(body["codes"]) == 1 and body["refresh_after"] > 0
    code = body["codes"][0]
    header = jwt.get_unverified_header(code["payload"])
    assert header == {"alg": "EdDSA", "typ": "ssb-code+jwt", "kid": header["kid"]}
    claims = jwt.decode(code["payload"], options={"verify_signature": False})
    assert set(claims) == {"iss", "sub", "scn", "iat", "nbf", "exp", "jti"}
    assert claims["exp"] - claims["nbf"] == app.extensions["ssb.config"].CODE_TTL == 60
    assert code["not_before"] == claims["nbf"] and code["expires_at"] == claims["exp"]


def test_the_subject_is_the_stable_pseudonymous_holder_id(client, resident, app_ctx):
    from api.extensions import db
    from api.identity.models import User
    subs = {jwt.decode(client.get("/v1/codes/suishen", headers=resident).json["codes"][0]["payload"],
                       options={"verify_signature": False})["sub"] for _ in range(3)}
    user = db.session.query(User).one()
    assert subs == {user.holder_id}
    assert user.phone[-8:] not in next(iter(subs))


def test_each_request_gives_a_fresh_code(client, resident):
    a = client.get("/v1/codes/suishen", headers=resident).json["codes"][0]["payload"]
    b = client.get("/v1/codes/suishen", headers=resident).json["codes"][0]["payload"]
    assert a != b


def test_prefetch_gives_consecutive_windows(client, resident):
    body = client.get("/v1/codes/suishen?scene=transport&count=5", headers=resident).json
    windows = [(c["not_before"], c["expires_at"]) for c in body["codes"]]
    assert len(windows) == 5
    for (nbf, exp), (nbf2, _) in zip(windows, windows[1:]):
        assert exp - nbf == 60 and nbf2 == exp
    assert body["refresh_after"] > 4 * 60
    assert len({c["payload"] for c in body["codes"]}) == 5


def test_bad_scene_and_count_are_validation_errors(client, resident):
    for query in ["scene=party", "count=0", "count=11", "count=x", "scene=general&extra=1"]:
        r = client.get(f"/v1/codes/suishen?{query}", headers=resident)
        assert r.status_code == 422, query


def test_entitled_scenes_need_their_status(client, resident, verified_resident, veteran):
    cases = {"veteran": "NOT_A_VETERAN", "home_service": "HOME_SERVICE_CERT_REQUIRED",
             "enterprise": "NOT_ACTING_FOR_ENTERPRISE"}
    for scene, error in cases.items():
        r = client.get(f"/v1/codes/suishen?scene={scene}", headers=verified_resident)
        assert r.status_code == 403 and r.json["error"] == error, scene


def test_medical_needs_real_name(client, login, verified_resident):
    unverified = bearer(login("13900000055"))
    r = client.get("/v1/codes/suishen?scene=medical", headers=unverified)
    assert r.status_code == 403 and r.json["error"] == "REAL_NAME_REQUIRED"
    assert client.get("/v1/codes/suishen?scene=medical", headers=verified_resident).status_code == 200


def test_a_veteran_gets_the_veteran_scene(client, veteran):
    assert client.get("/v1/codes/suishen?scene=veteran", headers=veteran).status_code == 200


def test_real_name_verification_updates_the_cached_entitlements(client, login, persons):
    from tests.api.codes.conftest import LAO_LI
    headers = bearer(login("13900000077"))
    assert client.get("/v1/codes/suishen?scene=veteran", headers=headers).status_code == 403
    r = client.post("/v1/me/real-name", headers=headers,
                    json={"name": "李老汉", "id_type": "resident_id", "id_number": LAO_LI})
    assert r.status_code == 200
    assert client.get("/v1/codes/suishen?scene=veteran", headers=headers).status_code == 200


def test_codes_need_a_signed_in_resident(client):
    assert client.get("/v1/codes/suishen").status_code == 401
    assert client.get("/v1/codes/suishen/image").status_code == 401


def test_image_png_and_svg(client, resident):
    r = client.get("/v1/codes/suishen/image?scene=general&format=png", headers=resident)
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.headers["Cache-Control"] == "no-store"
    r = client.get("/v1/codes/suishen/image?format=svg", headers=resident)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
    assert r.headers["Cache-Control"] == "no-store"
    assert client.get("/v1/codes/suishen/image?format=gif", headers=resident).status_code == 422

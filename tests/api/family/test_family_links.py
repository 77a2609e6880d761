"""Guardian links: who may link whom, the elder's agreement, ending, limits, coming of age."""
from datetime import timedelta

from tests.api.family.conftest import ADULT, CHILD, ELDER, ELDER_NO_PHONE, PARENT, PHONES, TEEN, person
from tests.conftest import bearer
from tests.factories import import_persons, resident_id


def test_a_registered_guardian_links_a_child_at_once(client, parent, add_dependent):
    r = add_dependent(parent)
    assert r.status_code == 201, r.json
    link = r.json
    assert link["id"].startswith("fl_") and link["relation"] == "minor_child" and link["status"] == "active"
    assert link["approved_via"] == "registry" and link["adult_on"]
    assert link["dependent"] == {"name": "**明", "id_type": "resident_id", "id_number": CHILD[:4] + "*" * 10 + CHILD[-4:],
                                 "has_account": False}
    items = client.get("/v1/me/dependents", headers=parent).json["items"]
    assert [i["id"] for i in items] == [link["id"]]


def test_both_registered_guardians_may_link_the_same_child(parent, other_parent, add_dependent):
    assert add_dependent(parent).status_code == 201
    assert add_dependent(other_parent).status_code == 201


def test_a_child_the_registry_does_not_name_me_guardian_of(stranger, add_dependent):
    r = add_dependent(stranger)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_NOT_REGISTERED_GUARDIAN"


def test_a_wrong_name_and_an_unknown_number_get_the_same_answer(parent, add_dependent):
    assert add_dependent(parent, CHILD, "王大明").json["error"] == "REAL_NAME_MISMATCH"
    unknown = resident_id("310101", "20150101", "999")
    r = add_dependent(parent, unknown, "王小明")
    assert r.status_code == 422 and r.json["error"] == "REAL_NAME_MISMATCH"


def test_an_adult_is_not_a_minor_child(parent, add_dependent):
    r = add_dependent(parent, ADULT, "孙丽")
    assert r.status_code == 422 and r.json["error"] == "FAMILY_NOT_A_MINOR"


def test_only_elders_can_be_added_as_elders(parent, add_dependent):
    r = add_dependent(parent, ADULT, "孙丽", "elder")
    assert r.status_code == 422 and r.json["error"] == "FAMILY_NOT_AN_ELDER"
    assert add_dependent(parent, CHILD, "王小明", "elder").json["error"] == "FAMILY_NOT_AN_ELDER"


def test_the_guardian_needs_a_verified_real_name(client, login, registry, add_dependent):
    r = add_dependent(bearer(login("13900000044")))
    assert r.status_code == 403 and r.json["error"] == "FAMILY_REAL_NAME_REQUIRED"


def test_i_cannot_add_myself(parent, add_dependent):
    r = add_dependent(parent, PARENT, "王芳", "elder")
    assert r.status_code == 422 and r.json["error"] == "FAMILY_SELF"


def test_a_second_live_link_to_the_same_person_is_refused(parent, add_dependent):
    assert add_dependent(parent).status_code == 201
    r = add_dependent(parent)
    assert r.status_code == 409 and r.json["error"] == "FAMILY_LINK_EXISTS"


def test_bad_input_is_a_422_not_a_500(client, parent):
    for body in ({"name": "王小明", "id_type": "resident_id", "id_number": CHILD, "relation": "friend"},
                 {"name": "王小明", "id_type": "resident_id", "id_number": "310101201501019990", "relation": "elder"},
                 {"name": "", "id_type": "resident_id", "id_number": CHILD, "relation": "minor_child"},
                 {"name": "王小明", "id_type": "resident_id", "id_number": CHILD}):
        r = client.post("/v1/me/dependents", headers=parent, json=body)
        assert r.status_code == 422, (body, r.json)


# --------------------------------------------------------------------------- elders


def test_an_elder_link_waits_for_the_elder_who_is_told_in_the_inbox(client, parent, elder, add_dependent):
    r = add_dependent(parent, ELDER, "赵建国", "elder")
    assert r.status_code == 201 and r.json["status"] == "pending" and r.json["dependent"]["has_account"] is True
    inbox = client.get("/v1/inbox", headers=elder).json["items"]
    assert inbox[0]["category"] == "security" and "*芳" in inbox[0]["body"]
    guardians = client.get("/v1/me/guardians", headers=elder).json["items"]
    assert len(guardians) == 1 and guardians[0]["status"] == "pending"
    assert guardians[0]["guardian"] == {"name": "*芳", "phone": "139****0011"}


def test_the_elder_approves_in_the_app_and_the_guardian_is_told(client, parent, elder, add_dependent):
    link_id = add_dependent(parent, ELDER, "赵建国", "elder").json["id"]
    r = client.post(f"/v1/me/guardians/{link_id}/approve", headers=elder)
    assert r.status_code == 200 and r.json["status"] == "active" and r.json["approved_via"] == "app"
    assert client.get("/v1/me/dependents", headers=parent).json["items"][0]["status"] == "active"
    assert any("同意" in m["title"] for m in client.get("/v1/inbox", headers=parent).json["items"])
    r = client.post(f"/v1/me/guardians/{link_id}/approve", headers=elder)
    assert r.status_code == 409 and r.json["error"] == "FAMILY_LINK_NOT_PENDING"


def test_the_elder_refuses_and_the_request_acts_for_nobody(client, parent, elder, add_dependent):
    link_id = add_dependent(parent, ELDER, "赵建国", "elder").json["id"]
    assert client.delete(f"/v1/me/guardians/{link_id}", headers=elder).status_code == 204
    link = client.get("/v1/me/dependents", headers=parent).json["items"][0]
    assert link["status"] == "refused" and link["ended_reason"] == "refused"
    r = client.post(f"/v1/me/guardians/{link_id}/approve", headers=elder)
    assert r.status_code == 409
    # A refused request does not block a new one.
    assert add_dependent(parent, ELDER, "赵建国", "elder").status_code == 201


def test_the_elder_ends_an_active_link_at_any_time(client, parent, elder, elder_link):
    assert client.delete(f"/v1/me/guardians/{elder_link}", headers=elder).status_code == 204
    link = client.get("/v1/me/dependents", headers=parent).json["items"][0]
    assert link["status"] == "ended" and link["ended_reason"] == "dependent" and link["ended_at"]
    assert client.delete(f"/v1/me/guardians/{elder_link}", headers=elder).status_code == 204   # idempotent


def test_nobody_else_can_approve_or_end_an_elders_link(client, parent, elder, stranger, add_dependent):
    link_id = add_dependent(parent, ELDER, "赵建国", "elder").json["id"]
    for headers in (stranger, parent):
        assert client.post(f"/v1/me/guardians/{link_id}/approve", headers=headers).status_code == 404
        assert client.delete(f"/v1/me/guardians/{link_id}", headers=headers).status_code == 404
    assert client.delete(f"/v1/me/dependents/{link_id}", headers=stranger).status_code == 404
    assert client.delete(f"/v1/me/dependents/{link_id}", headers=elder).status_code == 404


def test_the_guardian_ends_a_link(client, parent, elder, elder_link):
    assert client.delete(f"/v1/me/dependents/{elder_link}", headers=parent).status_code == 204
    guardians = client.get("/v1/me/guardians", headers=elder).json["items"]
    assert guardians[0]["status"] == "ended" and guardians[0]["ended_reason"] == "guardian"
    assert any("解除" in m["title"] for m in client.get("/v1/inbox", headers=elder).json["items"])


def test_a_child_cannot_end_a_registered_guardians_link(client, login, parent, child_link):
    # The child has an account of their own (children may); the link stays the guardian's.
    child = bearer(login("13900000055"))
    r = client.post("/v1/me/real-name", headers=child, json={"name": "王小明", "id_type": "resident_id",
                                                              "id_number": CHILD})
    assert r.status_code == 200
    assert [g["id"] for g in client.get("/v1/me/guardians", headers=child).json["items"]] == [child_link]
    r = client.delete(f"/v1/me/guardians/{child_link}", headers=child)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_MINOR_LINK_FIXED"


def test_guardians_list_is_empty_without_a_verified_real_name(client, login, registry):
    r = client.get("/v1/me/guardians", headers=bearer(login("13900000066")))
    assert r.status_code == 200 and r.json == {"items": [], "next_cursor": None}


# --------------------------------------------------------------------------- limits


def test_at_most_three_guardians_per_elder(client, login, app, tmp_path, elder, add_dependent):
    numbers = [resident_id("310109", f"1990010{i}", "12" + str(i)) for i in range(1, 5)]
    import_persons(app, tmp_path, [person(n, f"甲{i}", f"1990-01-0{i + 1}") for i, n in enumerate(numbers)])
    guardians = []
    for i, n in enumerate(numbers):
        headers = bearer(login(f"1370000000{i}"))
        assert client.post("/v1/me/real-name", headers=headers, json={
            "name": f"甲{i}", "id_type": "resident_id", "id_number": n}).status_code == 200
        guardians.append(headers)
    ids = [add_dependent(h, ELDER, "赵建国", "elder").json["id"] for h in guardians]   # pending ones do not count
    for link_id in ids[:3]:
        assert client.post(f"/v1/me/guardians/{link_id}/approve", headers=elder).status_code == 200
    r = client.post(f"/v1/me/guardians/{ids[3]}/approve", headers=elder)
    assert r.status_code == 409 and r.json["error"] == "FAMILY_TOO_MANY_GUARDIANS"
    client.delete(f"/v1/me/guardians/{ids[0]}", headers=elder)
    assert client.post(f"/v1/me/guardians/{ids[3]}/approve", headers=elder).status_code == 200


def test_at_most_five_dependents_per_guardian(app, tmp_path, parent, add_dependent):
    elders = [resident_id("310110", f"1940010{i}", "13" + str(i)) for i in range(1, 7)]
    import_persons(app, tmp_path, [person(n, f"乙{i}", f"1940-01-0{i + 1}") for i, n in enumerate(elders)])
    for i, n in enumerate(elders[:5]):
        assert add_dependent(parent, n, f"乙{i}", "elder").status_code == 201
    r = add_dependent(parent, elders[5], "乙5", "elder")
    assert r.status_code == 409 and r.json["error"] == "FAMILY_TOO_MANY_DEPENDENTS"


def test_link_attempts_are_rate_limited_per_guardian_failures_included(stranger, add_dependent):
    answers = [add_dependent(stranger).status_code for _ in range(11)]
    assert answers[:10] == [403] * 10 and answers[10] == 429


# --------------------------------------------------------------------------- coming of age


def test_a_minors_link_ends_on_their_18th_birthday_by_itself(client, login, parent, add_dependent, clock,
                                                              code_for):
    r = add_dependent(parent, TEEN, "王大明")
    assert r.status_code == 201 and r.json["status"] == "active"
    link_id = r.json["id"]
    assert code_for(parent, link_id)                   # 17: the guardian acts
    clock.advance(timedelta(days=3).total_seconds())   # the 18th birthday (Shanghai); no job ran
    parent = bearer(login(PHONES["parent"]))           # a fresh access token three days on
    r = client.get(f"/v1/codes/suishen?for={link_id}", headers=parent)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_LINK_ENDED"
    link = client.get("/v1/me/dependents", headers=parent).json["items"][0]
    assert link["status"] == "ended" and link["ended_reason"] == "came_of_age" and link["ended_at"]


def test_an_adult_cannot_be_linked_as_a_child_after_coming_of_age(login, parent, add_dependent, clock):
    clock.advance(timedelta(days=4).total_seconds())
    r = add_dependent(bearer(login(PHONES["parent"])), TEEN, "王大明")
    assert r.status_code == 422 and r.json["error"] == "FAMILY_NOT_A_MINOR"


def test_listing_pages_with_a_cursor(client, parent, add_dependent):
    first = add_dependent(parent).json["id"]
    second = add_dependent(parent, ELDER_NO_PHONE, "钱桂英", "elder").json["id"]
    page = client.get("/v1/me/dependents?limit=1", headers=parent).json
    assert [i["id"] for i in page["items"]] == [second] and page["next_cursor"]
    page = client.get(f"/v1/me/dependents?limit=1&cursor={page['next_cursor']}", headers=parent).json
    assert [i["id"] for i in page["items"]] == [first] and page["next_cursor"] is None

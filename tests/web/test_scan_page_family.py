"""The staff /scan page shows that a guardian presented a dependent's code (api.family)."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.conftest import bearer
from tests.factories import import_persons, resident_id
from tests.web.test_scan_page import STAFF, open_scanner, verdict

PARENT = resident_id("310101", "19850505", "111")
CHILD = resident_id("310101", "20170115", "771")


def test_a_childs_code_shown_by_a_parent(app, server, browser, sms_file, tmp_path, client, login, make_venue):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": PARENT, "name": "王芳", "birth_date": "1985-05-05",
         "district": "黄浦区", "hukou": "1", "guardian_id_numbers": ""},
        {"id_type": "resident_id", "id_number": CHILD, "name": "王小明", "birth_date": "2017-01-15",
         "district": "黄浦区", "hukou": "1", "guardian_id_numbers": PARENT}])
    parent = bearer(login("13800138011", device_id="phone"))
    assert client.post("/v1/me/real-name", headers=parent, json={
        "name": "王芳", "id_type": "resident_id", "id_number": PARENT}).status_code == 200
    link = client.post("/v1/me/dependents", headers=parent, json={
        "name": "王小明", "id_type": "resident_id", "id_number": CHILD, "relation": "minor_child"}).json["id"]
    payload = client.get(f"/v1/codes/suishen?for={link}", headers=parent).json["codes"][0]["payload"]

    venue = make_venue(["general"], STAFF)
    scanner = browser()
    open_scanner(scanner, server, app, sms_file, venue)
    field = scanner.find_element(By.ID, "manual-input")
    field.send_keys(payload)
    field.send_keys(Keys.ENTER)
    panel = verdict(scanner, "ok")
    assert "**明" in panel.text and "Shown by guardian: *芳" in panel.text and "for a child" in panel.text

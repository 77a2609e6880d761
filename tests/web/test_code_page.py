"""The resident's /code page in headless Chromium: a scannable rotating code, offline display."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import bearer
from tests.web.helpers import decode_qr, page_sign_in, save_screenshot

RESIDENT, STAFF = "13800138000", "13700137000"


def shown_payload(driver, timeout: float = 15, other_than: str | None = None) -> str:
    """Wait until the page draws a code (a different one than `other_than`); its payload."""
    def ready(d):
        value = d.find_element(By.ID, "qr").get_attribute("data-payload")
        return value if value and value != other_than else False
    return WebDriverWait(driver, timeout).until(ready)


def test_page_is_served_with_a_strict_content_security_policy(client):
    r = client.get("/code")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and " onclick=" not in r.text   # no inline scripts or handlers
    assert "/code" not in client.get("/openapi.json").json["paths"]   # pages are not API operations


def test_resident_sees_a_code_that_scans_and_verifies(app, server, browser, sms_file, senior_resident, make_venue,
                                                       client, login):
    venue = make_venue(["general", "transport"], STAFF)
    driver = browser()
    driver.get(server["url"] + "/code?scene=general")
    page_sign_in(driver, app, sms_file, RESIDENT)
    payload = shown_payload(driver)
    WebDriverWait(driver, 5).until(ec.text_to_be_present_in_element((By.ID, "countdown"), "refreshes in"))
    png = save_screenshot(driver, "code.png", publish=True).read_bytes()

    assert decode_qr(png) == payload                         # the QR on screen is the code
    r = client.post("/v1/verify", headers=bearer(login(STAFF, device_id="scanner")),
                    json={"payload": payload, "venue_id": venue})
    assert r.status_code == 200, r.json
    assert r.json["valid"] is True and r.json["holder"]["name"] == "*三"


def test_prefetched_codes_keep_rotating_while_offline(server, browser, sms_file, senior_resident, make_venue,
                                                      client, login, app, monkeypatch):
    monkeypatch.setattr(app.extensions["ssb.config"], "CODE_TTL", 5)   # rotate quickly
    venue = make_venue(["general"], STAFF)
    driver = browser()
    driver.get(server["url"] + "/code?scene=general")
    page_sign_in(driver, app, sms_file, RESIDENT)
    first = shown_payload(driver)
    fetches = server["log"].count("GET", "/v1/codes/suishen")

    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    second = shown_payload(driver, timeout=15, other_than=first)   # the next prefetched code, on time
    WebDriverWait(driver, 5).until(ec.visibility_of_element_located((By.ID, "network")))
    assert "Offline" in driver.find_element(By.ID, "network").text
    png = save_screenshot(driver, "code-offline.png").read_bytes()

    assert server["log"].count("GET", "/v1/codes/suishen") == fetches   # nothing reached the server
    assert decode_qr(png) == second
    r = client.post("/v1/verify", headers=bearer(login(STAFF, device_id="scanner")),
                    json={"payload": second, "venue_id": venue})
    assert r.status_code == 200 and r.json["valid"] is True, r.json


@pytest.mark.parametrize("scene,words", [("veteran", "For veterans only")])
def test_a_scene_the_resident_has_no_right_to_is_explained(app, server, browser, sms_file, scene, words):
    driver = browser()
    driver.get(server["url"] + f"/code?scene={scene}")
    page_sign_in(driver, app, sms_file, RESIDENT)
    WebDriverWait(driver, 15).until(ec.text_to_be_present_in_element((By.ID, "code-status"), words))

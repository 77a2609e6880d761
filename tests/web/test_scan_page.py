"""The staff /scan page in headless Chromium: a resident's code, taken from the /code page's
screen, is shown to the scanner's (fake) camera; green once, red "already used" the second time."""
from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import bearer
from tests.web.helpers import decode_qr, page_sign_in, save_screenshot, write_y4m

RESIDENT, STAFF = "13800138000", "13700137000"


def resident_code_from_screen(browser, server, app, sms_file, scene: str) -> bytes:
    """Sign in on /code for `scene` and return the PNG of the QR as drawn on the screen."""
    driver = browser()
    driver.get(server["url"] + f"/code?scene={scene}")
    page_sign_in(driver, app, sms_file, RESIDENT)
    WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, "qr").get_attribute("data-payload"))
    return driver.find_element(By.ID, "qr").screenshot_as_png


def open_scanner(driver, server, app, sms_file, venue: str, phone: str = STAFF) -> None:
    """Sign in on /scan and pick `venue` from the list of the staff member's venues."""
    driver.get(server["url"] + "/scan")
    page_sign_in(driver, app, sms_file, phone)
    pick_venue(driver, venue)


def pick_venue(driver, venue: str) -> None:
    select = WebDriverWait(driver, 10).until(ec.visibility_of_element_located((By.ID, "venue-select")))
    Select(select).select_by_value(venue)
    driver.find_element(By.ID, "venue-submit").click()
    WebDriverWait(driver, 10).until(ec.visibility_of_element_located((By.ID, "scanner")))


def type_venue_id(driver, venue: str) -> None:
    """The fallback: "enter a venue ID" instead of picking one from the list."""
    WebDriverWait(driver, 10).until(ec.visibility_of_element_located((By.ID, "venue-id-toggle"))).click()
    field = driver.find_element(By.ID, "venue-id")
    field.clear()
    field.send_keys(venue)
    driver.find_element(By.ID, "venue-submit").click()


def verdict(driver, kind: str, timeout: float = 20):
    """Wait for the verdict panel to turn `ok` or `bad`; the panel element."""
    WebDriverWait(driver, timeout).until(
        lambda d: f"verdict-{kind}" in d.find_element(By.ID, "verdict").get_attribute("class"))
    return driver.find_element(By.ID, "verdict")


def test_page_is_served_with_a_strict_content_security_policy(client):
    r = client.get("/scan")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "media-src" in csp
    assert "<script>" not in r.text and " on" + "submit=" not in r.text


def test_camera_reads_a_transport_code_once_then_it_is_already_used(app, server, browser, sms_file, tmp_path,
                                                                      senior_resident, make_venue):
    venue = make_venue(["general", "transport"], STAFF)
    qr_png = resident_code_from_screen(browser, server, app, sms_file, "transport")
    payload = decode_qr(qr_png)
    camera = write_y4m(qr_png, tmp_path / "camera.y4m")

    scanner = browser(fake_video=camera)
    open_scanner(scanner, server, app, sms_file, venue)
    panel = verdict(scanner, "ok")
    assert "*三" in panel.text and "Valid" in panel.text and "Senior" in panel.text
    save_screenshot(scanner, "scan.png", publish=True)

    # The camera keeps seeing the same code: it is verified once (a second verification of a
    # single-use transport code would turn the panel red).
    time.sleep(3)
    assert server["log"].count("POST", "/v1/verify") == 1
    assert "verdict-ok" in scanner.find_element(By.ID, "verdict").get_attribute("class")

    scanner.refresh()   # a new page load: same staff session, same venue, same code in view
    panel = verdict(scanner, "bad")
    assert panel.get_attribute("data-code") == "CODE_REPLAYED"
    assert "此码已被使用" in panel.text and "Already used" in panel.text
    save_screenshot(scanner, "scan-replayed.png")
    assert server["log"].count("POST", "/v1/verify") == 2
    assert payload.count(".") == 2


def test_keyboard_wedge_entry_and_refusals_in_plain_words(app, server, browser, sms_file, senior_resident,
                                                          make_venue, client, login):
    venue = make_venue(["general"], STAFF)
    other = make_venue(["general"], "13600136000", name="外滩美术馆")
    r = client.get("/v1/codes/suishen?scene=general", headers=bearer(login(RESIDENT, device_id="phone")))
    payload = r.json["codes"][0]["payload"]

    scanner = browser()   # no camera at all: the text field still works
    open_scanner(scanner, server, app, sms_file, venue)

    def enter(text: str) -> None:
        field = scanner.find_element(By.ID, "manual-input")
        field.send_keys(text)
        field.send_keys(Keys.ENTER)

    enter(payload)
    assert "*三" in verdict(scanner, "ok").text

    enter("https://example.com/not-a-code")
    panel = verdict(scanner, "bad")
    assert panel.get_attribute("data-code") == "MALFORMED_CODE"
    assert "不是有效的随申码" in panel.text and "Not a Suishen code" in panel.text

    forged = payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB")
    enter(forged)
    WebDriverWait(scanner, 10).until(
        lambda d: d.find_element(By.ID, "verdict").get_attribute("data-code") == "CODE_BAD_SIGNATURE")
    assert "Invalid code" in scanner.find_element(By.ID, "verdict").text

    scanner.find_element(By.ID, "venue-change").click()   # staff here, not at the other venue
    type_venue_id(scanner, other)
    enter(payload)
    panel = verdict(scanner, "bad")
    assert panel.get_attribute("data-code") == "NOT_STAFF_OF_VENUE"
    assert "Wrong venue" in panel.text
    save_screenshot(scanner, "scan-wrong-venue.png")


def test_staff_pick_their_venue_from_a_list_of_names_and_scenes(app, server, browser, sms_file, senior_resident,
                                                                make_venue, client, login):
    station = make_venue(["general", "transport"], STAFF)
    museum = make_venue(["general"], STAFF, name="外滩美术馆")
    make_venue(["general"], "13600136000", name="别处")   # someone else's venue is not offered

    scanner = browser()
    scanner.get(server["url"] + "/scan")
    page_sign_in(scanner, app, sms_file, STAFF)
    select = WebDriverWait(scanner, 10).until(ec.visibility_of_element_located((By.ID, "venue-select")))
    options = [(o.get_attribute("value"), o.text) for o in Select(select).options]
    assert options == [(station, "人民广场站 · 通用、交通出行"), (museum, "外滩美术馆 · 通用")]
    assert not scanner.find_element(By.ID, "venue-id").is_displayed()
    save_screenshot(scanner, "scan-venues.png", publish=True)

    pick_venue(scanner, museum)
    assert "外滩美术馆" in scanner.find_element(By.ID, "venue-name").text
    payload = client.get("/v1/codes/suishen?scene=general",
                         headers=bearer(login(RESIDENT, device_id="phone"))).json["codes"][0]["payload"]
    field = scanner.find_element(By.ID, "manual-input")
    field.send_keys(payload)
    field.send_keys(Keys.ENTER)
    assert "*三" in verdict(scanner, "ok").text
    log = client.get("/v1/me/access-log", headers=bearer(login(RESIDENT, device_id="phone"))).json["items"]
    assert log[0]["accessor"]["venue_name"] == "外滩美术馆"

    scanner.find_element(By.ID, "venue-change").click()   # the last venue used comes first next time
    select = WebDriverWait(scanner, 10).until(ec.visibility_of_element_located((By.ID, "venue-select")))
    assert Select(select).first_selected_option.get_attribute("value") == museum


def test_an_account_without_venues_is_told_so_and_may_type_an_id(app, server, browser, sms_file):
    scanner = browser()
    scanner.get(server["url"] + "/scan")
    page_sign_in(scanner, app, sms_file, "13500135000")
    WebDriverWait(scanner, 10).until(ec.text_to_be_present_in_element((By.ID, "venue-msg"), "not staff of any venue"))
    assert scanner.find_element(By.ID, "venue-id").is_displayed()
    assert not scanner.find_element(By.ID, "venue-select").is_displayed()

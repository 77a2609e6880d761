"""Browser tests: the test app served on a loopback port, driven by headless Chromium.

Debian's `chromium` + `chromium-driver` (installed by .ci/run) through Selenium, with the driver
path given so Selenium never downloads anything. Without Chromium the tests skip with a reason,
except in CI (env CI set), where they must run.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import bearer

PHONE = {"width": 390, "height": 844, "pixelRatio": 2}   # an iPhone 12-15 class screen


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = os.environ.get("CHROMIUM") or _find("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or _find("chromedriver")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM and CHROMEDRIVER:
        return
    if os.environ.get("CI"):
        return   # the browser fixture fails loudly instead: CI must run these
    skip = pytest.mark.skip(reason="browser tests need Debian's chromium and chromium-driver "
                                   "(apt-get install chromium chromium-driver)")
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


class RequestLog:
    """WSGI middleware recording (method, path) of every request the live server answers."""

    def __init__(self, app):
        self.app = app
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        return self.app(environ, start_response)

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and p == path)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


@pytest.fixture(scope="session")
def live_server(session_app):
    """The session's test app on http://127.0.0.1:<port>, served by werkzeug in a thread."""
    log = RequestLog(session_app.wsgi_app)
    session_app.wsgi_app = log
    server = make_server("127.0.0.1", 0, session_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "log": log}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        session_app.wsgi_app = log.app


@pytest.fixture
def server(live_server, app):
    """The live server for one test: clean stores (the `app` fixture) and an empty request log."""
    live_server["log"].clear()
    return live_server


@pytest.fixture
def browser(tmp_path):
    """browser(fake_video=None) -> a headless Chromium WebDriver at phone size; all quit afterwards."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("CI is set but chromium / chromedriver are missing (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def _start(fake_video: Path | None = None):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions",
                    "--no-default-browser-check", "--disable-features=Translate,MediaRouter",
                    "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
                    f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=tmp_path)}"):
            options.add_argument(arg)
        if fake_video is not None:
            options.add_argument("--use-fake-device-for-media-stream")
            options.add_argument(f"--use-file-for-fake-video-capture={fake_video}")
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": PHONE,
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0 Mobile Safari/537.36"})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        driver.set_page_load_timeout(30)
        drivers.append(driver)
        return driver

    yield _start
    for driver in drivers:
        try:
            console = driver.get_log("browser")
            errors = [e for e in console if e["level"] == "SEVERE" and "Content Security Policy" in e["message"]]
            assert not errors, f"CSP violations: {errors}"
        finally:
            driver.quit()


@pytest.fixture
def operator(app, client, login):
    """An operator's bearer headers (the role set through the service, then a real sign-in)."""
    from api.extensions import db
    from api.identity.sessions import get_or_create_user

    with app.app_context():
        user = get_or_create_user("+8613900139000", now=int(app.extensions["ssb.clock"]()))
        user.roles = sorted(set(user.roles) | {"operator"})
        db.session.commit()
    return bearer(login("13900139000", device_id="operator"))


@pytest.fixture
def make_venue(client, operator):
    """make_venue(scenes, staff_phone) -> the venue's public id, with that phone as its staff."""

    def _make(scenes: list[str], staff_phone: str, name: str = "人民广场站") -> str:
        r = client.post("/v1/admin/venues", headers=operator, json={
            "name": name, "address": "黄浦区人民大道 120 号", "district": "黄浦区", "kind": "transit",
            "scenes": scenes})
        assert r.status_code == 201, r.json
        venue_id = r.json["id"]
        r = client.post(f"/v1/admin/venues/{venue_id}/staff", headers=operator,
                        json={"phone": staff_phone, "scenes": scenes})
        assert r.status_code in (200, 201), r.json
        return venue_id

    return _make


@pytest.fixture
def senior_resident(app, tmp_path, client, login):
    """13800138000, real-name verified as 张三 born 1950 (a senior: transport concession)."""
    from tests.factories import import_persons, resident_id

    number = resident_id("310101", "19500307", "123")
    import_persons(app, tmp_path, [{"id_type": "resident_id", "id_number": number, "name": "张三",
                                    "birth_date": "1950-03-07", "district": "黄浦区", "hukou": "true"}])
    r = client.post("/v1/me/real-name", headers=bearer(login("13800138000", device_id="setup")),
                    json={"name": "张三", "id_type": "resident_id", "id_number": number})
    assert r.status_code == 200, r.json

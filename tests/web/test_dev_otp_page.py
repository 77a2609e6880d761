"""The sign-in form shows the code itself only on a DEV_SHOW_OTP development server (every other
browser test signs in through `page_sign_in`, which checks that the box stays hidden)."""
from __future__ import annotations

import dataclasses
import threading

import pytest
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from tests.web.helpers import page_sign_in


@pytest.fixture
def dev_server(app, base_config):
    import wsgi

    dev = wsgi.create_app(dataclasses.replace(base_config, DEV_SHOW_OTP=True))
    server = make_server("127.0.0.1", 0, dev, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dev-server", daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": dev}
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.parametrize("page", ["/code", "/scan"])
def test_a_dev_show_otp_server_shows_the_code_on_the_sign_in_page(browser, dev_server, sms_file, page):
    driver = browser()
    driver.get(dev_server["url"] + page)
    page_sign_in(driver, dev_server["app"], sms_file, "13800138000", dev_otp=True)
    assert driver.find_element(By.ID, "signout").is_displayed()

"""Helpers for the browser tests: screenshots, signing in through a page, a fake camera file."""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

from tests.conftest import last_otp

ARTIFACTS = Path(__file__).parent / "artifacts"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save_screenshot(driver, name: str, *, publish: bool = False) -> Path:
    """A full-viewport PNG in tests/web/artifacts/ (gitignored). With `publish` and the env var
    UPDATE_SCREENSHOTS=1 it also replaces docs/screenshots/NAME (the README's pictures; take them
    on a machine with CJK fonts, e.g. Debian's fonts-noto-cjk)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    if publish and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / name)
    return path


def page_sign_in(driver, app, sms_file: Path, phone: str, *, dev_otp: bool = False) -> None:
    """Sign in through the page's own form: send the code, read it from the SMS file, submit.
    The page shows the code itself only when the server runs with DEV_SHOW_OTP (`dev_otp`)."""
    e164 = "+86" + phone[-11:]
    with app.app_context():   # the same phone may have signed in through the API in this test
        from api.extensions import get_redis
        get_redis().delete(f"otp:{{{e164}}}:cooldown")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 15)
    wait.until(ec.visibility_of_element_located((By.ID, "phone"))).send_keys(phone)
    driver.find_element(By.ID, "send-otp").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "signin-msg"), "Code sent"))
    dev_code = driver.find_element(By.ID, "dev-otp")   # only a DEV_SHOW_OTP server shows the code
    assert dev_code.is_displayed() == dev_otp and (last_otp(sms_file, e164) in dev_code.text) == dev_otp
    driver.find_element(By.ID, "otp").send_keys(last_otp(sms_file, e164))
    driver.find_element(By.ID, "signin-submit").click()
    wait.until(ec.invisibility_of_element_located((By.ID, "signin")))


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in a PNG (zxing-cpp)."""
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return found[0].text


def write_y4m(png: bytes, path: Path, *, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A Y4M video (what Chromium's --use-file-for-fake-video-capture plays, in a loop) showing
    the image centred on white, as a phone camera held over a screen would see it."""
    from PIL import Image

    qr = Image.open(io.BytesIO(png)).convert("RGB")
    side = int(min(width, height) * 0.8)
    qr = qr.resize((side, side), Image.Resampling.NEAREST)
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(qr, ((width - side) // 2, (height - side) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half, Image.Resampling.BILINEAR).tobytes() \
        + cr.resize(half, Image.Resampling.BILINEAR).tobytes()
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n")
            fh.write(planes)
    return path

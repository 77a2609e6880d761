"""qr.render: the fast path draws exactly the library's symbol, and a real decoder reads it."""
import io
import xml.etree.ElementTree as ET

import pytest
from qrcode import QRCode, constants

from qr import render
from qr.codes import issue_codes
from qr.keys import KeyRing, SigningKey

RING = KeyRing([SigningKey.generate(created_at=1)])


def _payload(scene="home_service") -> str:
    return issue_codes(ring=RING, issuer="https://ssb.sh.gov.cn", holder_id="f" * 32, scene=scene,
                       now=1_700_000_000, ttl=60)[0].payload


def test_matrix_equals_the_library_with_the_same_version_and_mask():
    payload = _payload()
    q = QRCode(version=render.version_for(len(payload)), error_correction=constants.ERROR_CORRECT_M, border=0,
               mask_pattern=render.FIXED_MASK)
    q.add_data(payload, optimize=0)
    q.make(fit=False)
    assert render.matrix(payload) == q.modules


def test_version_is_the_smallest_that_fits():
    payload = _payload()
    q = QRCode(error_correction=constants.ERROR_CORRECT_M)
    q.add_data(payload, optimize=0)
    q.make(fit=True)
    assert render.version_for(len(payload)) == q.version


def test_png_decodes_to_the_payload():
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image
    for scene in ("general", "home_service"):
        payload = _payload(scene)
        image = Image.open(io.BytesIO(render.render_png(payload)))
        assert image.format == "PNG"
        results = zxingcpp.read_barcodes(image)
        assert [r.text for r in results] == [payload]


def test_svg_is_well_formed_and_decodes():
    payload = _payload()
    svg = render.render_svg(payload)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and root.get("viewBox").startswith("0 0 ")
    zxingcpp = pytest.importorskip("zxingcpp")
    # Rasterise the path runs back into pixels to check the geometry.
    from PIL import Image, ImageDraw
    side = int(root.get("viewBox").split()[2])
    scale = 4
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    for run in path.split("z"):
        if not run:
            continue
        x, rest = run[1:].split(" ", 1)
        y, rest = rest.split("h", 1)
        w = rest.split("v", 1)[0]
        x, y, w = int(x), int(y), int(w)
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + 1) * scale - 1], fill=0)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [payload]


def test_render_dispatch():
    body, media = render.render(_payload(), "png")
    assert media == "image/png" and body.startswith(b"\x89PNG")
    body, media = render.render(_payload(), "svg")
    assert media == "image/svg+xml" and body.startswith(b"<?xml")
    with pytest.raises(ValueError):
        render.render(_payload(), "gif")

"""QR rendering of codes as PNG or SVG, made as cheap as the `qrcode` package allows.

Where the time goes in `qrcode.make(payload)` (≈30 images/s for a 400-character JWS):
  1. `fit=True` searches the smallest version by encoding the data repeatedly;
  2. the default mask selection builds the whole symbol 8 times and scores each;
  3. the PIL image factory draws every module as a rectangle; the SVG factories build an
     element tree.

What we do instead:
  1. the version is computed once per (payload length, error-correction level) and cached
     (one byte-mode segment, `optimize=0`, so the length alone decides the version);
  2. a fixed mask pattern (FIXED_MASK). Every mask yields a standard, decodable symbol; the
     penalty search only avoids patterns that could confuse a poor scanner. Our payload is
     mostly base64 of hashes and signatures (near-random bits), so a fixed mask scores within a
     few percent of the best one. Set `mask=None` to get the library's search back;
  3. the module matrix becomes a 1-module-per-pixel greyscale image scaled with NEAREST (PIL,
     C code) and saved as a 1-bit PNG; SVG is one `<path>` of row runs, the same shape as the
     library's `SvgPathImage` but written directly as a string.
Error correction M (15 %) suits codes shown on a phone screen.
"""
from __future__ import annotations

import io

from qrcode import QRCode, constants

ECC = {"L": constants.ERROR_CORRECT_L, "M": constants.ERROR_CORRECT_M, "Q": constants.ERROR_CORRECT_Q,
       "H": constants.ERROR_CORRECT_H}
DEFAULT_ECC = "M"
FIXED_MASK = 2
BOX_SIZE = 4         # pixels per module in PNG (the app scales it up; no-store means no caching anyway)
BORDER = 4           # quiet zone, modules (the standard minimum)

_versions: dict[tuple[int, str], int] = {}


def version_for(length: int, ecc: str = DEFAULT_ECC) -> int:
    """The smallest QR version holding `length` bytes in byte mode at this level (cached)."""
    key = (length, ecc)
    version = _versions.get(key)
    if version is None:
        q = QRCode(error_correction=ECC[ecc], border=0)
        q.add_data("a" * length, optimize=0)
        q.make(fit=True)
        version = _versions[key] = q.version
    return version


def matrix(payload: str, *, ecc: str = DEFAULT_ECC, mask: int | None = FIXED_MASK) -> list[list[bool]]:
    """The module matrix (True = dark), without quiet zone."""
    data = payload.encode("utf-8")
    q = QRCode(version=version_for(len(data), ecc), error_correction=ECC[ecc], border=0, mask_pattern=mask)
    q.add_data(data, optimize=0)
    q.make(fit=False)
    return q.modules


def render_png(payload: str, *, box_size: int = BOX_SIZE, border: int = BORDER, ecc: str = DEFAULT_ECC,
               mask: int | None = FIXED_MASK) -> bytes:
    from PIL import Image

    modules = matrix(payload, ecc=ecc, mask=mask)
    n = len(modules)
    side = n + 2 * border
    white_row = b"\xff" * side
    pad = b"\xff" * border
    rows = [white_row] * border
    rows += [pad + bytes(0 if dark else 255 for dark in row) + pad for row in modules]
    rows += [white_row] * border
    image = Image.frombytes("L", (side, side), b"".join(rows))
    if box_size != 1:
        image = image.resize((side * box_size, side * box_size), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.convert("1", dither=Image.Dither.NONE).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def render_svg(payload: str, *, border: int = BORDER, ecc: str = DEFAULT_ECC, mask: int | None = FIXED_MASK,
               size_mm: int | None = None) -> bytes:
    """One path of horizontal runs in module units; the viewBox includes the quiet zone."""
    modules = matrix(payload, ecc=ecc, mask=mask)
    n = len(modules)
    side = n + 2 * border
    parts = []
    for y, row in enumerate(modules):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start + border} {y + border}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = f' width="{size_mm}mm" height="{size_mm}mm"' if size_mm else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {side} {side}"{size} shape-rendering="crispEdges">'
            f'<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{"".join(parts)}"/></svg>'
            ).encode("ascii")


def render(payload: str, fmt: str) -> tuple[bytes, str]:
    """(body, media type) for "png" or "svg"."""
    if fmt == "png":
        return render_png(payload), "image/png"
    if fmt == "svg":
        return render_svg(payload), "image/svg+xml"
    raise ValueError(f"unknown image format {fmt!r}")

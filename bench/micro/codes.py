"""随申码 micro-benchmarks, each against a baseline measured in the same run:

- issuing (qr.codes.issue_codes, one code) vs a raw Ed25519 sign of a message of the same size;
- strict offline verification (qr.codes.verify_code with the key ring) vs a raw Ed25519 verify;
  aim ≥ 0.8 for both (the JWS is hand-rolled json + base64 + cryptography for this reason);
- the same verification through PyJWT, for reference;
- QR images: our fast path (fixed version, fixed mask, direct raster / path) vs `qrcode.make`
  with the library defaults (PNG via PIL, SVG via SvgPathImage), in images/s.
"""
from __future__ import annotations

import io
import time

from bench.types import MicroResult

ISS = "https://ssb.sh.gov.cn"
NOW = 1_700_000_000


def _rate(fn, seconds: float) -> float:
    fn()
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            fn()
        n += 20
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def _pair(ours, base, seconds: float, repeats: int) -> tuple[float, float]:
    """Alternate short slices of both and keep each one's best: noise on a shared machine hits
    both alike, and the best slice is the least disturbed one."""
    o = b = 0.0
    for _ in range(repeats):
        o = max(o, _rate(ours, seconds / repeats / 2))
        b = max(b, _rate(base, seconds / repeats / 2))
    return o, b


def run(quick: bool) -> list[MicroResult]:
    import jwt
    import qrcode
    from qrcode.image.svg import SvgPathImage

    from qr import render
    from qr.codes import issue_codes, verify_code
    from qr.keys import KeyRing, SigningKey

    seconds = 0.6 if quick else 3.0
    repeats = 2 if quick else 5
    key = SigningKey.generate(created_at=1)
    ring = KeyRing([key])
    holder = "0123456789abcdef0123456789abcdef"
    payload = issue_codes(ring=ring, issuer=ISS, holder_id=holder, scene="general", now=NOW, ttl=60)[0].payload
    signing_input = payload.rsplit(".", 1)[0].encode()
    signature = key.private_key.sign(signing_input)
    public = key.public_key
    private = key.private_key
    pyjwt_key = jwt.PyJWK(ring.jwks(NOW)["keys"][0]).key

    def ours_sign():
        issue_codes(ring=ring, issuer=ISS, holder_id=holder, scene="general", now=NOW, ttl=60)

    def raw_sign():
        private.sign(signing_input)

    def ours_verify():
        verify_code(payload, ring, NOW)

    def raw_verify():
        public.verify(signature, signing_input)

    def pyjwt_verify():
        jwt.decode(payload, pyjwt_key, algorithms=["EdDSA"], options={"verify_exp": False, "verify_nbf": False,
                                                                          "verify_iat": False})

    def lib_png():
        out = io.BytesIO()
        qrcode.make(payload).save(out)

    def lib_svg():
        qrcode.make(payload, image_factory=SvgPathImage).to_string()

    results = []
    o, b = _pair(ours_sign, raw_sign, seconds, repeats)
    results.append(MicroResult("qr.codes issue (sign) 随申码", o, "raw Ed25519 sign", b, aim=0.8))
    o, b = _pair(ours_verify, raw_verify, seconds, repeats)
    results.append(MicroResult("qr.codes verify_code (strict)", o, "raw Ed25519 verify", b, aim=0.8))
    o, b = _pair(pyjwt_verify, raw_verify, seconds, repeats)
    results.append(MicroResult("PyJWT decode (reference)", o, "raw Ed25519 verify", b))
    o, b = _pair(lambda: render.render_png(payload), lib_png, seconds * 2, repeats)
    results.append(MicroResult("QR image png (qr.render)", o, "qrcode.make png", b, unit="img/s"))
    o, b = _pair(lambda: render.render_svg(payload), lib_svg, seconds * 2, repeats)
    results.append(MicroResult("QR image svg (qr.render)", o, "qrcode.make SvgPath", b, unit="img/s"))
    return results


if __name__ == "__main__":
    for r in run(quick=False):
        print(f"{r.name:34} {r.ours_per_s:10.0f} {r.unit:6} vs {r.baseline_name:22} {r.baseline_per_s:10.0f}  "
              f"ratio {r.ratio:.2f}" + (f" (aim {r.aim})" if r.aim else ""))

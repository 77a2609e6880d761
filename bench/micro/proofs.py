"""E-proof micro-benchmarks, each against a baseline measured in the same run:

- the PDF document (api.proofs.document.render: embedded CJK font subset + vector QR) vs a
  one-page reportlab PDF of the same lines in a base-14 font with no QR, in documents/s: what
  the embedded font and the QR cost;
- strict offline verification (qr.proofs.verify_proof) vs a raw Ed25519 verify of the same
  signing input: what parsing and the claim checks cost.
"""
from __future__ import annotations

import io

from bench.micro.codes import _pair
from bench.types import MicroResult

NOW = 1_700_000_000


def _document():
    from api.proofs.document import ProofDocument
    return ProofDocument(
        title_zh="无犯罪记录证明", title_en="Certificate of no criminal record", number="ZM20231114ABCDEFGHJK",
        holder_name="张三", id_type_zh="居民身份证", id_type_en="Resident identity card",
        id_number_masked="3101**********1234",
        fields=[("核查结论", "Finding", "未发现有犯罪记录", "No criminal record found"),
                ("核查日期", "Checked on", "2023-11-14", "2023-11-14"), ("使用国家或地区", "Country of use", "法国", "法国")],
        issuer_name="上海市公安局", purpose="出国签证", issued_at="2023-11-14 22:13 (UTC+8)",
        valid_until="2024-02-12 22:13 (UTC+8)", verify_url="https://api.ssb.sh.gov.cn/v1/proofs/verify",
        payload="")


def _plain_pdf(doc) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
    c.setFont("Helvetica", 11)
    lines = [doc.title_en, doc.number, doc.id_number_masked, doc.purpose, doc.issued_at, doc.valid_until,
             *(f"{en}: {value}" for _, en, _, value in doc.fields)]
    for i, line in enumerate(lines):
        c.drawString(60, 780 - 20 * i, line.encode("ascii", "replace").decode())
    c.showPage()
    c.save()
    return out.getvalue()


def run(quick: bool) -> list[MicroResult]:
    import dataclasses

    from api.proofs import document
    from qr.keys import KeyRing, SigningKey
    from qr.proofs import sign_proof, verify_proof

    seconds = 0.6 if quick else 3.0
    repeats = 2 if quick else 5
    key = SigningKey.generate(created_at=1)
    ring = KeyRing([key])
    claims = {"iss": "https://ssb.sh.gov.cn", "jti": "ZM20231114ABCDEFGHJK", "pt": "no_criminal_record",
              "iat": NOW, "nbf": NOW, "exp": NOW + 90 * 86400, "hn": "*三", "dep": "上海市公安局",
              "fld": {"conclusion": "none_found", "checked_on": "2023-11-14", "destination": "法国"}}
    payload = sign_proof(claims, key=key)
    doc = dataclasses.replace(_document(), payload=payload)
    signing_input = payload.rsplit(".", 1)[0].encode()
    signature = key.private_key.sign(signing_input)

    pdf, plain = _pair(lambda: document.render(doc), lambda: _plain_pdf(doc), seconds * 2, repeats)
    ours_v, raw_v = _pair(lambda: verify_proof(payload, ring, NOW), lambda: key.public_key.verify(
        signature, signing_input), seconds, repeats)
    return [
        MicroResult("proof PDF (CJK subset + QR)", pdf, "plain reportlab page", plain, unit="docs/s"),
        MicroResult("proof offline verify (qr.proofs)", ours_v, "raw Ed25519 verify", raw_v, aim=0.8),
    ]

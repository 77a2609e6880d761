"""The PDF a person would accept: its text, its embedded CJK font, and a QR that a scanner reads
back from the rendered page and that verifies."""
import re

import pypdfium2 as pdfium
import pytest
import zxingcpp

from api.identity.identity_numbers import ID_TYPES
from api.proofs import document
from api.proofs.wallet import ID_TYPE_NAMES
from qr.proofs import verify_proof
from tests.api.proofs.conftest import ZHANG, ZHANG_PHONE, ask
from tests.conftest import bearer


def _pdf(client, headers, proof_id: int):
    r = client.get(f"/v1/proofs/{proof_id}/document", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/pdf" and r.headers["Cache-Control"] == "no-store"
    assert r.data.startswith(b"%PDF-")
    return r


def _page_text(pdf_bytes: bytes) -> str:
    pdf = pdfium.PdfDocument(pdf_bytes)
    return "\n".join(page.get_textpage().get_text_range() for page in pdf)


def _scan(pdf_bytes: bytes, dpi: int = 150) -> list[str]:
    """Render every page as a scanner's camera would see it and decode the QR codes on it."""
    found = []
    for page in pdfium.PdfDocument(pdf_bytes):
        image = page.render(scale=dpi / 72).to_pil()
        found += [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def test_the_qr_on_the_rendered_page_holds_the_payload_and_verifies(client, resident, issued_proof, clock):
    r = _pdf(client, resident, issued_proof["id"])
    assert re.search(r'filename="proof-ZM\w{18}\.pdf"', r.headers["Content-Disposition"])
    scanned = _scan(r.data)
    assert scanned == [issued_proof["payload"]]
    answer = client.post("/v1/proofs/verify", json={"payload": scanned[0]})
    assert answer.status_code == 200 and answer.json["valid"] is True
    jwks = client.get("/.well-known/jwks.json").json
    assert verify_proof(scanned[0], jwks, int(clock()))["jti"] == issued_proof["number"]


def test_the_document_reads_as_a_proof_with_masked_identity(client, resident, issued_proof):
    text = _page_text(_pdf(client, resident, issued_proof["id"]).data)
    for expected in ("无犯罪记录证明", "Certificate of no criminal record", "张三", issued_proof["number"],
                     "居民身份证", ZHANG[:4] + "*" * 10 + ZHANG[-4:], "未发现有犯罪记录", "上海市公安局",
                     "出国签证", "有效期至", "扫码核验"):
        assert expected in text, expected
    assert ZHANG not in text and ZHANG[6:14] not in text     # neither the number nor the birth date


def test_chinese_is_set_in_an_embedded_font(client, resident):
    proof_id = ask(client, resident, "residence")["proof_id"]
    data = _pdf(client, resident, proof_id).data
    assert b"/FontFile2" in data                    # a TrueType font program is embedded...
    assert re.search(rb"/BaseFont /[A-Z]{6}\+WenQuanYiMicroHei", data) or b"WenQuanYi" in data
    assert b"STSong-Light" not in data              # ...and nothing fell back to a reader's font
    text = _page_text(data)
    assert "居住证明" in text and "黄浦区" in text and "本市户籍" in text


def test_the_title_is_inked_on_the_page(client, resident):
    """Glyphs of the title are drawn (an unembedded font on a machine without CJK fonts prints
    nothing there): the title's character boxes hold dark pixels."""
    proof_id = ask(client, resident, "residence")["proof_id"]
    pdf = pdfium.PdfDocument(_pdf(client, resident, proof_id).data)
    page, scale = pdf[0], 2
    text = page.get_textpage()
    start = text.get_text_range().index("居住证明")
    image = page.render(scale=scale).to_pil().convert("L")
    height = page.get_height()
    for i in range(start, start + 4):
        left, bottom, right, top = text.get_charbox(i)
        box = image.crop((int(left * scale), int((height - top) * scale),
                          int(right * scale) + 1, int((height - bottom) * scale) + 1))
        assert box.getextrema()[0] < 100, f"character {i - start} of the title has no ink"


def test_no_document_for_a_revoked_proof(client, resident, issued_proof, police):
    client.delete(f"/v1/issuer/proofs/{issued_proof['id']}", headers=police)
    r = client.get(f"/v1/proofs/{issued_proof['id']}/document", headers=resident)
    assert r.status_code == 409 and r.json["error"] == "PROOF_REVOKED"


def test_no_document_for_an_expired_proof(client, login, resident, issued_proof, clock):
    clock.advance(31 * 86400)
    fresh = bearer(login(ZHANG_PHONE, "zhang-new-phone"))
    r = client.get(f"/v1/proofs/{issued_proof['id']}/document", headers=fresh)
    assert r.status_code == 409 and r.json["error"] == "PROOF_EXPIRED"


def test_every_identity_document_type_has_a_printed_name():
    assert set(ID_TYPE_NAMES) == set(ID_TYPES)


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "Zhang San", "李㐀"])
def test_text_runs_use_the_embedded_font_wherever_it_has_the_glyph(name):
    runs = document._runs(name)
    assert "".join(part for _, part in runs) == name
    fallback = [part for font, part in runs if font == document.FALLBACK_FONT]
    assert fallback == (["㐀"] if "㐀" in name else [])


def test_long_values_wrap_and_push_the_qr_to_a_second_page():
    long_value = "上海市浦东新区张江高科技园区某某信息科技有限公司" * 4
    doc = document.ProofDocument(
        title_zh="社保缴费证明", title_en="Social insurance payment record", number="ZM20261203ABCDEFGHJK",
        holder_name="张三", id_type_zh="居民身份证", id_type_en="Resident identity card",
        id_number_masked="3101**********1234",
        fields=[(f"字段{i}", f"Field {i}", long_value, long_value) for i in range(6)],
        issuer_name="上海市人力资源和社会保障局", purpose="居住证积分", issued_at="2026-12-03 10:00",
        valid_until="2027-03-03 10:00", verify_url="http://127.0.0.1:8000/v1/proofs/verify",
        payload="eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ4In0.c2ln")
    data = document.render(doc)
    assert len(pdfium.PdfDocument(data)) == 2
    assert _scan(data) == [doc.payload]

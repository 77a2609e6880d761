"""The e-proof as a one-page A4 PDF: what a bank clerk or an embassy reads, and a QR they scan.

Rendered with reportlab. Text is set in WenQuanYi Micro Hei (shipped in `fonts/`, Apache-2.0),
embedded as a subset, so the Chinese text shows as printed in any reader, with no font installed;
a character the font lacks falls back to the standard CID font STSong-Light. The QR is drawn as
vector modules (no image), error correction M, from `qr.render.matrix`: it holds the proof's
compact JWS and nothing else.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from qr.render import matrix

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
MAIN_FONT = "WenQuanYiMicroHei"
FALLBACK_FONT = "STSong-Light"
PAGE_W, PAGE_H = A4
MARGIN = 20 * mm
QR_SIDE = 55 * mm
INK = (0.1, 0.1, 0.1)
ACCENT = (0.64, 0.09, 0.09)    # the red of official seals and headers
GREY = (0.4, 0.4, 0.4)


@dataclass(frozen=True)
class ProofDocument:
    """Everything printed: display strings only (times already in Shanghai time)."""

    title_zh: str
    title_en: str
    number: str
    holder_name: str
    id_type_zh: str
    id_type_en: str
    id_number_masked: str
    fields: list = field(default_factory=list)       # (label_zh, label_en, value_zh, value_en)
    issuer_name: str = ""
    purpose: str = ""
    issued_at: str = ""
    valid_until: str = ""
    verify_url: str = ""
    payload: str = ""


_fonts: dict[str, frozenset] = {}


def _main_charset() -> frozenset:
    """Register the fonts once per process; the code points the main font has."""
    if MAIN_FONT not in _fonts:
        font = TTFont(MAIN_FONT, str(FONT_FILE), subfontIndex=0)
        pdfmetrics.registerFont(font)
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
        _fonts[MAIN_FONT] = frozenset(font.face.charToGlyph)
    return _fonts[MAIN_FONT]


def _runs(text: str) -> list[tuple[str, str]]:
    """Split text into (font, substring) runs: the main font wherever it has the glyph."""
    charset = _main_charset()
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = MAIN_FONT if ord(ch) in charset or ch.isspace() else FALLBACK_FONT
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


_widths: dict[tuple[str, float], float] = {}


def _char_width(ch: str, size: float) -> float:
    width = _widths.get((ch, size))
    if width is None:
        font = MAIN_FONT if ord(ch) in _main_charset() or ch.isspace() else FALLBACK_FONT
        width = _widths[(ch, size)] = pdfmetrics.stringWidth(ch, font, size)
    return width


def text_width(text: str, size: float) -> float:
    """The advance width (reportlab applies no kerning, so it is the sum over characters)."""
    return sum(_char_width(ch, size) for ch in text)


def draw_text(c: Canvas, x: float, y: float, text: str, size: float, *, colour=INK, align: str = "left") -> None:
    if align != "left":
        width = text_width(text, size)
        x -= width / 2 if align == "centre" else width
    c.setFillColorRGB(*colour)
    for font, part in _runs(text):
        c.setFont(font, size)
        c.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, font, size)


# Closing punctuation never starts a line (禁则): it stays at the end of the previous one.
_NO_LINE_START = frozenset("，。、；：！？）》」』”’,.;:!?)")


def wrap(text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking by character (Chinese has no spaces), preferring spaces in Latin text."""
    lines, line, line_width = [], "", 0.0
    for ch in text:
        advance = _char_width(ch, size)
        if line_width + advance <= width or not line or ch in _NO_LINE_START:
            line, line_width = line + ch, line_width + advance
            continue
        cut = line.rfind(" ")
        if ch != " " and cut > len(line) // 2:
            lines.append(line[:cut])
            line = line[cut + 1:] + ch
        else:
            lines.append(line)
            line = "" if ch == " " else ch
        line_width = text_width(line, size)
    if line:
        lines.append(line)
    return lines or [""]


def _draw_qr(c: Canvas, payload: str, x: float, y: float, side: float) -> None:
    """Vector QR with a 4-module quiet zone inside `side`: one filled path of a rectangle per run
    of dark modules, drawn in module units (integers) under a scaling transform."""
    modules = matrix(payload)
    n = len(modules)
    c.saveState()
    c.translate(x, y)
    c.scale(side / (n + 8), side / (n + 8))
    c.setFillColorRGB(1, 1, 1)
    c.rect(0, 0, n + 8, n + 8, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    path = c.beginPath()
    for row_index, row in enumerate(modules):
        bottom = n + 3 - row_index
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(start + 4, bottom, col - start, 1)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _row(c: Canvas, y: float, label_zh: str, label_en: str, value: str, value_en: str = "") -> float:
    """A label column and a wrapped value column (its English text below, smaller, where it
    differs); returns the y below the row."""
    label_x, value_x, value_w = MARGIN, MARGIN + 52 * mm, PAGE_W - 2 * MARGIN - 52 * mm
    draw_text(c, label_x, y, label_zh, 11)
    draw_text(c, label_x, y - 12, label_en, 7.5, colour=GREY)
    lines = [(line, 12, INK, 15) for line in wrap(value, 12, value_w)]
    if value_en and value_en != value:
        lines += [(line, 8.5, GREY, 11) for line in wrap(value_en, 8.5, value_w)]
    line_y = y
    for text, size, colour, step in lines:
        draw_text(c, value_x, line_y, text, size, colour=colour)
        line_y -= step
    return min(line_y, y - 20) - 11


def _header(c: Canvas, doc: ProofDocument) -> float:
    c.setFillColorRGB(*ACCENT)
    c.rect(0, PAGE_H - 12 * mm, PAGE_W, 12 * mm, stroke=0, fill=1)
    draw_text(c, MARGIN, PAGE_H - 8 * mm, "上海市电子证明  Shanghai e-proof", 11, colour=(1, 1, 1))
    draw_text(c, PAGE_W - MARGIN, PAGE_H - 8 * mm, f"证明编号 No. {doc.number}", 10, colour=(1, 1, 1),
              align="right")
    draw_text(c, PAGE_W / 2, PAGE_H - 34 * mm, doc.title_zh, 26, align="centre")
    draw_text(c, PAGE_W / 2, PAGE_H - 42 * mm, doc.title_en, 13, colour=GREY, align="centre")
    c.setStrokeColorRGB(*ACCENT)
    c.setLineWidth(1.2)
    c.line(MARGIN, PAGE_H - 48 * mm, PAGE_W - MARGIN, PAGE_H - 48 * mm)
    return PAGE_H - 60 * mm


def _statement(c: Canvas, doc: ProofDocument, y: float) -> None:
    width = PAGE_W - 2 * MARGIN - QR_SIDE - 8 * mm
    zh = (f"兹证明上述信息属实。本证明为电子证明，由{doc.issuer_name}出具，与纸质证明具有同等效力。"
          f"核验真伪请扫描右侧二维码，或将二维码内容提交至 {doc.verify_url}。本证明不显示完整证件号码。")
    en = ("This is to certify that the information above is true. This electronic proof has the same force "
          "as a paper one. To check it, scan the QR code or submit its content to the address above; the "
          "answer shows whether it is valid, expired or revoked.")
    for line in wrap(zh, 10, width):
        draw_text(c, MARGIN, y, line, 10)
        y -= 14
    y -= 4
    for line in wrap(en, 8, width):
        draw_text(c, MARGIN, y, line, 8, colour=GREY)
        y -= 10


def _footer(c: Canvas, doc: ProofDocument) -> None:
    draw_text(c, PAGE_W / 2, 10 * mm, f"{doc.number} · 随申办 Suishenban", 7.5, colour=GREY, align="centre")


def render(doc: ProofDocument) -> bytes:
    """One A4 page: header, title, holder, fields, issuer and dates, statement, QR."""
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(f"{doc.title_zh} {doc.number}")
    c.setAuthor(doc.issuer_name)
    c.setSubject(doc.title_en)
    y = _header(c, doc)
    y = _row(c, y, "姓名", "Name", doc.holder_name)
    y = _row(c, y, "证件类型", "Identity document", doc.id_type_zh, doc.id_type_en)
    y = _row(c, y, "证件号码", "Document number", doc.id_number_masked)
    for label_zh, label_en, value_zh, value_en in doc.fields:
        y = _row(c, y, label_zh, label_en, value_zh, value_en)
    y = _row(c, y, "用途", "Purpose", doc.purpose)
    y = _row(c, y, "出具机关", "Issued by", doc.issuer_name)
    y = _row(c, y, "出具时间", "Issued at", doc.issued_at)
    y = _row(c, y, "有效期至", "Valid until", doc.valid_until)
    qr_y = MARGIN + 10 * mm
    if y - 4 * mm < qr_y + QR_SIDE:      # long values reached the QR block: it goes on a second page
        _footer(c, doc)
        c.showPage()
        qr_y = PAGE_H - MARGIN - QR_SIDE - 10 * mm
    qr_x = PAGE_W - MARGIN - QR_SIDE
    _draw_qr(c, doc.payload, qr_x, qr_y, QR_SIDE)
    draw_text(c, qr_x + QR_SIDE / 2, qr_y - 5 * mm, "扫码核验  Scan to verify", 9, align="centre")
    _statement(c, doc, qr_y + QR_SIDE - 6 * mm)
    _footer(c, doc)
    c.showPage()
    c.save()
    return buffer.getvalue()

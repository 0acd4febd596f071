"""What makes a copy cheaper must not change what is printed: the QR code drawn as one path
has exactly the modules of the code, the cached text measurements equal fresh ones and are
forgotten after each document, and the streams are binary (Flate, no ASCII85)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import segno

from jumin.certificates import fonts, render
from jumin.certificates.tests.helpers import pdf_text, squeeze

URL = "http://testserver/verify/ABCDEFGHJKLM?c=ABCD2345"


def _modules(path: str, x: float, y: float, size: float, n: int) -> list[list[int]]:
    """The module matrix the path paints (border of 2 modules, as drawn)."""
    module = size / (n + 4)
    grid = [[0] * n for _ in range(n)]
    for line in path.splitlines():
        left, bottom, width, height, op = line.split()
        assert op == "re" and abs(float(height) - module) < 0.002
        row = round((y + size - float(bottom)) / module) - 3
        first = round((float(left) - x) / module) - 2
        for col in range(first, first + round(float(width) / module)):
            assert grid[row][col] == 0  # runs do not overlap
            grid[row][col] = 1
    return grid


def test_the_qr_path_paints_exactly_the_dark_modules():
    # issue 6 item 6: the QR code of the verification URL
    qr = segno.make(URL, error="m", micro=False, mask=3, boost_error=False)
    expected = [[1 if v else 0 for v in row] for row in qr.matrix]
    x, y, size = 100.0, 30.0, 51.0
    assert _modules(render._qr_path(URL, x, y, size), x, y, size, len(expected)) == expected


def _document(name: str) -> render.Document:
    return render.Document(
        kind="record_copy",
        title="住民票の写し",
        subtitle="",
        blocks=[
            render.Block(rows=[[render.Field("氏名", name), render.Field("生年月日", "昭和57年")]])
        ],
        certification_text="この写しは、住民票の原本と相違ないことを証明する。",
        issued_on=dt.date(2026, 4, 1),
        certifier_line="相模原市長　相模　一郎",
        seal=render.Seal(None, 21, "相模原市長之印"),
        municipality="相模原市",
        issue_number="20260401 相模原市 T1 P1 001",
        qr_url=URL,
    )


def test_measurements_are_cached_per_document_and_forgotten_after():
    text = "𠮷野　髙子"  # a rare character: the IPAmj font for 𠮷
    fresh = fonts.runs(text)
    assert fresh[0][0] == fonts.FONT_NAMES["rare"]
    assert fonts.text_width(text, 10) == fonts.text_width(text, 10)
    assert fonts.missing_characters("\U000f0000") == {"\U000f0000"}  # private use: no font
    rendered = render.render(_document(text))
    # the document's names and addresses do not stay in the caches
    assert fonts._runs.cache_info().currsize == 0
    assert fonts._width.cache_info().currsize == 0
    assert fonts._missing.cache_info().currsize == 0
    assert "𠮷野髙子" in squeeze(pdf_text(rendered.pdf))
    assert b"/ASCII85Decode" not in rendered.pdf and b"/FlateDecode" in rendered.pdf


def test_each_document_carries_its_own_qr_code():
    first = render.render(_document("相模　太郎")).pdf
    other = render.render(
        dataclasses.replace(_document("相模　太郎"), qr_url=URL.replace("ABCD", "WXYZ"))
    ).pdf
    assert first != other
    assert re.search(rb"/Subtype /Image", first) is None  # a vector code, not an image


def test_font_subsets_are_those_reportlab_makes():
    # the glyph table is read in place (IPAmj明朝: 45 MB) instead of copied per document;
    # the embedded subsets stay byte for byte what ReportLab makes from a copy
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    fonts.register_fonts()
    for role, name in fonts.FONT_NAMES.items():
        face = pdfmetrics.getFont(name).face
        plain = TTFont(f"Plain{role}", str(fonts.font_path(role))).face
        codes = sorted(face.charToGlyph)
        sample = codes[:: max(1, len(codes) // 200)][:200]
        if role == "rare":
            sample = [0x20BB7, *sample[:150]]  # 𠮷
        assert face.makeSubset(sample) == plain.makeSubset(sample)
        assert not isinstance(face.get_table("glyf"), bytes)
        assert face.get_table("head") == plain.get_table("head")

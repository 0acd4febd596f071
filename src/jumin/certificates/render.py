"""A4 PDF layout of the certificates (ReportLab), following std 5 (j1000–j1070).

:func:`render` takes a :class:`Document` — what to print, already chosen by
``jumin.certificates.documents`` from the register and the requested options — and lays it out:

- a title per kind, the 公用 mark (std 5.7, j1060) and the 再交付 mark (std 4.1.3.0.3, j660);
- the items as a ruled table, one block per person (a numbered block in the household form);
  a block is kept on one page when it fits, else continued on the next;
- an item too long for its cell is printed smaller first, then (std 5.8, j1070, setting
  ``JUMIN_CERT_OVERFLOW``) continued on further lines (``wrap``), cut at the limit
  (``truncate``) or left blank (``blank``); :attr:`Rendered.overflows` lists the items so that
  the clerk is alerted (the 文字超過リスト);
- the certification text, the date, the certifier and the electronic official seal (≤ 25 mm,
  black; std 5.6, j1050) on the last page only (std 5.1, j1000);
- on every page the issue number ``YYYYMMDD 市区町村名 端末 プリンタ 連番 頁/総頁`` (std 5.5,
  j1040), the QR code of the public verification page, and 見本 across the page in demo mode and on
  every preview.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from jumin.certificates import fonts
from jumin.core.wareki import format_wareki

MM = 72 / 25.4
PAGE_W, PAGE_H = float(A4[0]), float(A4[1])
LEFT = 15 * MM
RIGHT = PAGE_W - 15 * MM
TOP = PAGE_H - 12 * MM
BOTTOM = 10 * MM
FOOTER_H = 25 * MM
QR_MM = 18
GUTTER = 7 * MM
LABEL_W = 30 * MM
CERT_H = 48 * MM

VALUE_SIZE = 10.0
MIN_SIZE = 7.0
WRAP_SIZE = 8.0
LABEL_SIZE = 7.5
PAD = 2.6
LINE = 1.32


@dataclass(frozen=True)
class Field:
    """One item: its label (empty: the value spans the label column too), the value, and its
    share of the row's width."""

    label: str
    value: str
    weight: float = 1.0
    label_width: float = LABEL_W
    small: bool = False  # a secondary value (smaller type)


@dataclass(frozen=True)
class Block:
    """Rows kept together where they fit: one person, the address header, a note."""

    rows: list[list[Field]]
    number: str = ""  # printed in the left gutter (household form: 1, 2, 3 …)
    heading: str = ""  # a caption line above the rows


@dataclass(frozen=True)
class Seal:
    """The electronic official seal: an image file, or the generated demo seal."""

    image: Path | None
    size_mm: float
    text: str  # the characters of the generated seal (市区町村長之印)
    note: str = ""


@dataclass
class Document:
    kind: str
    title: str
    subtitle: str
    blocks: list[Block]
    certification_text: str
    issued_on: dt.date
    certifier_line: str
    seal: Seal
    municipality: str
    official_use: bool = False
    reissue: bool = False
    watermark: bool = False  # 見本
    issue_number: str = ""  # without the page part; "" on a preview
    qr_url: str = ""  # the verification URL; "" on a preview
    verification_text: str = ""
    addressee: str = ""  # 住民票コード通知票: 「… 様」
    intro: str = ""  # a paragraph before the table (notice text)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    overflows: list[str]
    missing_characters: frozenset[str]
    page_numbers: list[str]  # the issue number printed on each page


# --------------------------------------------------------------------------- cell text


@dataclass
class _Text:
    lines: list[str]
    size: float


def _fit(text: str, width: float, base: float, mode: str, label: str, over: list[str]) -> _Text:
    """std 5.8 (j1070): shrink first; if the item still does not fit, follow the setting."""
    if not text:
        return _Text([""], base)
    paragraphs = text.split("\n")
    if all(fonts.text_width(p, base) <= width for p in paragraphs):
        return _Text(paragraphs, base)
    size = base - 0.5
    while size >= MIN_SIZE:
        if all(fonts.text_width(p, size) <= width for p in paragraphs):
            return _Text(paragraphs, size)
        size -= 0.5
    if label and label not in over:
        over.append(label)
    if mode == "blank":
        return _Text([""], base)
    if mode == "truncate":
        out = []
        for p in paragraphs:
            while p and fonts.text_width(p, MIN_SIZE) > width:
                p = p[:-1]
            out.append(p)
        return _Text(out, MIN_SIZE)
    return _Text(fonts.wrap(text, WRAP_SIZE, width), WRAP_SIZE)


@dataclass
class _Cell:
    x: float
    width: float
    label: _Text | None
    label_width: float
    value: _Text


@dataclass
class _Row:
    cells: list[_Cell]
    height: float
    block: int
    first: bool
    number: str


def _text_height(t: _Text) -> float:
    return len(t.lines) * t.size * LINE


def _prepare_row(
    fields_: list[Field], x0: float, width: float, mode: str, over: list[str]
) -> tuple[list[_Cell], float]:
    total = sum(f.weight for f in fields_) or 1.0
    x = x0
    cells: list[_Cell] = []
    height = 0.0
    for f in fields_:
        w = width * f.weight / total
        lw = min(f.label_width, w * 0.5) if f.label else 0.0
        label = (
            _Text(fonts.wrap(f.label, LABEL_SIZE, lw - 2 * PAD), LABEL_SIZE) if f.label else None
        )
        base = VALUE_SIZE - (1.5 if f.small else 0.0)
        value = _fit(f.value, w - lw - 2 * PAD, base, mode, f.label or "記載事項", over)
        cells.append(_Cell(x, w, label, lw, value))
        height = max(height, _text_height(value), _text_height(label) if label else 0.0)
        x += w
    return cells, max(height + 2 * PAD, 17.0)


# --------------------------------------------------------------------------- layout


@dataclass
class _Page:
    rows: list[tuple[float, _Row]] = field(default_factory=list)  # (top y, row)
    headings: list[tuple[float, str]] = field(default_factory=list)
    certification: bool = False


def _first_body_top(doc: Document) -> float:
    top = TOP - 22 * MM
    if doc.addressee:
        top -= 12 * MM
    if doc.intro:
        top -= _intro_height(doc)
    return top


def _intro_height(doc: Document) -> float:
    width = RIGHT - LEFT
    return len(fonts.wrap(doc.intro, 10.5, width)) * 10.5 * LINE + 4 * MM


def _continued_top() -> float:
    return TOP - 16 * MM


def _body_bottom() -> float:
    return BOTTOM + FOOTER_H


def _layout(doc: Document, mode: str, over: list[str]) -> list[_Page]:
    x0, width = LEFT, RIGHT - LEFT
    prepared: list[tuple[Block, list[_Row]]] = []
    for index, block in enumerate(doc.blocks):
        rows = []
        inner_x = x0 + (GUTTER if block.number else 0.0)
        inner_w = width - (GUTTER if block.number else 0.0)
        for i, fields_ in enumerate(block.rows):
            cells, height = _prepare_row(fields_, inner_x, inner_w, mode, over)
            rows.append(_Row(cells, height, index, i == 0, block.number))
        prepared.append((block, rows))

    pages = [_Page()]
    y = _first_body_top(doc)
    bottom = _body_bottom()
    full = _continued_top() - bottom
    heading_h = 6 * MM
    for block, rows in prepared:
        need = sum(r.height for r in rows) + (heading_h if block.heading else 0.0)
        if y - need < bottom and need <= full:
            pages.append(_Page())
            y = _continued_top()
        if block.heading:
            if y - heading_h - (rows[0].height if rows else 0) < bottom:
                pages.append(_Page())
                y = _continued_top()
            pages[-1].headings.append((y, block.heading))
            y -= heading_h
        for row in rows:
            if y - row.height < bottom:
                pages.append(_Page())
                y = _continued_top()
            pages[-1].rows.append((y, row))
            y -= row.height
    # std 5.1 (j1000): the certification text on the last page only — after the last row
    if y - CERT_H < bottom:
        pages.append(_Page())
    pages[-1].certification = True
    return pages


# --------------------------------------------------------------------------- drawing


def _draw_text_block(c: Canvas, x: float, top: float, t: _Text, width: float | None = None) -> None:
    y = top - t.size * 1.05
    for line in t.lines:
        fonts.draw_text(c, x, y, line, size=t.size)
        y -= t.size * LINE
    del width


def _draw_row(c: Canvas, top: float, row: _Row) -> None:
    c.setLineWidth(0.5)
    for cell in row.cells:
        if cell.label is not None:
            c.setFillGray(0.93)
            c.rect(cell.x, top - row.height, cell.label_width, row.height, stroke=1, fill=1)
            c.setFillGray(0)
            _draw_text_block(c, cell.x + PAD, top - PAD, cell.label)
        c.rect(
            cell.x + cell.label_width,
            top - row.height,
            cell.width - cell.label_width,
            row.height,
            stroke=1,
            fill=0,
        )
        _draw_text_block(c, cell.x + cell.label_width + PAD, top - PAD, cell.value)


def _draw_gutters(c: Canvas, page: _Page) -> None:
    segments: dict[int, list[tuple[float, _Row]]] = {}
    for top, row in page.rows:
        if row.number:
            segments.setdefault(row.block, []).append((top, row))
    for rows in segments.values():
        top = rows[0][0]
        bottom = rows[-1][0] - rows[-1][1].height
        c.setLineWidth(0.5)
        c.rect(LEFT, bottom, GUTTER, top - bottom, stroke=1, fill=0)
        if rows[0][1].first:
            fonts.draw_centred(
                c, LEFT + GUTTER / 2, top - 5 * MM, rows[0][1].number, size=10, font="gothic"
            )
    # a heavier rule above each block
    c.setLineWidth(1.1)
    for top, row in page.rows:
        if row.first:
            c.line(LEFT, top, RIGHT, top)
    c.setLineWidth(0.5)


def _mark(c: Canvas, x: float, y: float, text: str, size: float = 13) -> float:
    width = fonts.text_width(text, size, "gothic") + 4 * MM
    c.setLineWidth(1.2)
    c.rect(x, y - 2 * MM, width, size + 3 * MM, stroke=1, fill=0)
    fonts.draw_text(c, x + 2 * MM, y + 0.3 * MM, text, size=size, font="gothic")
    return width


def _draw_header(c: Canvas, doc: Document, page_no: int) -> None:
    if page_no == 1:
        fonts.draw_centred(c, PAGE_W / 2, TOP - 11 * MM, doc.title, size=20, font="gothic")
        if doc.subtitle:
            fonts.draw_centred(c, PAGE_W / 2, TOP - 17.5 * MM, doc.subtitle, size=10)
    else:
        fonts.draw_centred(
            c, PAGE_W / 2, TOP - 9 * MM, f"{doc.title}（続き）", size=13, font="gothic"
        )
    x = LEFT
    if doc.official_use:
        x += _mark(c, x, TOP - 10 * MM, "公用") + 3 * MM
    if doc.reissue:
        _mark(c, x, TOP - 10 * MM, "再交付")
    if page_no == 1:
        y = TOP - 22 * MM
        if doc.addressee:
            fonts.draw_text(c, LEFT, y - 8 * MM, f"{doc.addressee}　様", size=13)
            y -= 12 * MM
        if doc.intro:
            for line in fonts.wrap(doc.intro, 10.5, RIGHT - LEFT):
                y -= 10.5 * LINE
                fonts.draw_text(c, LEFT, y + 2, line, size=10.5)


def _qr_path(url: str, x: float, y: float, size: float) -> str:
    """The dark modules of the QR code of ``url`` as one PDF path (one rectangle per run of
    dark modules in a row), to be filled at once."""
    # a fixed mask: choosing the best of eight costs more than the rest of the code
    qr = segno.make(url, error="m", micro=False, mask=3, boost_error=False)
    matrix = [bytes(row) for row in qr.matrix]
    n = len(matrix)
    border = 2
    module = size / (n + 2 * border)
    ops: list[str] = []
    for r, row in enumerate(matrix):
        top = y + size - (border + r + 1) * module
        start = None
        for col in range(n + 1):
            dark = col < n and row[col] != 0
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                left = x + (border + start) * module
                ops.append(f"{left:.3f} {top:.3f} {(col - start) * module:.3f} {module:.3f} re")
                start = None
    return "\n".join(ops)


def _draw_qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as vector rectangles on a white square, filled as one path."""
    c.setFillGray(1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillGray(0)
    c.addLiteral(_qr_path(url, x, y, size) + "\nf")


def _draw_footer(c: Canvas, doc: Document, page_no: int, pages: int) -> str:
    size = QR_MM * MM
    qx, qy = RIGHT - size, BOTTOM + 1 * MM
    if doc.qr_url:
        _draw_qr(c, doc.qr_url, qx, qy, size)
    else:
        c.setDash(2, 2)
        c.rect(qx, qy, size, size, stroke=1, fill=0)
        c.setDash()
        fonts.draw_centred(c, qx + size / 2, qy + size / 2 + 1, "検証用QRコード", size=5.5)
        fonts.draw_centred(c, qx + size / 2, qy + size / 2 - 6, "（交付時に印字）", size=5.5)
    if doc.verification_text:
        for i, line in enumerate(doc.verification_text.split("\n")):
            fonts.draw_right(c, qx - 2 * MM, qy + 8 * MM - i * 8, line, size=6.5)
    number = f"{doc.issue_number} {page_no}/{pages}" if doc.issue_number else ""
    fonts.draw_text(
        c,
        LEFT,
        BOTTOM + 2 * MM,
        f"発行番号　{number}" if number else f"発行番号　（見本・交付時に印字）{page_no}/{pages}",
        size=8,
    )
    c.setLineWidth(0.4)
    c.line(LEFT, BOTTOM + FOOTER_H - 3 * MM, RIGHT, BOTTOM + FOOTER_H - 3 * MM)
    return number


def _draw_watermark(c: Canvas) -> None:
    c.saveState()
    c.setFillColorRGB(0.55, 0.55, 0.55, alpha=0.28)
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(32)
    fonts.draw_centred(c, 0, -50, "見本", size=190, font="gothic")
    c.restoreState()
    c.saveState()
    c.setFillColorRGB(0.55, 0.55, 0.55)
    fonts.draw_right(c, RIGHT, TOP - 4 * MM, "見本（効力はありません）", size=9, font="gothic")
    c.restoreState()


def _draw_demo_seal(c: Canvas, seal: Seal, x: float, y: float) -> None:
    """A generated square seal (black, std 5.6): double border, the characters in columns
    read top to bottom, right to left."""
    size = seal.size_mm * MM
    c.saveState()
    c.setStrokeGray(0)
    c.setFillGray(0)
    c.setLineWidth(1.6)
    c.rect(x, y, size, size, stroke=1, fill=0)
    c.setLineWidth(0.6)
    inset = 1.1 * MM
    c.rect(x + inset, y + inset, size - 2 * inset, size - 2 * inset, stroke=1, fill=0)
    chars = list(seal.text)
    rows = 3
    cols = max(1, -(-len(chars) // rows))
    inner = size - 4 * inset
    cell_w, cell_h = inner / cols, inner / rows
    glyph = min(cell_w, cell_h) * 0.92
    for i, ch in enumerate(chars):
        col, row = divmod(i, rows)
        in_col = min(rows, len(chars) - col * rows)
        cx = x + size - 2 * inset - (col + 0.5) * cell_w
        h = inner / in_col
        cy = y + size - 2 * inset - (row + 0.5) * h
        fonts.draw_centred(c, cx, cy - glyph * 0.36, ch, size=glyph, font="mincho")
    c.restoreState()


def _draw_certification(c: Canvas, doc: Document, top: float) -> None:
    """The certification text, the date, the certifier and the seal (last page only)."""
    y = top - 7 * MM
    for line in fonts.wrap(doc.certification_text, 11, RIGHT - LEFT - 10 * MM):
        fonts.draw_text(c, LEFT + 8 * MM, y, line, size=11)
        y -= 11 * LINE
    y -= 3 * MM
    fonts.draw_text(c, LEFT + 16 * MM, y, format_wareki(doc.issued_on), size=11)
    y -= 14 * MM
    seal_size = doc.seal.size_mm * MM
    name_size = 13
    name_w = fonts.text_width(doc.certifier_line, name_size)
    # the name ends just left of the seal, which stands beside it on the base line
    sx = RIGHT - seal_size
    sy = y - seal_size / 2 + name_size * 0.35
    fonts.draw_text(c, sx - 3 * MM - name_w, y, doc.certifier_line, size=name_size)
    if doc.seal.image is not None:
        c.drawImage(str(doc.seal.image), sx, sy, seal_size, seal_size, mask="auto")
    else:
        _draw_demo_seal(c, doc.seal, sx, sy)
    if doc.seal.note:
        fonts.draw_right(c, RIGHT, sy - 4 * MM, doc.seal.note, size=7.5)


def _draw_document(
    c: Canvas, doc: Document, overflow: str
) -> tuple[int, list[str], set[str], list[str]]:
    overflows: list[str] = []
    pages = _layout(doc, overflow, overflows)
    total = len(pages)
    numbers: list[str] = []
    missing: set[str] = set()
    for no, page in enumerate(pages, start=1):
        if doc.watermark:
            _draw_watermark(c)
        _draw_header(c, doc, no)
        for top, heading in page.headings:
            fonts.draw_text(c, LEFT, top - 4.5 * MM, heading, size=9.5, font="gothic")
        for top, row in page.rows:
            _draw_row(c, top, row)
            for cell in row.cells:
                for line in cell.value.lines:
                    missing |= fonts.missing_characters(line)
        _draw_gutters(c, page)
        if page.certification:
            last = page.rows[-1][0] - page.rows[-1][1].height if page.rows else _continued_top()
            _draw_certification(c, doc, last)
        numbers.append(_draw_footer(c, doc, no, total))
        c.showPage()
    return total, overflows, missing, numbers


def render_many(docs: list[Document], *, overflow: str = "wrap") -> Rendered:
    """Several documents in one PDF (a preview of a request), each with its own pages."""
    fonts.register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    first = docs[0]
    c.setTitle(first.title)
    c.setAuthor(first.municipality)
    c.setCreator("Jumin 住民記録システム")
    c.setSubject(first.issue_number or "見本")
    pages = 0
    overflows: list[str] = []
    missing: set[str] = set()
    numbers: list[str] = []
    try:
        for doc in docs:
            count, over, lacking, printed = _draw_document(c, doc, overflow)
            pages += count
            overflows += [o for o in over if o not in overflows]
            missing |= lacking
            numbers += printed
    finally:
        fonts.clear_text_caches()  # they hold the names and addresses of this document
    c.save()
    return Rendered(buffer.getvalue(), pages, overflows, frozenset(missing), numbers)


def render(doc: Document, *, overflow: str = "wrap") -> Rendered:
    """Lay out and draw ``doc``; returns the PDF and what the clerk must be told."""
    return render_many([doc], overflow=overflow)


# --------------------------------------------------------------------------- preview images


class PreviewUnavailable(Exception):
    """pdftoppm (Debian poppler-utils) is not installed."""


def to_png_pages(pdf: bytes, *, dpi: int = 80, timeout: float = 20.0) -> list[bytes]:
    """The pages of ``pdf`` as PNG images (pdftoppm), for the preview screen."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise PreviewUnavailable(
            "プレビュー画像を作成できません（pdftoppm がありません: Debian poppler-utils）。"
        )
    with tempfile.TemporaryDirectory(prefix="jumin-preview-") as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(  # noqa: S603 — a fixed tool on a file we wrote
            [tool, "-png", "-r", str(dpi), str(source), str(Path(tmp) / "page")],
            check=True,
            timeout=timeout,
            capture_output=True,
        )
        return [p.read_bytes() for p in sorted(Path(tmp).glob("page-*.png"))]

"""支援措置期間終了通知 (std 20.5.1, referred to by std 3.4 j440) as an A4 PDF.

The notice tells the applicant that the period of their support measure ends on a date and
that an extension can be asked for from one month before that date. It is addressed by name
only: no address of the applicant or of anyone covered is printed (the notice is handed over
or sent through the contact the applicant gave — a printed address is exactly what the
measure protects). The abuser is not mentioned.

Fonts come from :mod:`jumin.certificates.fonts` (IPAex embedded, IPAmj明朝 for rare
characters of names); the sender is the certifier of :mod:`jumin.certificates.conf` (the
mayor, or the deputy in their period). In demo mode every page carries 見本.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from jumin.certificates import conf, fonts
from jumin.core.wareki import format_wareki
from jumin.support import conf as support_conf
from jumin.support import period

TITLE = "住民基本台帳事務における支援措置の期間終了について（通知）"
LEFT = 25 * mm
RIGHT = A4[0] - 25 * mm
TOP = A4[1] - 25 * mm
BOTTOM = 25 * mm
BODY = 10.5
LEADING = 18.0


@dataclass(frozen=True)
class RenderedNotice:
    content: bytes
    pages: int
    file_name: str


class _Page:
    """A canvas with a cursor that starts a new page when the text reaches the bottom."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.y = TOP
        self.pages = 1
        self._mark()

    def _mark(self) -> None:
        if not conf.is_demo():
            return
        c = self.canvas
        c.saveState()
        c.setFillGray(0.85)
        c.translate(A4[0] / 2, A4[1] / 2)
        c.rotate(35)
        fonts.draw_centred(c, 0, 0, "見本", size=120, font="gothic")
        c.restoreState()
        fonts.draw_right(
            c, RIGHT, A4[1] - 12 * mm, "見本（デモ用・効力なし）", size=9, font="gothic"
        )

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.canvas.showPage()
            self.pages += 1
            self.y = TOP
            self._mark()

    def line(self, text: str, *, size: float = BODY, font: str = "mincho", x: float = LEFT) -> None:
        self.need(LEADING)
        fonts.draw_text(self.canvas, x, self.y, text, size=size, font=font)
        self.y -= LEADING

    def paragraph(self, text: str, *, indent_first: bool = True) -> None:
        """Wrapped text; the first line indented by one character (Japanese style)."""
        text = ("　" + text) if indent_first else text
        for piece in fonts.wrap(text, BODY, RIGHT - LEFT):
            self.line(piece)

    def right(self, text: str, *, size: float = BODY, font: str = "mincho") -> None:
        self.need(LEADING)
        fonts.draw_right(self.canvas, RIGHT, self.y, text, size=size, font=font)
        self.y -= LEADING

    def centred(self, text: str, *, size: float = BODY, font: str = "mincho") -> None:
        self.need(size * 1.8)
        fonts.draw_centred(self.canvas, A4[0] / 2, self.y, text, size=size, font=font)
        self.y -= size * 1.8

    def gap(self, height: float = LEADING / 2) -> None:
        self.y -= height

    def item(self, label: str, values: list[str]) -> None:
        """One row of the 記 table: a label column and wrapped values."""
        label_width = 64 * mm
        width = RIGHT - LEFT - label_width
        lines = [piece for value in values for piece in fonts.wrap(value, BODY, width)] or ["—"]
        self.need(LEADING * min(len(lines), 3))
        fonts.draw_text(self.canvas, LEFT + 5 * mm, self.y, label, size=BODY)
        for piece in lines:
            self.need(LEADING)
            fonts.draw_text(self.canvas, LEFT + label_width, self.y, piece, size=BODY)
            self.y -= LEADING


def render_end_notice(measure: Any, *, issued_on: dt.date) -> RenderedNotice:
    """The notice for ``measure`` (an active or extended ``SupportMeasure`` with its subjects
    prefetched), dated ``issued_on``."""
    fonts.register_fonts()
    end = measure.end_on
    opens = period.extension_opens(end)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{TITLE}（支援措置 第{measure.pk}号）")
    canvas.setAuthor(conf.municipality_name())
    canvas.setSubject("支援措置期間終了通知")
    page = _Page(canvas)

    page.right(f"第{measure.pk}号")
    page.right(format_wareki(issued_on))
    page.gap()
    page.line(f"{measure.applicant_name}　様", size=12)
    page.gap()
    page.right(conf.certifier(issued_on).line)
    page.gap(LEADING)
    page.centred(TITLE, size=14, font="gothic")
    page.gap(LEADING / 2)
    page.paragraph(
        "あなたから申出のあった住民基本台帳事務における支援措置は、下記のとおり期間が"
        "終了しますので通知します。"
    )
    page.paragraph(
        f"引き続き支援措置を希望される場合は、期間終了日の1か月前（{format_wareki(opens)}）から"
        "期間終了日までに、延長の申出をしてください。延長の申出がないときは、期間終了日を"
        "もって支援措置を終了します。"
    )
    page.gap()
    page.centred("記", size=BODY)
    subjects = list(measure.subjects.all())
    names = [s.name + ("（申出者）" if s.role == "applicant" else "") for s in subjects]
    extended = f"（延長{measure.extensions}回）" if measure.extensions else ""
    page.item("1　支援措置の区分", [measure.get_kind_display()])
    page.item("2　申出年月日", [format_wareki(measure.applied_on)])
    page.item("3　支援措置の開始年月日", [format_wareki(measure.start_on)])
    page.item("4　支援措置の終了年月日", [format_wareki(end) + extended])
    page.item(
        "5　延長の申出ができる期間",
        [f"{format_wareki(opens)}から{format_wareki(end)}まで"],
    )
    page.item("6　支援対象者", names)
    page.gap(LEADING)
    page.paragraph(
        "この通知に関するお問い合わせは、ご本人または代理人の方が下記の担当へお願いします。"
        "電話でのお問い合わせの際は、本人確認のためお名前と生年月日をお伺いします。"
    )
    page.line(f"問合せ先：{support_conf.notice_contact()}", x=LEFT + BODY)
    canvas.showPage()
    canvas.save()
    return RenderedNotice(
        content=buffer.getvalue(),
        pages=page.pages,
        file_name=f"support-end-notice-{measure.pk}-{issued_on:%Y%m%d}.pdf",
    )

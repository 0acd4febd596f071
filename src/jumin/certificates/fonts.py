"""Fonts for the PDFs the city issues: found by path, registered with ReportLab, embedded.

Certificates, notices and any other PDF of Jumin use these helpers so that every document
embeds the same TrueType fonts (ReportLab cannot embed the CFF-based Noto CJK collections, and
its built-in CID fonts are not embedded at all — unfit for a certificate):

- ``mincho`` — IPAex明朝 (Debian ``fonts-ipaexfont-mincho``): the body text;
- ``gothic`` — IPAexゴシック (Debian ``fonts-ipaexfont-gothic``): titles and marks;
- ``rare`` — IPAmj明朝 (Debian ``fonts-ipamj-mincho``): the characters of names that IPAex lacks
  (𠮷 and the other characters of the 文字情報基盤), used automatically, character by character.

Each path can be set with ``JUMIN_CERT_FONT_MINCHO``, ``JUMIN_CERT_FONT_GOTHIC`` and
``JUMIN_CERT_FONT_RARE``; a missing font stops the PDF with a Japanese message naming the
package to install (:class:`FontsMissing`).

Use from another module (for example the support-measure notice of std 20.5.1)::

    from reportlab.pdfgen.canvas import Canvas
    from jumin.certificates import fonts

    names = fonts.register_fonts()          # {"mincho": "JuminMincho", "gothic": ..., "rare": ...}
    canvas = Canvas(buffer, pagesize=A4)
    fonts.draw_text(canvas, 72, 760, "支援措置期間終了通知", size=16, font="gothic")
    width = fonts.text_width("相模　太郎", 10.5)  # for centring or right-aligning
    lines = fonts.wrap("長い文…", 10.5, 300)    # lines of at most 300 pt

``draw_text`` switches to the ``rare`` font for characters the main font lacks, drops variation
selectors (ReportLab draws the base character) and returns the characters no font has (they
print as a box: report them to the clerk as 未登録外字, std 5.8).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from jumin.certificates import conf

FONT_NAMES = {"mincho": "JuminMincho", "gothic": "JuminGothic", "rare": "JuminRare"}
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "mincho": (
        "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        "/usr/share/fonts/truetype/ipaexfont-mincho/ipaexm.ttf",
        "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
    ),
    "gothic": (
        "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    ),
    "rare": ("/usr/share/fonts/truetype/ipamj/ipamjm.ttf",),
}
_PACKAGES = {
    "mincho": "fonts-ipaexfont-mincho",
    "gothic": "fonts-ipaexfont-gothic",
    "rare": "fonts-ipamj-mincho",
}
_SETTING = {"mincho": "CERT_FONT_MINCHO", "gothic": "CERT_FONT_GOTHIC", "rare": "CERT_FONT_RARE"}
# Variation selectors (standardised and ideographic): ReportLab draws glyphs by code point only.
_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")

_lock = threading.Lock()
_registered: dict[str, str] = {}
_coverage: dict[str, frozenset[int] | dict[int, int]] = {}


class FontsMissing(Exception):
    """A font file is not where it should be (Japanese message for the operator)."""


def font_path(role: str) -> Path:
    """The file of a font role (``mincho``, ``gothic``, ``rare``), or FontsMissing."""
    configured = conf.raw(_SETTING[role])
    if configured:
        path = Path(configured)
        if path.is_file():
            return path
        raise FontsMissing(
            f"JUMIN_{_SETTING[role]} に指定されたフォント {configured} がありません。"
            "パスを確認してください（TrueType の .ttf が必要です）。"
        )
    for candidate in _CANDIDATES[role]:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FontsMissing(
        f"証明書用のフォント（{role}）が見つかりません。Debian パッケージ {_PACKAGES[role]} を"
        f"インストールするか、JUMIN_{_SETTING[role]} にフォントファイル（.ttf）のパスを"
        "指定してください。"
    )


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode map writes code points above U+FFFF as 5–6 hex digits, which
    text extraction misreads (𠮷 → ₻); write them as UTF-16 surrogate pairs instead."""
    text = str(_original_cmap(fontname, subset))
    if all(v <= 0xFFFF for v in subset):
        return text
    lines = []
    for line in text.split("\n"):
        match = re.fullmatch(r"<([0-9A-F]{2})> <([0-9A-F]{5,6})>", line)
        if match:
            cp = int(match.group(2), 16) - 0x10000
            high, low = 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)
            line = f"<{match.group(1)}> <{high:04X}{low:04X}>"
        lines.append(line)
    return "\n".join(lines)


_original_cmap = ttfonts.makeToUnicodeCMap


class _TableInPlace:
    """A table of a font file read in place: a slice copies only the bytes asked for."""

    __slots__ = ("_data", "_length", "_start")

    def __init__(self, data: bytes, start: int, length: int) -> None:
        self._data, self._start, self._length = data, start, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, key: slice) -> bytes:
        start, stop, step = key.indices(self._length)
        if step != 1:
            raise ValueError("a font table is read in contiguous slices")
        return self._data[self._start + start : self._start + max(start, stop)]


def _glyphs_in_place(face: Any) -> None:
    """ReportLab's subsetting copies the whole glyph table of a font for every document (45 MB
    for IPAmj明朝: about 0.1 s per certificate with one rare character) only to slice the
    glyphs it needs out of it; give it the table in place instead."""
    original = face.get_table

    def get_table(tag: str) -> Any:
        if tag == "glyf":
            pos, length = face.get_table_pos(tag)
            return _TableInPlace(face._ttf_data, pos, length)
        return original(tag)

    face.get_table = get_table


def register_fonts() -> dict[str, str]:
    """Register the three fonts with ReportLab once per process; returns role → font name
    (``{"mincho": "JuminMincho", "gothic": "JuminGothic", "rare": "JuminRare"}``).

    Raises :class:`FontsMissing` with what to install when a file is missing."""
    if len(_registered) == len(FONT_NAMES):
        return dict(_registered)
    with _lock:
        # Streams stay binary (Flate only): ASCII85 on top makes them 25 % larger and costs
        # a pure-Python encoding pass per page; no reader of ours needs 7-bit PDF files.
        rl_config.useA85 = 0
        if ttfonts.makeToUnicodeCMap is not _to_unicode_cmap:
            ttfonts.makeToUnicodeCMap = _to_unicode_cmap
        for role, name in FONT_NAMES.items():
            if role in _registered:
                continue
            font = TTFont(name, str(font_path(role)))
            _glyphs_in_place(font.face)
            pdfmetrics.registerFont(font)
            _coverage[role] = font.face.charToGlyph
            _registered[role] = name
    return dict(_registered)


def _covered(role: str, char: str) -> bool:
    return ord(char) in _coverage[role]


def runs(text: str, font: str = "mincho") -> list[tuple[str, str]]:
    """``text`` split into (font name, piece) runs: the ``font`` role where it has the
    character, the rare-character font elsewhere. Variation selectors are dropped."""
    register_fonts()
    return list(_runs(text, font))


# A certificate measures and draws the same labels, marks and names again and again: the
# runs, widths and missing characters of a text are cached (the fonts do not change once
# registered). The cached texts include names and addresses: a renderer calls
# clear_text_caches() when its document is done, so that no personal data stays behind.
@functools.lru_cache(maxsize=8192)
def _runs(text: str, font: str) -> tuple[tuple[str, str], ...]:
    names = dict(_registered)
    text = _SELECTORS.sub("", text)
    out: list[tuple[str, str]] = []
    for char in text:
        role = font if _covered(font, char) or not _covered("rare", char) else "rare"
        name = names[role]
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + char)
        else:
            out.append((name, char))
    return tuple(out)


def clear_text_caches() -> None:
    """Forget the texts measured so far (call when a document is done: they hold personal
    data)."""
    _runs.cache_clear()
    _missing.cache_clear()
    _width.cache_clear()


def missing_characters(text: str) -> set[str]:
    """Characters of ``text`` that no font has (printed as a box): 未登録外字 (std 5.8)."""
    register_fonts()
    return set(_missing(text))


@functools.lru_cache(maxsize=8192)
def _missing(text: str) -> frozenset[str]:
    text = _SELECTORS.sub("", text)
    return frozenset(
        c for c in text if not c.isspace() and not any(_covered(r, c) for r in FONT_NAMES)
    )


def text_width(text: str, size: float, font: str = "mincho") -> float:
    """Width in points of ``text`` drawn at ``size`` with :func:`draw_text`."""
    register_fonts()
    return _width(text, size, font)


@functools.lru_cache(maxsize=16384)
def _width(text: str, size: float, font: str) -> float:
    return float(
        sum(pdfmetrics.stringWidth(piece, name, size) for name, piece in _runs(text, font))
    )


def draw_text(
    canvas: Any, x: float, y: float, text: str, *, size: float, font: str = "mincho"
) -> set[str]:
    """Draw ``text`` with its left end at (x, y) on a ReportLab canvas; returns the
    characters that no font has (see :func:`missing_characters`)."""
    register_fonts()
    for name, piece in _runs(text, font):
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, name, size)
    return missing_characters(text)


def draw_centred(
    canvas: Any, x: float, y: float, text: str, *, size: float, font: str = "mincho"
) -> None:
    """Draw ``text`` centred on x."""
    draw_text(canvas, x - text_width(text, size, font) / 2, y, text, size=size, font=font)


def draw_right(
    canvas: Any, x: float, y: float, text: str, *, size: float, font: str = "mincho"
) -> None:
    """Draw ``text`` with its right end at x."""
    draw_text(canvas, x - text_width(text, size, font), y, text, size=size, font=font)


_NO_LINE_START = set(
    "、。，．・：；？！）」』】〕］｝〉》ー‐ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々"
)


def wrap(text: str, size: float, width: float, font: str = "mincho") -> list[str]:
    """``text`` broken into lines of at most ``width`` points (Japanese: between any two
    characters, keeping closing brackets and small kana off the start of a line; Latin words
    whole where they fit). Explicit newlines are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, size, width, font))
    return lines or [""]


def _wrap_paragraph(text: str, size: float, width: float, font: str) -> Iterable[str]:
    if text_width(text, size, font) <= width:
        yield text
        return
    line = ""
    for char in text:
        if line and text_width(line + char, size, font) > width and char not in _NO_LINE_START:
            cut = _latin_break(line)
            yield line[:cut].rstrip()
            line = line[cut:].lstrip()
        line += char
    if line:
        yield line


def _latin_break(line: str) -> int:
    """Break a run of Latin letters at its last space (a name in the alphabet)."""
    if line and line[-1].isascii() and line[-1].isalnum():
        space = line.rfind(" ")
        if space > len(line) // 2:
            return space + 1
    return len(line)

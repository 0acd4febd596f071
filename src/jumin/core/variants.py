"""Kanji variant folding for name search (異体字検索, std 2.1.2 j330; DOMAIN-NOTES §4).

A search by 「辺」 must also find 「邊」「邉」「边」…; a search by 「髙橋」 must find 「高橋」. This
module turns a kanji name into a *search key* in which every variant is replaced by one
canonical character. It never touches a stored name.

The key of a name, :func:`name_search_key`, is built character by character:

1. variation selectors (SVS U+FE00–FE0F, IVS U+E0100–E01EF) are dropped: the glyph variant of
   an IVS sequence is the same character for search;
2. a CJK compatibility ideograph with a canonical decomposition is replaced by it
   (神 U+FA19 → 神 U+795E);
3. a character listed in ``data/kanji_variants.tsv`` is replaced by its canonical;
   ``extra`` adds the city's own pairs (外字 registered with their variants, j330);
4. spaces and the separators ・ ＝ are removed (the space between family and given name is
   ignored); full-width Latin letters become ASCII upper case and half-width katakana become
   full-width, so ``Ｓｍｉｔｈ`` finds ``SMITH``.

The table is hand-compiled by the project; see ``data/README.md`` for its source, licence and
the rules for adding rows.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

import jaconv

_TABLE_FILE = "kanji_variants.tsv"
_SEPARATORS = frozenset("・･＝=")


def _is_variation_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def parse_variant_table(text: str) -> dict[str, str]:
    """Parse the TSV text into ``{variant: canonical}``.

    Raises :class:`ValueError` naming the line when a cell is not exactly one character, a
    cell carries a variation selector, a row has no variant, or a character appears twice in
    the table (under two canonicals, twice in one row, or as both a canonical and a variant).
    """
    mapping: dict[str, str] = {}
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("\t") if cell.strip()]
        if len(cells) < 2:
            raise ValueError(f"line {number}: a row needs a canonical and at least one variant")
        for cell in cells:
            if len(cell) != 1 or _is_variation_selector(cell):
                raise ValueError(f"line {number}: {cell!r} is not one character")
            if cell in seen:
                raise ValueError(
                    f"line {number}: {cell} (U+{ord(cell):04X}) already appears on line "
                    f"{seen[cell]}"
                )
            seen[cell] = number
        canonical, *variants = cells
        for variant in variants:
            mapping[variant] = canonical
    return mapping


@functools.cache
def variant_table() -> Mapping[str, str]:
    """The shipped table as a read-only ``{variant: canonical}`` mapping, loaded once."""
    source = resources.files("jumin.core").joinpath("data", _TABLE_FILE)
    return MappingProxyType(parse_variant_table(source.read_text(encoding="utf-8")))


def variant_groups() -> dict[str, tuple[str, ...]]:
    """The table grouped as ``{canonical: (variant, …)}`` in file order."""
    groups: dict[str, list[str]] = {}
    for variant, canonical in variant_table().items():
        groups.setdefault(canonical, []).append(variant)
    return {canonical: tuple(variants) for canonical, variants in groups.items()}


def _decompose_compatibility_ideograph(ch: str) -> str:
    decomposition = unicodedata.decomposition(ch)
    if decomposition and not decomposition.startswith("<") and " " not in decomposition:
        return chr(int(decomposition, 16))
    return ch


def fold_kanji_variants(text: str, extra: Mapping[str, str] | None = None) -> str:
    """Replace every kanji variant in ``text`` by its canonical character (rules 1–3 above).

    ``extra`` maps further variants to canonicals (the city's 外字 registry); it is consulted
    after the shipped table, so a 外字 may map to a character that the table folds again.
    Characters that are not variants pass through unchanged.
    """
    table = variant_table()
    out: list[str] = []
    for ch in text:
        if _is_variation_selector(ch):
            continue
        folded = _decompose_compatibility_ideograph(ch)
        folded = table.get(folded, folded)
        if extra:
            folded = extra.get(folded, folded)
            folded = table.get(folded, folded)
        out.append(folded)
    return "".join(out)


def name_search_key(text: str, extra: Mapping[str, str] | None = None) -> str:
    """Search key of a name in kanji (or Latin letters): variants folded, spaces ignored."""
    text = jaconv.z2h(text, kana=False, ascii=True, digit=True)
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    text = "".join(ch for ch in text if not ch.isspace() and ch not in _SEPARATORS)
    return fold_kanji_variants(text, extra).upper()

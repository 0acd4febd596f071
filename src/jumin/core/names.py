"""Names (氏名) and their readings (振り仮名): validation and search keys.

Two rules shape this module (DOMAIN-NOTES §4):

* **A stored value is never altered.** :func:`validate_name` returns its input unchanged (no
  NFC/NFKC: both turn the compatibility ideograph 神 U+FA19 into 神 U+795E, and variation
  selectors must survive too). :func:`validate_name_kana` returns the reading in the one form the
  register stores (full-width katakana, std 1.1.18 j180), which is what the clerk confirms.
* **Search works on keys.** A key is computed once from the stored value and stored beside it;
  a query is turned into a key by the same function, so two inputs that the rules of std 2.1.2
  (j330) say must match produce equal keys. Keys are never shown and never stored in place of
  the value.

Keys for the reading
--------------------
:func:`kana_exact_key` — for exact and partial matching: hiragana → katakana, half-width →
full-width, voicing marks composed, every dash/hyphen/minus variant → ``ー``, every space
removed (so the space between family and given name is ignored).

:func:`kana_search_key` — the fuzzy key, every rule of std 2.1.2 (j330), in this order:

1. the exact normalisation above, spaces and the separators ``・`` ``＝`` removed;
2. iteration marks ``ヽ`` ``ヾ`` repeat the kana before them;
3. ``ヴ`` sounds: ヴァ→バ, ヴィ→ビ, ヴゥ→ブ, ヴェ→ベ, ヴォ→ボ, ヴャ/ヴュ/ヴョ→ビャ/ビュ/ビョ,
   ヴ→ブ (and ヷヸヹヺ→バビベボ), so ヴァ and バ, ヴィ and ビ, ヴ and ブ meet;
4. voicing ignored: every 濁音/半濁音 becomes its 清音 (ガ→カ, パ→ハ). ヂ and ヅ are folded to
   ジ and ズ first (they are pronounced so), hence ヂ, ジ → シ and ヅ, ズ → ス;
5. ワ→ハ, ヲ→オ (and the obsolete ヰ→イ, ヱ→エ);
6. small kana → large (ァ→ア … ッ→ツ, ャ→ヤ, ュ→ユ, ョ→ヨ, ヮ→ワ→ハ, ヵ→カ, ヶ→ケ, ㇰ→ク …);
7. long-vowel marks dropped (``ー`` and every dash variant of j330: ― － ‐ ｰ - and ‑ ‒ – — − …);
8. the オ段 rule: a ``ウ`` after an オ段 kana is read as ``オ``; an ``オ`` after an オ段 kana is
   the long vowel of that kana and, like ``ー``, is dropped. So オオノ, オウノ and オーノ all
   give ``オノ``; サトウ, サトオ, サトー and サト all give ``サト``.

Why rule 8 drops the vowel instead of keeping ``オオ``: j330 requires both "ignore the long-vowel
mark" (オーノ = オノ) and "オ段 + ウ reads as オ" (オウノ = オオノ), and the three spellings of the
same long オ (オオノ, オウノ, オーノ) must meet. A single key can only satisfy all three if the
long オ adds nothing, so オオノ, オウノ, オーノ and オノ share a key. Fuzzy search trades this
precision (大野/小野 meet) for recall, which is what the standard asks for; exact search
(:func:`kana_exact_key`) still tells them apart. Only the オ段 is treated so, as in the
standard: ユウキ and ユーキ do not meet (ユーキ meets ユキ by rule 7).

The rule is applied to the text with spaces already removed and looks at the previous *kept*
kana, which makes the key idempotent (``key(key(x)) == key(x)``) and makes a query typed with or
without the space between family and given name give the same key. The first kana of the text
is never changed ("2文字目以降").

Not transitive in the standard, decided here: j330 pairs ヂ/ジ and ズ/ヅ and also says voicing
is ignored (so チ/ヂ, ツ/ヅ). One key cannot give all of チ=ヂ=ジ=シ without also merging チ and
シ (and ツ and ス: スズキ and ツヅキ). The key follows the pronunciation: ヂ, ジ, シ meet; チ stays
apart from them (and so ツ from ス).

Partial (部分一致) fuzzy search compares keys with "contains"; rule 8 depends on the previous
kana, so a fragment that starts with ウ or オ right after an オ段 kana in the stored reading is
not found. Search by given name only uses :class:`NameKanaKeys` ``given_*`` keys instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jaconv

from jumin.core.errors import NameRuleError

MAX_NAME_LENGTH = 100
"""Upper bound for a name, in characters (variation selectors not counted)."""

MAX_NAME_KANA_LENGTH = 100
"""Upper bound for a reading, in characters after normalisation."""

LONG_VOWEL = "ー"
IDEOGRAPHIC_SPACE = "\u3000"

DASH_CHARACTERS = frozenset(
    "-"  # U+002D hyphen-minus (半角ハイフン・マイナス)
    "\u2010"  # ‐ hyphen (全角ハイフン)
    "\u2011"  # ‑ non-breaking hyphen
    "\u2012"  # ‒ figure dash
    "\u2013"  # – en dash
    "\u2014"  # — em dash
    "\u2015"  # ― horizontal bar (全角ダッシュ)
    "\u2043"  # ⁃ hyphen bullet
    "\u2212"  # − minus sign
    "\u30fc"  # ー katakana-hiragana prolonged sound mark (全角長音)
    "\ufe58"  # ﹘ small em dash
    "\ufe63"  # ﹣ small hyphen-minus
    "\uff0d"  # － full-width hyphen-minus (全角マイナス)
    "\uff70"  # ｰ half-width prolonged sound mark (半角長音)
)
"""Every character std 2.1.2 (j330) treats as the same long-vowel mark / dash."""

_SEPARATORS = frozenset("・･＝=")  # name-part separators ignored by the fuzzy key

_VOICED = "\u3099"
_SEMI_VOICED = "\u309a"
_MARKS = {"\u309b": _VOICED, "\u309c": _SEMI_VOICED, "\uff9e": _VOICED, "\uff9f": _SEMI_VOICED}

_SMALL_TO_LARGE = {
    "ァ": "ア",
    "ィ": "イ",
    "ゥ": "ウ",
    "ェ": "エ",
    "ォ": "オ",
    "ッ": "ツ",
    "ャ": "ヤ",
    "ュ": "ユ",
    "ョ": "ヨ",
    "ヮ": "ワ",
    "ヵ": "カ",
    "ヶ": "ケ",
    "ㇰ": "ク",
    "ㇱ": "シ",
    "ㇲ": "ス",
    "ㇳ": "ト",
    "ㇴ": "ヌ",
    "ㇵ": "ハ",
    "ㇶ": "ヒ",
    "ㇷ": "フ",
    "ㇸ": "ヘ",
    "ㇹ": "ホ",
    "ㇺ": "ム",
    "ㇻ": "ラ",
    "ㇼ": "リ",
    "ㇽ": "ル",
    "ㇾ": "レ",
    "ㇿ": "ロ",
}
_SOUND_FOLDS = {"ワ": "ハ", "ヲ": "オ", "ヰ": "イ", "ヱ": "エ", "ヂ": "ジ", "ヅ": "ズ"}

_VU = re.compile("ヴ([ァィゥェォャュョ]?)")
_VU_SOUNDS = {
    "": "ブ",
    "ァ": "バ",
    "ィ": "ビ",
    "ゥ": "ブ",
    "ェ": "ベ",
    "ォ": "ボ",
    "ャ": "ビャ",
    "ュ": "ビュ",
    "ョ": "ビョ",
}
_VU_LETTERS = str.maketrans({"ヷ": "バ", "ヸ": "ビ", "ヹ": "ベ", "ヺ": "ボ"})

_O_ROW = frozenset("オコソトノホモヨロ")
_ITERATION_MARKS = frozenset("ヽヾ")


def _strip_voicing(ch: str) -> str:
    decomposition = unicodedata.decomposition(ch).split()
    if len(decomposition) == 2 and decomposition[1] in ("3099", "309A"):
        return chr(int(decomposition[0], 16))
    return ch


def _fold_kana(ch: str) -> str:
    """Apply rules 4–6 to one kana until nothing changes."""
    while True:
        folded = _SOUND_FOLDS.get(ch, ch)
        folded = _strip_voicing(folded)
        folded = _SMALL_TO_LARGE.get(folded, folded)
        if folded == ch:
            return ch
        ch = folded


def _build_fuzzy_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in [*range(0x30A1, 0x30FB), *range(0x31F0, 0x3200)]:
        ch = chr(code)
        folded = _fold_kana(ch)
        if folded != ch:
            table[code] = folded
    for mark in (_VOICED, _SEMI_VOICED, *_MARKS):
        table[ord(mark)] = None
    return table


_FUZZY_TABLE = _build_fuzzy_table()
_DASH_TO_LONG_VOWEL = str.maketrans(dict.fromkeys(DASH_CHARACTERS, LONG_VOWEL))


def _compose_voicing(text: str) -> str:
    """Join a voicing mark (゛ ゜ ﾞ ﾟ or combining) to the kana before it where one exists."""
    out: list[str] = []
    for ch in text:
        mark = _MARKS.get(ch, ch)
        if mark in (_VOICED, _SEMI_VOICED) and out:
            composed = unicodedata.normalize("NFC", out[-1] + mark)
            if len(composed) == 1:
                out[-1] = composed
                continue
        out.append(mark)
    return "".join(out)


def _remove_spaces(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _widen(text: str) -> str:
    """Half-width katakana → full-width, hiragana → katakana. Nothing else changes."""
    return jaconv.hira2kata(jaconv.h2z(text, kana=True, ascii=False, digit=False))


def kana_exact_key(text: str) -> str:
    """Key for exact and partial reading search: width, script, dashes and spaces only.

    ``やまだ　たろう``, ``ﾔﾏﾀﾞ ﾀﾛｳ`` and ``ヤマダタロウ`` give the same key; ``サトー`` and ``サト``
    do not (that is :func:`kana_search_key`'s job).
    """
    text = _compose_voicing(_remove_spaces(_widen(text)))
    return text.translate(_DASH_TO_LONG_VOWEL)


def _expand_iteration_marks(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch in _ITERATION_MARKS:
            if out:
                out.append(out[-1])
            continue
        out.append(ch)
    return "".join(out)


def _fold_o_row(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch in ("ウ", "オ") and out and out[-1] in _O_ROW:
            continue
        out.append(ch)
    return "".join(out)


def kana_search_key(text: str) -> str:
    """The fuzzy search key of a reading, std 2.1.2 (j330); see the module docstring."""
    text = _compose_voicing(_remove_spaces(_widen(text)))
    text = "".join(ch for ch in text if ch not in DASH_CHARACTERS and ch not in _SEPARATORS)
    text = _expand_iteration_marks(text)
    text = _VU.sub(lambda m: _VU_SOUNDS[m.group(1)], text.translate(_VU_LETTERS))
    return _fold_o_row(text.translate(_FUZZY_TABLE))


def split_name(text: str) -> tuple[str, str]:
    """Split a name or reading into (family part, given part) at the first space.

    Works for ``山田　太郎`` and ``ヤマダ　タロウ`` alike (full- or half-width space). Without a
    space the whole text is the family part and the given part is empty. Further spaces (a
    foreign resident's middle names) stay in the given part.
    """
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    return parts[0], parts[1]


@dataclass(frozen=True, slots=True)
class NameKanaKeys:
    """The search keys stored beside a reading (std 2.1.2, j330).

    ``exact``/``fuzzy`` cover the whole reading with the family/given space ignored;
    ``given_exact``/``given_fuzzy`` let a clerk search by the given name only. They are empty
    when the reading has no space to tell the given name from the family name.
    """

    exact: str
    fuzzy: str
    given_exact: str
    given_fuzzy: str


def name_kana_keys(name_kana: str) -> NameKanaKeys:
    """Compute every search key of a stored reading (``ヤマダ　タロウ``)."""
    _, given = split_name(name_kana)
    return NameKanaKeys(
        exact=kana_exact_key(name_kana),
        fuzzy=kana_search_key(name_kana),
        given_exact=kana_exact_key(given),
        given_fuzzy=kana_search_key(given),
    )


# --- validation ---------------------------------------------------------------------------

_FIELD_LABELS = {
    "name": "氏名",
    "family_name": "氏",
    "given_name": "名",
    "former_family_name": "旧氏",
    "alias": "通称",
    "name_kana": "氏名の振り仮名",
    "family_name_kana": "氏の振り仮名",
    "given_name_kana": "名の振り仮名",
    "former_family_name_kana": "旧氏の振り仮名",
    "alias_kana": "通称の振り仮名",
}


def field_label(field: str) -> str:
    """The Japanese label of a name field (``name_kana`` → ``氏名の振り仮名``)."""
    return _FIELD_LABELS.get(field, field)


def _describe(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    return f"「{ch}」（{code}）" if ch.isprintable() and not ch.isspace() else code


def _is_kana_reading_char(ch: str) -> bool:
    code = ord(ch)
    return (
        0x30A1 <= code <= 0x30FA  # katakana ァ … ヺ
        or code in (0x30FB, 0x30FC, 0x30FD, 0x30FE)  # ・ ー ヽ ヾ
        or 0x31F0 <= code <= 0x31FF  # small katakana extension (Ainu)
        or ch == IDEOGRAPHIC_SPACE
    )


def validate_name_kana(text: str, field: str = "name_kana") -> str:
    """Check a reading and return it as the register stores it (std 1.1.18, j180).

    Accepted input: katakana, hiragana and half-width katakana, with spaces between the parts
    of the name. Returned: full-width katakana, voicing marks composed, every dash variant as
    ``ー``, parts separated by exactly one full-width space, no leading/trailing space. Several
    parts are allowed (a foreign resident's middle names). Codes: ``name_kana.empty``,
    ``name_kana.script`` (Latin, kanji, digits, symbols …), ``name_kana.too_long``.
    """
    label = field_label(field)
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise NameRuleError(
                "name_kana.script",
                f"{label}に制御文字 {_describe(ch)} が含まれています。"
                "振り仮名はカタカナ（全角）で入力し直してください。",
            )
    parts = [part for part in re.split(r"\s+", text) if part]
    if not parts:
        raise NameRuleError(
            "name_kana.empty",
            f"{label}が入力されていません。{label}をカタカナで入力してください。",
        )
    normalised = _compose_voicing(
        IDEOGRAPHIC_SPACE.join(_widen(part).translate(_DASH_TO_LONG_VOWEL) for part in parts)
    )
    for ch in normalised:
        if not _is_kana_reading_char(ch):
            raise NameRuleError(
                "name_kana.script",
                f"{label}に使用できない文字{_describe(ch)}が含まれています。"
                "振り仮名はカタカナ（ひらがなも可）で入力し、その文字を削除してください。",
            )
    if len(normalised) > MAX_NAME_KANA_LENGTH:
        raise NameRuleError(
            "name_kana.too_long",
            f"{label}が長すぎます（{len(normalised)}文字、上限{MAX_NAME_KANA_LENGTH}文字）。"
            f"{MAX_NAME_KANA_LENGTH}文字以内で入力してください。",
        )
    return normalised


_NAME_PUNCTUATION = frozenset(" \u3000・＝='\u2019-\u2010\uff0d.\uff0e,\uff0c")


def _is_variation_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _is_ideograph(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3400 <= code <= 0x4DBF  # Extension A
        or 0x4E00 <= code <= 0x9FFF  # URO
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs (神 U+FA19, 﨑 U+FA11 …)
        or 0x20000 <= code <= 0x323AF  # Extensions B–H, compatibility supplement
        or ch in "々〆〇〻"
    )


def _is_private_use(ch: str) -> bool:
    code = ord(ch)
    return 0xE000 <= code <= 0xF8FF or 0xF0000 <= code <= 0x10FFFD


def _is_kana(ch: str) -> bool:
    code = ord(ch)
    return 0x3041 <= code <= 0x3096 or 0x309D <= code <= 0x309F or 0x30A1 <= code <= 0x30FF


def _is_latin_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith(
        ("LATIN ", "FULLWIDTH LATIN ")
    )


def _is_combining_accent(ch: str) -> bool:
    return 0x0300 <= ord(ch) <= 0x036F


def _name_char_ok(ch: str, previous: str) -> bool:
    if _is_variation_selector(ch):
        # A variation selector belongs to the ideograph before it (IVS / SVS sequence).
        return bool(previous) and _is_ideograph(previous)
    if _is_combining_accent(ch):
        # A combining accent belongs to a Latin letter (or to another accent) before it.
        return bool(previous) and (_is_latin_letter(previous) or _is_combining_accent(previous))
    return (
        _is_ideograph(ch)
        or _is_kana(ch)
        or _is_latin_letter(ch)
        or _is_private_use(ch)  # 外字 registered by the city
        or ch in _NAME_PUNCTUATION
    )


def _visible_length(text: str) -> int:
    return sum(1 for ch in text if not _is_variation_selector(ch))


def validate_name(text: str, field: str = "name") -> str:
    """Check a name and return it **exactly as entered** (DOMAIN-NOTES §4).

    Allowed: kanji (unified, extensions, compatibility ideographs, each optionally followed by
    a variation selector), 々〆〇, hiragana and katakana, Latin letters (foreign residents'
    names, any case, full- or half-width, with accents), the city's 外字 (private use area), and
    the separators space, full-width space, ・ ＝ = ' ’ - ‐ － . ． , ，. Nothing is normalised:
    U+FA19 stays U+FA19 and an IVS sequence keeps its selector.

    Codes: ``name.empty``; ``name.script`` (control characters, emoji, digits, half-width
    katakana, other scripts, a stray variation selector); ``name.whitespace`` (space at either
    end, or two spaces in a row — the value is not trimmed silently); ``name.too_long``.
    """
    label = field_label(field)
    if not text or text.isspace():
        raise NameRuleError(
            "name.empty", f"{label}が入力されていません。{label}を入力してください。"
        )
    previous = ""
    for ch in text:
        if not _name_char_ok(ch, previous):
            raise NameRuleError(
                "name.script",
                f"{label}に使用できない文字{_describe(ch)}が含まれています。"
                "漢字・かな・英字で入力し、その文字を削除するか正しい文字に置き換えてください"
                "（半角カタカナは全角で入力してください）。",
            )
        previous = ch
    if text[0].isspace() or text[-1].isspace() or re.search(r"\s\s", text):
        raise NameRuleError(
            "name.whitespace",
            f"{label}の先頭・末尾に空白があるか、空白が続いています。"
            "空白は氏と名の間などに1つだけ入力してください。",
        )
    length = _visible_length(text)
    if length > MAX_NAME_LENGTH:
        raise NameRuleError(
            "name.too_long",
            f"{label}が長すぎます（{length}文字、上限{MAX_NAME_LENGTH}文字）。"
            f"{MAX_NAME_LENGTH}文字以内で入力してください。",
        )
    return text

"""続柄 (relationship to the head): grammar, std 1.1.11 (j110); display order, std 5.2 (j1010).

Grammar (std 1.1.11, j110)
--------------------------
A relationship is one of

* ``世帯主`` (the head);
* a *chain* of base terms joined with ``の``, read from the head outwards: ``妻``, ``子の妻``,
  ``妻の子``, ``子の子の子の子``. The base terms are 夫, 妻, 夫（未届）, 妻（未届）, 子, 父, 母,
  兄, 姉, 弟, 妹;
* ``縁故者`` (a person related in fact but not provably, or too distantly for a chain);
* ``同居人`` (a person living in the household who is not a relative).

**Generations.** j110 counts a "generation" mechanically as the number of items joined with
``の``, and gives 子の子の子の子 as the 4-generation example and 子の子の子の子の子 as the first
that must become 縁故者. So the generation count is the number of *terms* (``の`` + 1): 妻 is 1,
子の妻 is 2, 子の子の子の子 is 4 (allowed), five terms are too deep. :func:`validate_relationship`
refuses a chain of five or more terms (``relationship.too_deep``); :func:`coerce_relationship`
returns 縁故者 with ``coerced=True`` instead.

**子（子の夫）and 子（子の妻）.** The list in j110 ② writes the child's spouse as 子（子の夫） and
子（子の妻）. This module reads the parenthesis as naming the relationship *of the child's
spouse* and records it the way the register prints it (DOMAIN-NOTES §7): ``子の夫`` /
``子の妻`` — the same text the chain rule ③ produces. Input written in the parenthesised form
is accepted and normalised to the chain; it counts as two generations.

**Normalisation** (:func:`normalise_relationship`): spaces removed, half-width and other
brackets → （ ）, 未届け → 未届, katakana ノ → の, and the parenthesised forms above.

**Refused** (``relationship.forbidden``, j110 【実装しない機能】): 祖父, 祖母, おじ, おば, 甥, 姪,
孫, 家事使用人, 準世帯主, 長男/長女… (all children are 子), and anything else outside the
grammar. Where the intended relationship has a chain, the message names it (孫 → 子の子,
祖父 → 父の父 または 母の父, 長男 → 子, 孫の子の子の子 → 縁故者).

Display order (std 5.2, j1010)
------------------------------
:func:`household_display_order` computes the standard order of the members of one household
for a household-wide record copy:

* **rank 1** — 1-1 the head; 1-2 the head's spouse (夫/妻, also 未届); 1-3 the head's children
  who have no family of their own in the household, by birth date;
* **rank 2** — each child of the head who has a spouse or children in the household, as a
  family: the child, the child's spouse, the child's children by birth date. Families are
  ordered by the child's birth date (the eldest son's family before the second son's);
* **rank 3** — 3-1 父 and 母 (the 筆頭者 first, otherwise by birth date); 3-2 兄 姉 弟 妹 by
  birth date; 3-3 the grandparents 父の父, 父の母, 母の父, 母の母 (筆頭者 first, then birth);
* **rank 4** — the spouse's parents, siblings and grandparents (妻の父 … 妻の兄 … 妻の父の母),
  ordered as rank 3; then other relatives by birth date; then the families of relatives,
  ordered by the generation of the relative, birth date, 宛名番号; then 縁故者; then 同居人,
  each by birth date.

Every tie is broken by 宛名番号 (``key``; numeric order for digit strings).

What the chains decide and what they cannot (documented choices):

* A chain says *how* a member is related, not *through whom*: with two 子 and one 子の妻 the
  chain does not tell whose wife she is. :class:`HouseholdMember` therefore takes an optional
  ``via`` (the key of the member the chain extends: the 子 of a 子の妻, the 子 of a 子の子). Without
  it the link is made when exactly one member has the parent chain; otherwise the member is
  *unlinked* and listed after the linked families of its rank, by generation, birth date and
  宛名番号.
* 妻の子 / 夫の子 (the spouse's child) is placed with the head's children: rank 1 and rank 2
  are "the couple and their children", and the spouse's child belongs to that unit. Deeper in
  a chain the same holds: 子の妻の子 is in the family of that 子.
* A sibling (兄, 姉, 弟, 妹; or the spouse's sibling) who has a spouse or children in the
  household forms a family of their own and moves, with it, to the relatives' families of
  rank 4 (rank 3 is defined as the head's family *outside* a couple-and-children unit).
  Parents and grandparents stay in rank 3 (they are named there explicitly); a relative
  hanging off them (父の妻, 父の兄 …) is an ordinary rank-4 relative.
* Within a family, a child who has a family of their own comes after their siblings who do
  not, as in ranks 1 and 2 (the standard does not go deeper than grandchildren).
* 縁故者 and 同居人 carry no chain, so their families cannot be derived; they are ordered by
  birth date and 宛名番号 only. ``via`` is not accepted for them.
* The standard also lets the city keep a manual order, and a person joining an existing
  household is appended at the end; both are the caller's business — this function gives the
  standard default.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from jumin.core.errors import RelationshipError

HEAD = "世帯主"
ENKOSHA = "縁故者"
DOKYONIN = "同居人"
NO = "の"
UNREGISTERED = "（未届）"

SPOUSE_TERMS = ("夫", "妻", "夫（未届）", "妻（未届）")
CHILD = "子"
PARENT_TERMS = ("父", "母")
SIBLING_TERMS = ("兄", "姉", "弟", "妹")
BASE_TERMS = (*SPOUSE_TERMS, CHILD, *PARENT_TERMS, *SIBLING_TERMS)
MAX_GENERATIONS = 4
"""The longest chain j110 allows, counted in terms (子の子の子の子)."""

CHILD_SPOUSE_FORMS = {"子（子の夫）": "子の夫", "子（子の妻）": "子の妻"}
"""j110 ②'s parenthesised forms and the chain the register records for them."""


class RelationshipKind(enum.StrEnum):
    """The four kinds of 続柄."""

    HEAD = "head"
    RELATIVE = "relative"
    ENKOSHA = "enkosha"
    DOKYONIN = "dokyonin"

    @property
    def label(self) -> str:
        return {"head": HEAD, "relative": "親族", "enkosha": ENKOSHA, "dokyonin": DOKYONIN}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class Relationship:
    """A valid 続柄.

    ``text`` is the normalised form to store and print; ``chain`` the base terms of a
    relative (empty for 世帯主, 縁故者, 同居人). ``coerced`` is True when
    :func:`coerce_relationship` replaced a chain deeper than four generations by 縁故者;
    ``original`` then keeps the (normalised) chain that was asked for.
    """

    text: str
    kind: RelationshipKind
    chain: tuple[str, ...] = ()
    coerced: bool = False
    original: str = ""

    @property
    def generations(self) -> int:
        """Number of terms joined with の (j110's mechanical count); 0 unless a relative."""
        return len(self.chain)

    @property
    def is_head(self) -> bool:
        return self.kind is RelationshipKind.HEAD

    @property
    def is_relative(self) -> bool:
        return self.kind is RelationshipKind.RELATIVE

    @property
    def is_spouse(self) -> bool:
        """The head's spouse (夫, 妻, also 未届)."""
        return len(self.chain) == 1 and self.chain[0] in SPOUSE_TERMS

    @property
    def is_child(self) -> bool:
        """The head's child (子)."""
        return self.chain == (CHILD,)

    @property
    def is_unregistered(self) -> bool:
        """Some link of the chain is an unregistered (未届) marriage."""
        return any(term.endswith(UNREGISTERED) for term in self.chain)


# --- normalisation --------------------------------------------------------------------------

_BRACKETS = str.maketrans(
    {"(": "（", ")": "）", "〔": "（", "〕": "）", "[": "（", "]": "）", "［": "（", "］": "）"}
)
_UNREGISTERED_SPELLINGS = ("（未届け）", "（未届出）")


def normalise_relationship(text: str) -> str:
    """Normalise the spelling of a 続柄 without judging it.

    Removes every space, turns brackets into full-width （ ）, spells （未届け） as （未届）,
    katakana ノ as の, and rewrites 子（子の夫）/子（子の妻） as 子の夫/子の妻.
    """
    text = "".join(ch for ch in text if not ch.isspace()).translate(_BRACKETS)
    for spelling in _UNREGISTERED_SPELLINGS:
        text = text.replace(spelling, UNREGISTERED)
    text = text.replace("ノ", NO)
    for form, chain in CHILD_SPOUSE_FORMS.items():
        text = text.replace(form, chain)
    return text


# --- refusals and suggestions ---------------------------------------------------------------

_ANY_CHILD = ("子",)
_FORBIDDEN_TERMS: dict[str, tuple[str, ...]] = {
    "孫": ("子の子",),
    "ひ孫": ("子の子の子",),
    "曾孫": ("子の子の子",),
    "曽孫": ("子の子の子",),
    "玄孫": ("子の子の子の子",),
    "祖父": ("父の父", "母の父"),
    "祖母": ("父の母", "母の母"),
    "祖父母": ("父の父", "父の母", "母の父", "母の母"),
    "おじ": ("父の兄", "父の弟", "母の兄", "母の弟"),
    "伯父": ("父の兄", "母の兄"),
    "叔父": ("父の弟", "母の弟"),
    "おば": ("父の姉", "父の妹", "母の姉", "母の妹"),
    "伯母": ("父の姉", "母の姉"),
    "叔母": ("父の妹", "母の妹"),
    "甥": ("兄の子", "弟の子", "姉の子", "妹の子"),
    "姪": ("兄の子", "弟の子", "姉の子", "妹の子"),
    "おい": ("兄の子", "弟の子", "姉の子", "妹の子"),
    "めい": ("兄の子", "弟の子", "姉の子", "妹の子"),
    **dict.fromkeys(
        ("いとこ", "従兄弟", "従姉妹"),
        tuple(f"{p}の{s}の子" for p in PARENT_TERMS for s in SIBLING_TERMS),
    ),
    **dict.fromkeys(
        (
            "長男",
            "次男",
            "二男",
            "三男",
            "四男",
            "五男",
            "長女",
            "次女",
            "二女",
            "三女",
            "四女",
            "五女",
            "養子",
            "養女",
            "実子",
            "長子",
            "末子",
            "息子",
            "娘",
            "嫡出子",
            "非嫡出子",
        ),
        _ANY_CHILD,
    ),
    "連れ子": ("妻の子", "夫の子"),
    "養父": ("父",),
    "実父": ("父",),
    "養母": ("母",),
    "実母": ("母",),
    "父母": ("父", "母"),
    "両親": ("父", "母"),
    "義父": ("妻の父", "夫の父"),
    "義母": ("妻の母", "夫の母"),
    "舅": ("妻の父", "夫の父"),
    "姑": ("妻の母", "夫の母"),
    "義兄": ("妻の兄", "夫の兄", "姉の夫"),
    "義姉": ("妻の姉", "夫の姉", "兄の妻"),
    "義弟": ("妻の弟", "夫の弟", "妹の夫"),
    "義妹": ("妻の妹", "夫の妹", "弟の妻"),
    "兄嫁": ("兄の妻",),
    "嫁": ("子の妻",),
    "婿": ("子の夫",),
    "娘婿": ("子の夫",),
    "兄弟": ("兄", "弟"),
    "姉妹": ("姉", "妹"),
    "配偶者": ("夫", "妻"),
    "内縁の妻": ("妻（未届）",),
    "内縁の夫": ("夫（未届）",),
    "未届の妻": ("妻（未届）",),
    "未届の夫": ("夫（未届）",),
    "本人": (HEAD,),
    "家事使用人": (DOKYONIN,),
    "使用人": (DOKYONIN,),
    "下宿人": (DOKYONIN,),
    "間借人": (DOKYONIN,),
    "準世帯主": (),
    ENKOSHA: (ENKOSHA,),
    DOKYONIN: (DOKYONIN,),
}
"""Terms j110 does not allow, with the chain (or whole 続柄) to use instead."""

_PHRASES = tuple(term for term in _FORBIDDEN_TERMS if NO in term)
_WHOLE = (HEAD, ENKOSHA, DOKYONIN)
_MAX_SUGGESTIONS = 4
_GRAMMAR = (
    "続柄は「世帯主」、夫・妻・夫（未届）・妻（未届）・子・父・母・兄・姉・弟・妹を"
    "「の」で4世代までつなげたもの、「縁故者」、「同居人」のいずれかです"
)


def _split_terms(text: str) -> list[str]:
    """Split on の, keeping the phrases that contain の (内縁の妻 …) as one term."""
    placeholders = {}
    for index, phrase in enumerate(_PHRASES):
        marker = chr(0xF0000 + index)
        placeholders[marker] = phrase
        text = text.replace(phrase, marker)
    terms = text.split(NO)
    for marker, phrase in placeholders.items():
        terms = [term.replace(marker, phrase) for term in terms]
    return terms


def _suggestions(terms: Sequence[str]) -> list[str]:
    """Chains (or whole 続柄) that express what ``terms`` meant, best effort, at most 5."""
    if terms[0] in (HEAD, "本人") and len(terms) > 1:
        terms = terms[1:]  # 世帯主の子 → 子: a 続柄 is already relative to the head
    options: list[tuple[str, ...]] = []
    for term in terms:
        if term in BASE_TERMS:
            options.append((term,))
        elif _FORBIDDEN_TERMS.get(term):
            replacement = _FORBIDDEN_TERMS[term]
            if any(choice in _WHOLE for choice in replacement):
                return list(replacement)
            options.append(replacement)
        else:
            return []
    found: list[str] = []
    for combination in itertools.product(*options):
        chain = NO.join(combination)
        if chain.count(NO) + 1 > MAX_GENERATIONS:
            chain = ENKOSHA
        if chain not in found:
            found.append(chain)
        if len(found) > _MAX_SUGGESTIONS:
            break
    return found


def _forbidden(text: str, terms: Sequence[str]) -> RelationshipError:
    bad = next(term for term in terms if term not in BASE_TERMS)
    suggestions = _suggestions(terms)
    if bad == "準世帯主":
        reason = "「準世帯主」は続柄として記録しません"
        fix = "世帯主との続柄（例：子、妻の父）を入力してください。"
    else:
        if bad in (ENKOSHA, DOKYONIN):
            reason = f"「{bad}」は「の」でつなげられません"
        elif bad in _FORBIDDEN_TERMS:
            reason = f"「{bad}」は住民票の続柄に用いない表記です"
        elif bad == HEAD and terms[0] == HEAD:
            reason = "続柄は世帯主から見た関係なので「世帯主の」は付けません"
        else:
            reason = _GRAMMAR
        if suggestions:
            listed = "」または「".join(suggestions[:_MAX_SUGGESTIONS])
            more = "など" if len(suggestions) > _MAX_SUGGESTIONS else ""
            fix = f"「{listed}」{more}としてください。"
        else:
            fix = "世帯主から見た続柄を「子の妻」「妻の父」のように入力してください。"
    return RelationshipError(
        "relationship.forbidden", f"続柄「{text}」は使えません（{reason}）。{fix}"
    )


def _parse(text: str) -> Relationship:
    normalised = normalise_relationship(text)
    if not normalised:
        raise RelationshipError(
            "relationship.empty",
            "続柄が入力されていません。世帯主から見た続柄（例：妻、子、子の妻）を入力してください。",
        )
    if normalised == HEAD:
        return Relationship(HEAD, RelationshipKind.HEAD)
    if normalised == ENKOSHA:
        return Relationship(ENKOSHA, RelationshipKind.ENKOSHA)
    if normalised == DOKYONIN:
        return Relationship(DOKYONIN, RelationshipKind.DOKYONIN)
    terms = _split_terms(normalised)
    if any(term not in BASE_TERMS for term in terms):
        raise _forbidden(normalised, terms)
    if len(terms) > MAX_GENERATIONS:
        raise RelationshipError(
            "relationship.too_deep",
            f"続柄「{normalised}」は{len(terms)}世代です（「の」でつなげられるのは"
            f"{MAX_GENERATIONS}世代まで）。続柄は「{ENKOSHA}」としてください。",
        )
    return Relationship(normalised, RelationshipKind.RELATIVE, tuple(terms))


def validate_relationship(text: str) -> Relationship:
    """Parse and check a 続柄 (std 1.1.11, j110); raise :class:`RelationshipError` if invalid.

    Codes: ``relationship.empty``, ``relationship.forbidden`` (outside the grammar; the
    message names the chain to use), ``relationship.too_deep`` (five generations or more;
    the fix is 縁故者).
    """
    return _parse(text)


def coerce_relationship(text: str) -> Relationship:
    """Like :func:`validate_relationship`, but a chain deeper than four generations becomes
    縁故者 (j110 留意点) with ``coerced=True`` instead of an error. Other errors still raise."""
    try:
        return _parse(text)
    except RelationshipError as err:
        if err.code != "relationship.too_deep":
            raise
        return Relationship(
            ENKOSHA,
            RelationshipKind.ENKOSHA,
            coerced=True,
            original=normalise_relationship(text),
        )


# --- display order, std 5.2 (j1010) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """One member of a household, as :func:`household_display_order` needs it.

    ``key`` is the 宛名番号 (atena_no); ``birth_sort`` the date to order by birth;
    ``is_koseki_head`` whether the member is the 筆頭者 of their koseki (orders 父母, 祖父母);
    ``via`` optionally the key of the member this member's chain extends (the 子 whose wife a
    子の妻 is, the 子 whose child a 子の子 is) when the chain alone is ambiguous.
    """

    key: str
    relationship: str
    birth_sort: date
    is_koseki_head: bool = False
    via: str | None = None


@dataclass(slots=True)
class _Node:
    member: HouseholdMember
    relationship: Relationship
    parent: str | None = None  # key of the member this one hangs off
    of_head_couple: bool = False  # hangs off the head's own couple (the head may be absent)
    is_spouse_link: bool = False
    place: str = ""
    spouses: list[_Node] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    @property
    def has_family(self) -> bool:
        return bool(self.spouses) or bool(self.children)


def _atena_order(key: str) -> tuple[int, int, str]:
    return (0, len(key), key) if key.isdigit() else (1, 0, key)


def _by_birth(node: _Node) -> tuple[date, tuple[int, int, str]]:
    return node.member.birth_sort, _atena_order(node.member.key)


def _koseki_head_first(node: _Node) -> tuple[bool, date, tuple[int, int, str]]:
    return not node.member.is_koseki_head, *_by_birth(node)


def _by_generation(node: _Node) -> tuple[int, date, tuple[int, int, str]]:
    return node.relationship.generations, *_by_birth(node)


def _parent_link(chain: tuple[str, ...]) -> tuple[bool, tuple[str, ...]] | None:
    """(is a spouse link, the chain of the member this one hangs off) or None for a root."""
    last = chain[-1]
    previous_is_spouse = len(chain) >= 2 and chain[-2] in SPOUSE_TERMS
    if last in SPOUSE_TERMS:
        return None if previous_is_spouse else (True, chain[:-1])
    if last == CHILD:
        return False, chain[:-2] if previous_is_spouse else chain[:-1]
    return None


def _descends_from_head(chain: tuple[str, ...]) -> bool:
    while chain:
        link = _parent_link(chain)
        if link is None:
            return False
        chain = link[1]
    return True


def _root_place(chain: tuple[str, ...]) -> str:
    """Where a member that hangs off nobody goes, from its chain alone."""
    if _descends_from_head(chain):
        return "descendant"
    side = chain[1:] if chain[0] in SPOUSE_TERMS and len(chain) > 1 else chain
    prefix = "spouse_" if side is not chain else ""
    if len(side) == 1 and side[0] in PARENT_TERMS:
        return prefix + "parent"
    if len(side) == 1 and side[0] in SIBLING_TERMS:
        return prefix + "sibling"
    if len(side) == 2 and side[0] in PARENT_TERMS and side[1] in PARENT_TERMS:
        return prefix + "grandparent"
    return "relative"


# Places whose members are listed alone: a member hanging off one of them is a root itself.
_LISTED_ALONE = frozenset(
    {"head", "head_spouse", "parent", "grandparent", "spouse_parent", "spouse_grandparent"}
)


def _link_error(member: HouseholdMember, detail: str) -> RelationshipError:
    return RelationshipError(
        "relationship.link",
        f"宛名番号 {member.key} の世帯員（続柄「{member.relationship}」）の関係先 "
        f"{member.via} が正しくありません（{detail}）。関係先には、その続柄が指す世帯員"
        "（子の妻なら夫である子）の宛名番号を指定してください。",
    )


def _resolve_parent(
    node: _Node, nodes: dict[str, _Node], by_chain: dict[tuple[str, ...], list[_Node]]
) -> None:
    member = node.member
    if node.relationship.kind is not RelationshipKind.RELATIVE:
        if member.via is not None:
            raise _link_error(member, "世帯主・縁故者・同居人には関係先を指定できません")
        return
    link = _parent_link(node.relationship.chain)
    if link is None:
        if member.via is not None:
            raise _link_error(member, "この続柄は他の世帯員を経由しません")
        return
    node.is_spouse_link, parent_chain = link
    if not parent_chain:
        if member.via is not None:
            raise _link_error(member, "世帯主の配偶者・子には関係先は不要です")
        node.of_head_couple = True
        return
    if member.via is None:
        candidates = by_chain.get(parent_chain, [])
        if len(candidates) == 1:
            node.parent = candidates[0].member.key
        return
    target = nodes.get(member.via)
    if target is None or target is node:
        raise _link_error(member, "その宛名番号の世帯員はこの世帯にいません")
    chain = node.relationship.chain
    if target.relationship.chain == parent_chain:
        node.parent = target.member.key
    elif not node.is_spouse_link and target.relationship.chain == chain[:-1]:
        # 子の妻の子 given via the 子の妻: the child belongs to the couple, anchored on the 子.
        node.parent = target.parent
    else:
        raise _link_error(member, f"関係先の続柄は「{NO.join(parent_chain)}」である必要があります")


def _place(node: _Node, nodes: dict[str, _Node]) -> str:
    kind = node.relationship.kind
    if kind is RelationshipKind.HEAD:
        return "head"
    if kind is RelationshipKind.ENKOSHA:
        return "enkosha"
    if kind is RelationshipKind.DOKYONIN:
        return "dokyonin"
    if node.of_head_couple:
        return "head_spouse" if node.is_spouse_link else "head_child"
    if node.parent is not None and nodes[node.parent].place not in _LISTED_ALONE:
        return "dependent"
    node.parent = None
    return _root_place(node.relationship.chain)


def _family(node: _Node) -> list[HouseholdMember]:
    """The member, their spouse(s), their children without a family, then their children's
    families — the order of rank 2, applied at every level."""
    spouses = sorted(node.spouses, key=_by_birth)
    children = sorted(node.children, key=_by_birth)
    order = [node.member, *(spouse.member for spouse in spouses)]
    order += [child.member for child in children if not child.has_family]
    for child in children:
        if child.has_family:
            order += _family(child)
    return order


def household_display_order(members: Iterable[HouseholdMember]) -> list[HouseholdMember]:
    """The members of one household in the order of std 5.2 (j1010); see the module docstring.

    Every relationship must be valid (:func:`validate_relationship` is applied and its error
    propagates). A ``via`` that names no member, or a member of the wrong relationship, raises
    :class:`RelationshipError` with code ``relationship.link``. Keys must be unique.
    """
    nodes: dict[str, _Node] = {}
    for member in members:
        if member.key in nodes:
            raise ValueError(f"duplicate household member key {member.key!r}")
        nodes[member.key] = _Node(member, validate_relationship(member.relationship))
    by_chain: dict[tuple[str, ...], list[_Node]] = {}
    for node in nodes.values():
        if node.relationship.chain:
            by_chain.setdefault(node.relationship.chain, []).append(node)
    for node in sorted(nodes.values(), key=lambda n: n.relationship.generations):
        _resolve_parent(node, nodes, by_chain)
    # A parent's chain is shorter than its dependant's, so placing by chain length sees every
    # parent placed first.
    for node in sorted(nodes.values(), key=lambda n: n.relationship.generations):
        node.place = _place(node, nodes)
        if node.place == "dependent":
            assert node.parent is not None
            parent = nodes[node.parent]
            if node.is_spouse_link:
                parent.spouses.append(node)
            else:
                parent.children.append(node)

    def placed(*places: str) -> list[_Node]:
        return [node for node in nodes.values() if node.place in places]

    head_children = placed("head_child")
    siblings = [n for n in placed("sibling") if not n.has_family]
    spouse_siblings = [n for n in placed("spouse_sibling") if not n.has_family]
    relatives = [
        *placed("relative"),
        *(n for n in placed("sibling", "spouse_sibling") if n.has_family),
    ]

    order: list[HouseholdMember] = []
    # rank 1: head, spouse, children without a family of their own
    order += [n.member for n in sorted(placed("head"), key=_by_birth)]
    order += [n.member for n in sorted(placed("head_spouse"), key=_by_birth)]
    order += [n.member for n in sorted(head_children, key=_by_birth) if not n.has_family]
    # rank 2: the families of the head's children, then descendants whose link is unknown
    for node in sorted((n for n in head_children if n.has_family), key=_by_birth):
        order += _family(node)
    for node in sorted(placed("descendant"), key=_by_generation):
        order += _family(node)
    # rank 3: parents, siblings, grandparents
    order += [n.member for n in sorted(placed("parent"), key=_koseki_head_first)]
    order += [n.member for n in sorted(siblings, key=_by_birth)]
    order += [n.member for n in sorted(placed("grandparent"), key=_koseki_head_first)]
    # rank 4: the spouse's side as rank 3, other relatives, relatives' families, 縁故者, 同居人
    order += [n.member for n in sorted(placed("spouse_parent"), key=_koseki_head_first)]
    order += [n.member for n in sorted(spouse_siblings, key=_by_birth)]
    order += [n.member for n in sorted(placed("spouse_grandparent"), key=_koseki_head_first)]
    order += [n.member for n in sorted(relatives, key=_by_birth) if not n.has_family]
    for node in sorted((n for n in relatives if n.has_family), key=_by_generation):
        order += _family(node)
    order += [n.member for n in sorted(placed("enkosha"), key=_by_birth)]
    order += [n.member for n in sorted(placed("dokyonin"), key=_by_birth)]
    return order

"""Procedure screens generated from the procedures' pydantic input models (ADR 0006).

A procedure's input model is the one definition of what a clerk enters: the API takes it as
JSON, and this module turns it into a form and back.

- ``build(model, values, placed)`` walks the model and returns a tree of ``Node``s (fields,
  groups for nested models, lists of repeated groups) carrying the entered values and the
  findings placed beside them; the templates render the tree recursively.
- ``parse(model, post)`` turns the flat POST (dotted names: ``persons.0.birth_date``) into the
  nested dict the model validates, reading 和暦 dates (R8.11.26, 令和8年11月26日) and dropping
  rows left entirely blank.
- ``translate(exc)`` turns a pydantic ``ValidationError`` into Japanese findings naming the
  field and the rule.

Field names in the POST are the model's own paths, so a finding's ``field`` from a planner
(``persons.0.birth_date``) lands beside the input it is about.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from django.utils import timezone
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from jumin.core.errors import CoreError
from jumin.core.findings import Finding, Findings, error
from jumin.core.wareki import format_wareki_short, parse_any_date, parse_date
from jumin.web.common import PlacedFindings
from jumin.web.labels import AMENDABLE_ITEMS, choice_labels, field_label

MAX_ROWS = 30  # persons in one household change: the models cap their lists the same way
DICT_ROWS = "rows"  # a dict field (corrections) is entered as rows of (item, value)


# --------------------------------------------------------------------------- the tree


@dataclass
class Node:
    """One element of a generated form.

    ``kind``: "text", "date", "select", "checkbox", "secret", "textarea" (inputs);
    "group" (a nested model: a fieldset), "list" (repeated groups or inputs),
    "pairs" (a dict entered as item/value rows).
    """

    kind: str
    path: str
    name: str
    label: str
    hint: str = ""
    required: bool = False
    value: Any = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    children: list[Node] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    index: int | None = None  # position in a list
    can_add: bool = False
    can_remove: bool = False
    wide: bool = False

    @property
    def input_id(self) -> str:
        return "f-" + self.path.replace(".", "-")

    @property
    def has_error(self) -> bool:
        return any(f.is_error for f in self.findings)

    @property
    def is_input(self) -> bool:
        return self.kind in {"text", "date", "select", "checkbox", "secret", "textarea"}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None`` and whether None is allowed."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
        return annotation, True
    return annotation, False


def _strip_annotated(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def list_item_type(info: FieldInfo) -> Any:
    """The type of the items of a list field (``list[PersonInput] | None`` → PersonInput)."""
    tp, _ = _unwrap(info.annotation)
    (item,) = typing.get_args(_strip_annotated(tp))
    return _strip_annotated(item)


def _max_length(info: FieldInfo) -> int | None:
    for meta in info.metadata:
        value = getattr(meta, "max_length", None)
        if value is not None:
            return int(value)
    return None


def _list_bounds(info: FieldInfo) -> tuple[int, int]:
    low, high = 0, MAX_ROWS
    for meta in info.metadata:
        if getattr(meta, "min_length", None) is not None:
            low = int(meta.min_length)
        if getattr(meta, "max_length", None) is not None:
            high = min(high, int(meta.max_length))
    return low, high


def field_kind(info: FieldInfo) -> str:
    """How one model field is entered (see ``Node.kind``)."""
    tp, _optional = _unwrap(info.annotation)
    tp = _strip_annotated(tp)
    origin = typing.get_origin(tp)
    if origin is list:
        return "list"
    if origin is dict:
        return "pairs"
    if is_model(tp):
        return "group"
    if tp is bool:
        return "checkbox"
    if tp is dt.date:
        return "date"
    if tp is SecretStr:
        return "secret"
    if origin is Literal:
        return "select"
    return "text"


def _literal_values(info: FieldInfo) -> list[str]:
    tp, _ = _unwrap(info.annotation)
    return [str(v) for v in typing.get_args(_strip_annotated(tp))]


HINTS = {
    "address_code": "町名・郵便番号・住所コードの先頭を入力すると候補が出ます",
}
TODAY_BY_DEFAULT = frozenset({"notified_on"})  # the notification is usually made today


def _default_text(info: FieldInfo, name: str = "") -> Any:
    if name in TODAY_BY_DEFAULT:
        return timezone.localdate().isoformat()
    if info.is_required():
        return ""
    default = info.get_default(call_default_factory=True)
    if default is None:
        return ""
    if isinstance(default, bool):
        return default
    if isinstance(default, dt.date):
        return default.isoformat()
    return default if isinstance(default, str) else ""


def build(
    model: type[BaseModel],
    values: Mapping[str, Any] | None,
    placed: PlacedFindings | None = None,
    prefix: str = "",
) -> list[Node]:
    """The form of ``model`` filled with ``values`` (a nested dict as ``parse`` returns, or
    the defaults when None)."""
    placed = placed or PlacedFindings()
    nodes: list[Node] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        kind = field_kind(info)
        label = field_label(name, info.description)
        hint = HINTS.get(name) or info.description or ""
        if hint == label or hint.startswith(label + "（"):
            hint = hint.removeprefix(label)
        if hint == label:
            hint = ""
        given = values.get(name) if values is not None else None
        node = Node(kind=kind, path=path, name=name, label=label, hint=hint)
        node.required = info.is_required() and kind not in {"checkbox", "list", "pairs"}
        node.findings = placed.for_field(path)
        if kind == "group":
            inner, _ = _unwrap(info.annotation)
            inner_values = given if isinstance(given, Mapping) else None
            node.children = build(inner, inner_values, placed, path + ".")
        elif kind == "list":
            _list_node(node, info, given, placed, values is None)
        elif kind == "pairs":
            _pairs_node(node, given, placed)
        else:
            _input_node(node, model, info, given, values is None)
        nodes.append(node)
    return nodes


def _input_node(
    node: Node, model: type[BaseModel], info: FieldInfo, given: Any, fresh: bool
) -> None:
    node.max_length = _max_length(info)
    if node.kind == "select":
        labels = choice_labels(model.__name__, node.name) or {}
        node.choices = [(v, labels.get(v, v)) for v in _literal_values(info)]
        _, optional = _unwrap(info.annotation)
        if optional and "" not in dict(node.choices):
            node.choices.insert(0, ("", "（変更なし・空欄）"))
        elif info.is_required() and "" not in dict(node.choices):
            node.choices.insert(0, ("", "（選択してください）"))  # never a silent default
    elif node.name == "foreign_category":
        node.kind = "select"
        labels = choice_labels(model.__name__, node.name) or {}
        node.choices = list(labels.items())
    if node.kind == "date":
        given = given if given is not None or not fresh else _default_text(info, node.name)
        node.value = _date_text(node.name, _as_text(given))
    elif node.kind == "checkbox":
        node.value = bool(given) if not fresh else bool(_default_text(info, node.name))
    elif node.kind == "secret":
        node.value = ""  # never echoed back into a page
    else:
        node.value = _default_text(info, node.name) if fresh and given is None else _as_text(given)
    node.wide = (node.max_length or 0) >= 200 or node.name in {"reason", "note"}
    if node.name in {"reason", "note"} or (node.max_length or 0) > 300:
        node.kind = "textarea" if node.kind == "text" else node.kind


def _as_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


WESTERN_DATES = frozenset({"stay_expires_on"})  # std 1.1.9: a foreign resident's, in 西暦


def _date_text(name: str, value: Any) -> Any:
    """A date field's value as the clerk typed it: ISO dates (from a round trip or a
    default) shown in 和暦 (R8.11.26), except the items the law keeps in 西暦."""
    if not isinstance(value, str) or name in WESTERN_DATES:
        return value
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value  # as typed (an error is beside it)
    try:
        return format_wareki_short(day)
    except CoreError:
        return value


def _list_node(
    node: Node, info: FieldInfo, given: Any, placed: PlacedFindings, fresh: bool
) -> None:
    item_type = list_item_type(info)
    low, high = _list_bounds(info)
    rows = list(given) if isinstance(given, list) else []
    if not rows and (fresh or low > 0 or info.is_required()):
        rows = [None]
    for i, row in enumerate(rows):
        path = f"{node.path}.{i}"
        if is_model(item_type):
            child = Node(kind="group", path=path, name=node.name, label=f"{node.label} {i + 1}")
            row_values = row if isinstance(row, Mapping) else None
            child.children = build(item_type, row_values, placed, path + ".")
        else:
            child = Node(kind="text", path=path, name=node.name, label=f"{node.label} {i + 1}")
            child.value = _as_text(row)
            child.max_length = 64
        child.index = i
        child.findings = placed.for_field(path)
        child.can_remove = len(rows) > max(low, 1)
        node.children.append(child)
    node.can_add = len(rows) < high


def _pairs_node(node: Node, given: Any, placed: PlacedFindings) -> None:
    """A dict (the items a correction changes): rows of (item, new value)."""
    rows = list(given.items()) if isinstance(given, Mapping) else []
    if not rows:
        rows = [("", "")]
    choices = [("", "（項目を選択）"), *AMENDABLE_ITEMS.items()]
    for i, (item, value) in enumerate(rows):
        path = f"{node.path}.{i}"
        row = Node(kind="group", path=path, name=node.name, label=f"{node.label} {i + 1}", index=i)
        item_findings = placed.for_field(f"{node.path}.{item}") if item else []
        row.children = [
            Node(
                kind="select",
                path=f"{path}.item",
                name="item",
                label="項目",
                value=item,
                choices=choices,
                findings=item_findings,
            ),
            Node(
                kind="text",
                path=f"{path}.value",
                name="value",
                label="修正後の値",
                value=_as_text(value),
                max_length=200,
                hint="はい／いいえの項目は「1」または「0」",
            ),
        ]
        row.can_remove = len(rows) > 1
        node.children.append(row)
    node.can_add = len(rows) < len(AMENDABLE_ITEMS)


def first_input(nodes: Iterable[Node], under: str) -> str:
    """The first input at or below the node ``under`` (a row just added), or ""."""
    for node in nodes:
        if node.path == under or under.startswith(node.path + "."):
            if node.path == under:
                return next((n.path for n in _inputs(node)), "")
            found = first_input(node.children, under)
            if found:
                return found
    return ""


def _inputs(node: Node) -> Iterable[Node]:
    if node.is_input:
        yield node
    for child in node.children:
        yield from _inputs(child)


def field_paths(nodes: Iterable[Node]) -> list[str]:
    """Every path a finding can be placed on."""
    out: list[str] = []
    for node in nodes:
        out.append(node.path)
        out.extend(field_paths(node.children))
    return out


# --------------------------------------------------------------------------- parsing


class DateFieldError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def unflatten(post: Mapping[str, Any]) -> dict[str, Any]:
    """``{"persons.0.family_name": "山田"}`` → ``{"persons": {"0": {"family_name": …}}}``."""
    root: dict[str, Any] = {}
    for key, value in post.items():
        if not key or key.startswith(("_", "csrf")) or key in {"csrfmiddlewaretoken"}:
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    return root


def parse(model: type[BaseModel], post: Mapping[str, Any]) -> tuple[dict[str, Any], Findings]:
    """The model's input from a POST; findings for dates that cannot be read."""
    findings = Findings()
    data = _shape(model, unflatten(post), "", findings)
    return data, findings


def _shape(
    model: type[BaseModel], raw: Mapping[str, Any], prefix: str, findings: Findings
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        kind = field_kind(info)
        given = raw.get(name)
        _, optional = _unwrap(info.annotation)
        if kind == "group":
            inner, _ = _unwrap(info.annotation)
            sub = _shape(inner, given if isinstance(given, Mapping) else {}, path + ".", findings)
            if optional and not _has_content(sub):
                out[name] = None
            else:
                out[name] = sub
        elif kind == "list":
            out[name] = _shape_list(info, given, path, findings)
        elif kind == "pairs":
            out[name] = _shape_pairs(given)
        elif kind == "checkbox":
            out[name] = given not in (None, "", "0", "false", "off")
        elif kind == "date":
            text = str(given or "").strip()
            if not text:
                if optional or not info.is_required():
                    out[name] = None
                continue
            try:
                out[name] = read_date(text)
            except CoreError as exc:
                findings.add(
                    error(
                        "form.date",
                        f"{field_label(name, info.description)}「{text}」を日付として読めません"
                        f"（{exc.message}）。",
                        field=path,
                        remedy="R8.11.26・令和8年11月26日・2026-11-26 のように入力してください。",
                    )
                )
                out[name] = text  # kept as typed, so the form shows it beside its error
        else:
            text = "" if given is None else str(given)
            if name in UNCERTAIN_DATES and text.strip():
                _check_uncertain(name, info, text, path, findings)
            if kind == "secret":
                text = text.replace(" ", "").replace("-", "")
            if not text.strip() and optional:
                out[name] = None
            elif not text.strip() and info.is_required():
                if kind == "select":
                    findings.add(
                        error(
                            "form.missing",
                            _row_prefix(path.split("."))
                            + f"「{field_label(name, info.description)}」を選択してください。",
                            field=path,
                        )
                    )
                continue  # "missing": the model says so in its own words
            else:
                out[name] = text
    return out


UNCERTAIN_DATES = frozenset({"birth_date", "death_date", "deemed_dead_on"})
"""Text fields holding a date that may be uncertain (std 1.1.8): read here too, so a wrong
date is reported together with the form's other errors."""


def _check_uncertain(name: str, info: FieldInfo, text: str, path: str, findings: Findings) -> None:
    try:
        parse_any_date(text)
    except CoreError as exc:
        findings.add(
            error(
                "form.date",
                f"{field_label(name, info.description)}「{text}」を日付として読めません"
                f"（{exc.message}）。",
                field=path,
                remedy="R8.11.26・2026-11-26・昭和55年・令和元年5月不詳 のように入力してください。",
            )
        )


def _has_content(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_content(v) for v in value)
    return value not in (None, "", False)


def _indexed(given: Any) -> list[Any]:
    if not isinstance(given, Mapping):
        return []
    keys = sorted((k for k in given if str(k).isdigit()), key=int)
    return [given[k] for k in keys]


def _shape_list(info: FieldInfo, given: Any, path: str, findings: Findings) -> list[Any]:
    item_type = list_item_type(info)
    rows: list[Any] = []
    for raw in _indexed(given):
        if is_model(item_type):
            row = _shape(item_type, raw if isinstance(raw, Mapping) else {}, "", Findings())
            if not _has_content({k: v for k, v in row.items() if not isinstance(v, bool)}):
                continue  # a row the clerk added and left blank
            index = len(rows)
            # dates need their row's final index for the finding
            rows.append(_shape(item_type, raw, f"{path}.{index}.", findings))
        else:
            text = str(raw or "").strip()
            if text:
                rows.append(text)
    return rows


def _shape_pairs(given: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw in _indexed(given):
        if not isinstance(raw, Mapping):
            continue
        item = str(raw.get("item") or "").strip()
        if not item:
            continue
        value: Any = str(raw.get("value") or "")
        if item == "name_kana_confirmed":
            value = value.strip() in {"1", "true", "はい", "済"}
        out[item] = value
    return out


def read_date(text: str) -> str:
    """A clerk's date (和暦 or 西暦, full-width or not) as ISO text; CoreError if unreadable."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return parse_date(text).isoformat()


# --------------------------------------------------------------------------- errors

_MESSAGES = {
    "missing": "「{label}」を入力してください。",
    "string_too_long": "「{label}」は{max}文字以内で入力してください。",
    "string_too_short": "「{label}」を入力してください。",
    "too_short": "「{label}」を少なくとも{min}件入力してください。",
    "too_long": "「{label}」は{max}件までです。",
    "literal_error": "「{label}」は選択肢から選んでください。",
    "date_from_datetime_parsing": "「{label}」を日付で入力してください。",
    "date_parsing": "「{label}」を日付で入力してください。",
    "date_type": "「{label}」を日付で入力してください。",
    "bool_parsing": "「{label}」の値が正しくありません。",
    "int_parsing": "「{label}」は数字で入力してください。",
    "greater_than_equal": "「{label}」は{ge}以上の数で入力してください。",
    "string_type": "「{label}」の値が正しくありません。",
    "dict_type": "「{label}」の値が正しくありません。",
    "list_type": "「{label}」の値が正しくありません。",
    "model_type": "「{label}」の値が正しくありません。",
    "extra_forbidden": "「{label}」はこの手続では入力できません。",
}


def _row_prefix(loc: list[str]) -> str:
    """「異動者 2：」 for an error inside the second row of a list."""
    for i, part in enumerate(loc[:-1]):
        if loc[i + 1].isdigit() and not part.isdigit():
            return f"{field_label(part)} {int(loc[i + 1]) + 1}："
    return ""


def translate(exc: ValidationError) -> Findings:
    """A pydantic error as Japanese findings on the fields they are about."""
    findings = Findings()
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err.get("loc", ()) if not str(part).startswith("function-")]
        names = [p for p in loc if not p.isdigit()]
        label = field_label(names[-1]) if names else "入力"
        row = _row_prefix(loc)
        ctx = err.get("ctx") or {}
        template = _MESSAGES.get(err["type"])
        if template is not None:
            message = template.format(
                label=label,
                max=ctx.get("max_length", ""),
                min=ctx.get("min_length", ""),
                ge=ctx.get("ge", ""),
            )
        else:
            detail = str(err.get("msg", "")).removeprefix("Value error, ")
            message = f"「{label}」: {detail}"
        findings.add(
            error(
                f"form.{err['type']}",
                row + message,
                field=".".join(loc),
            )
        )
    return findings

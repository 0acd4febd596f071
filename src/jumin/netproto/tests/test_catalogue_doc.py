"""docs/guide/jukinet-messages.md documents every kind, every body field and every result
field of the catalogue (a kind or field added without documentation fails here)."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest

from jumin.netproto.messages import KINDS, Body

DOC = Path(__file__).resolve().parents[4] / "docs" / "guide" / "jukinet-messages.md"


def _section(text: str, kind: str) -> str:
    match = re.search(rf"^### `{re.escape(kind)}` — .*?(?=^### |\Z)", text, re.M | re.S)
    assert match, f"no section for {kind} in {DOC.name}"
    return match.group(0)


def _nested(annotation: object) -> list[type[Body]]:
    if isinstance(annotation, type) and issubclass(annotation, Body):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        return [model for arg in typing.get_args(annotation) for model in _nested(arg)]
    return []


def _fields(model: type[Body], *, deep: bool) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        if deep:
            for inner in _nested(field.annotation):
                names |= _fields(inner, deep=True)
    return names


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_and_field_is_documented(kind):
    section = _section(DOC.read_text(encoding="utf-8"), kind)
    spec = KINDS[kind]
    assert spec.label in section
    assert ("`pref-NN`" if spec.recipient == "prefecture" else "`jlis`") in section
    wanted = _fields(spec.body, deep=True) | _fields(spec.result, deep=False)
    missing = sorted(name for name in wanted if not re.search(rf"\b{name}\b", section))
    assert not missing, f"{kind}: undocumented fields {missing}"

"""The catalogue of kinds: every kind has a recipient role, a body and a result model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jumin.netproto.messages import (
    JLIS,
    KINDS,
    RELAYED,
    Body,
    ErrorBody,
    IdentityQuery,
    MoveOutInfo,
    prefecture_node,
)


def test_every_kind_is_complete():
    for name, kind in KINDS.items():
        assert kind.name == name
        assert kind.recipient in {"jlis", "prefecture"}
        assert issubclass(kind.body, Body)
        assert issubclass(kind.result, Body)
        assert kind.label  # Japanese, for logs and screens
    assert set(KINDS) >= RELAYED
    assert KINDS["identity.update"].recipient == "prefecture"


def test_prefecture_node_of_a_city():
    assert prefecture_node("141500") == "pref-14"
    assert JLIS == "jlis"


def test_bodies_refuse_unknown_fields():
    with pytest.raises(ValidationError):
        ErrorBody.model_validate({"code": "x", "message": "y", "hint": "z"})


def test_identifier_patterns():
    with pytest.raises(ValidationError):
        IdentityQuery.model_validate({"purpose": "確認", "my_number": "12345"})
    with pytest.raises(ValidationError):
        MoveOutInfo.model_validate(
            {
                "certificate_id": "1",
                "from_municipality": "14150",
                "previous_address": "",
                "planned_on": "2026-12-01",
                "persons": [],
            }
        )

"""Fixtures for the CS tests: a fake national side on a free port, this city's key, data."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest

from jumin.core.identifiers import generate_juminhyo_code, generate_my_number
from jumin.jukinet import keys
from jumin.jukinet.conf import config
from jumin.jukinet.tests.fakenet import FakeNetsim

_rng = random.Random(7)
_seq = itertools.count(1)


def new_code() -> str:
    return generate_juminhyo_code(_rng)


def new_my_number() -> str:
    return generate_my_number(_rng)


@pytest.fixture
def cs_env(tmp_path, monkeypatch) -> Any:
    """This city's CS configured against nothing yet (key file under tmp_path)."""
    monkeypatch.setenv("JUMIN_CS_KEY_FILE", str(tmp_path / "cs-key.json"))
    monkeypatch.setenv("JUMIN_CS_NODE", "141500")
    monkeypatch.setenv("JUMIN_CS_TIMEOUT", "2")
    monkeypatch.setenv("JUMIN_CS_BACKOFF_BASE", "1")
    monkeypatch.setenv("JUMIN_CS_BACKOFF_CAP", "600")
    monkeypatch.delenv("JUMIN_NETSIM_PUBLIC_KEY", raising=False)
    return config()


@pytest.fixture
def fake(cs_env, monkeypatch) -> Iterator[FakeNetsim]:
    """A fake national side that knows this city's public key; the CS points at it."""
    net = FakeNetsim().up()
    monkeypatch.setenv("JUMIN_NETSIM_URL", net.url)
    net.register("141500", keys.node_key(config()).public_b64)
    yield net
    net.down()

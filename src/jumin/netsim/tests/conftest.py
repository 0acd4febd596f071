"""netsim is tested as what it is: a separate process with its own settings and database.

The suite runs under the city's settings (``jumin.config.settings``), where netsim's app is
not installed; so these tests never import ``jumin.netsim.models`` (or anything that does).
Instead:

- one ``jumin netsim serve`` process per session, on a free port, with its own var dir and
  a scratch database of the same kind as the suite's (SQLite file, or a second database on
  the same PostgreSQL server, dropped at the end) — so ``make test`` covers both;
- tests talk to it over HTTP like a city does (``jumin.netsim.client``), and look into its
  database with plain SQL (``NetsimDB``) to check effects, non-effects and the log;
- pure modules (numbers, key file, validation, faults) are tested in-process.

Each test registers its own cities (open registration) and draws fresh 住民票コード, so
tests share the server without sharing state.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sqlite3
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jumin.core.identifiers import local_government_code_check_digit
from jumin.netproto.envelope import Envelope, NodeKey
from jumin.netproto.messages import KINDS, prefecture_node
from jumin.netsim.client import Client, Response
from jumin.netsim.numbers import draw_juminhyo_code
from jumin.netsim.testing import NetsimProcess, scratch_database


class NetsimDB:
    """Read-only SQL access to the netsim database (SQLite file or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgres")

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        if self.postgres:
            import psycopg
            from psycopg.rows import dict_row

            with psycopg.connect(self.url, row_factory=dict_row, autocommit=True) as conn:
                return list(conn.execute(sql, params).fetchall())
        path = urllib.parse.urlsplit(self.url).path
        connection = sqlite3.connect(path, timeout=20)
        try:
            connection.row_factory = sqlite3.Row
            cursor = connection.execute(sql.replace("%s", "?"), params)
            return [dict(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def value(self, sql: str, *params: Any) -> Any:
        rows = self.rows(sql, *params)
        return next(iter(rows[0].values())) if rows else None

    def count(self, table: str, where: str = "1=1", *params: Any) -> int:
        return int(self.value(f"SELECT COUNT(*) AS n FROM netsim_{table} WHERE {where}", *params))

    def log(self, message_id: str) -> list[dict[str, Any]]:
        rows = self.rows(
            "SELECT * FROM netsim_messagelog WHERE message_id = %s ORDER BY id", message_id
        )
        for row in rows:
            for name in ("body", "reply"):
                if isinstance(row[name], str):
                    row[name] = json.loads(row[name])
        return rows


@pytest.fixture(scope="session")
def netsim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetsimProcess]:
    from django.conf import settings

    base = tmp_path_factory.mktemp("netsim")
    with scratch_database(settings.DATABASES["default"], base) as url:
        server = NetsimProcess.start(base / "var", database_url=url)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def netsim_db(netsim_server: NetsimProcess) -> NetsimDB:
    return NetsimDB(netsim_server.env["JUMIN_NETSIM_DATABASE_URL"])


@pytest.fixture(scope="session")
def public_keys(netsim_server: NetsimProcess) -> dict[str, str]:
    """netsim's own public keys, as a city learns them (GET /v1/nodes/<code>)."""
    with Client(netsim_server.url) as client:
        return {
            code: client.node(code).json()["public_key"] for code in ("jlis", "pref-14", "pref-13")
        }


_municipality_numbers = itertools.count(100)


def new_municipality_code(prefecture: str = "14") -> str:
    body = f"{prefecture}{next(_municipality_numbers):03d}"
    return body + local_government_code_check_digit(body)


@dataclass
class City:
    """A city's CS as the tests drive it: its key, its client, helpers to send."""

    code: str
    name: str
    key: NodeKey
    client: Client
    public_keys: dict[str, str]

    def envelope(
        self,
        kind: str,
        body: dict[str, Any],
        *,
        recipient: str | None = None,
        key: str | None = None,
        sent_at: str | None = None,
    ) -> Envelope:
        if recipient is None:
            spec = KINDS.get(kind)
            recipient = (
                prefecture_node(self.code) if spec and spec.recipient == "prefecture" else "jlis"
            )
        extra = {"sent_at": sent_at} if sent_at else {}
        return Envelope(
            kind=kind,
            sender=self.code,
            recipient=recipient,
            body=body,
            idempotency_key=key or f"test:{draw_juminhyo_code()}:{kind}",
            **extra,
        )

    def send(self, kind: str, body: dict[str, Any], **options: Any) -> tuple[Envelope, Response]:
        envelope = self.envelope(kind, body, **options)
        return envelope, self.client.send(envelope)

    def verified_reply(self, envelope: Envelope, response: Response) -> Envelope:
        """The reply, checked: 200, signed by the node addressed, answering this message."""
        assert response.status == 200, response.content.decode()
        reply = response.verified(self.public_keys[envelope.recipient])
        assert reply.sender == envelope.recipient
        assert reply.recipient == self.code
        assert reply.idempotency_key == f"reply:{envelope.id}"
        return reply

    def ok(self, kind: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        """Send, expect ``<kind>.result``, return its body."""
        envelope, response = self.send(kind, body, **options)
        reply = self.verified_reply(envelope, response)
        assert reply.kind == f"{kind}.result", reply.body
        return reply.body

    def refused(self, kind: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        """Send, expect a signed ``error`` reply, return its body."""
        envelope, response = self.send(kind, body, **options)
        reply = self.verified_reply(envelope, response)
        assert reply.kind == "error", reply.body
        return reply.body


@pytest.fixture
def make_city(netsim_server: NetsimProcess, public_keys: dict[str, str]) -> Iterator[Any]:
    made: list[City] = []

    def make(name: str = "試験市", prefecture: str = "14") -> City:
        code = new_municipality_code(prefecture)
        key = NodeKey.generate(code)
        client = Client(netsim_server.url, key)
        registered = client.register(name)
        assert registered.status == 201, registered.content.decode()
        city = City(code, name, key, client, dict(public_keys))
        if prefecture_node(code) not in city.public_keys:
            with Client(netsim_server.url) as anonymous:
                node = anonymous.node(prefecture_node(code)).json()
            city.public_keys[prefecture_node(code)] = node["public_key"]
        made.append(city)
        return city

    yield make
    for city in made:
        city.client.close()


@pytest.fixture
def city(make_city: Any) -> City:
    return make_city()  # type: ignore[no-any-return]


def identity(city: City, juminhyo_code: str, sequence: int, **changes: Any) -> dict[str, Any]:
    """An ``identity.update`` body for a person of ``city``."""
    data = {
        "juminhyo_code": juminhyo_code,
        "my_number": None,
        "family_name": "山田",
        "given_name": "太郎",
        "name_alphabet": "",
        "name_kana": "ヤマダ　タロウ",
        "birth_date": "1980-04-01",
        "sex": "1",
        "address": "神奈川県相模原市中央区中央2丁目11番15号",
        "municipality_code": city.code,
        "status": "resident",
        "change_reason": "転入",
        "occurred_on": dt.date(2026, 4, 1).isoformat(),
        "sequence": sequence,
    }
    data.update(changes)
    return {"identity": data}


@pytest.fixture
def jcode() -> Any:
    """A fresh 住民票コード per call (random, valid check digit)."""
    return draw_juminhyo_code

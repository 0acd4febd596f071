"""Two cities end to end (issue 7 item 3): netsim, city A (141500) and city B (131016) as
three processes on loopback, each with its own database (SQLite files, or scratch databases
on the PostgreSQL server of this run), driven through the screens, the API and the
``jumin cs deliver|receive`` commands — the same steps as ``make two-cities``.

std 4.1.1 (転入・特例転入, j560…), 4.1.3 (転出, 転出証明書情報 j670, 転入通知 j680),
7.1.1 (本人確認情報の送信, j1090).
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.conf import settings

from jumin.jukinet import twocities
from jumin.netsim.testing import scratch_database

pytestmark = pytest.mark.slow  # three processes, about a minute


def test_family_moves_by_card_and_a_resident_by_paper(tmp_path):
    # std 4.1.3.0.4 (j670), 4.1.1 (特例転入), 4.1.3.1 (j680), 7.1.1 (j1090)
    default = settings.DATABASES["default"]
    with contextlib.ExitStack() as stack:
        databases = {}
        for name in ("netsim", "a", "b"):
            (tmp_path / f"db-{name}").mkdir()
            url = stack.enter_context(scratch_database(default, tmp_path / f"db-{name}"))
            databases[name] = url
        result = twocities.run(tmp_path / "run", databases, say=lambda line: None)
    today = dt.date.today().isoformat()
    # the 特例転入 family: A's records are 除票 with the confirmed date and B's address
    assert len(result.a_atena) == 4 and len(result.b_atena) == 4
    for person in result.a_after:
        assert person["is_removed"]
        assert person["record"]["moved_out_on"] == today
        assert person["record"]["moved_out_address"] == result.national_after[0]["address"]
    assert len(result.notice_drafts) == 4  # entered by the CS, committed by a reviewer
    # the national file: B, the new address, the 個人番号 unchanged
    assert [n["municipality_code"] for n in result.national_after] == ["131016"] * 4
    assert [n["my_number"] for n in result.national_after] == result.family_numbers
    assert all("5番8号" in n["address"] for n in result.national_after)
    # the paper path: the notice still reached A
    assert result.paper_a_after["is_removed"]
    assert result.paper_a_after["record"]["moved_out_on"] == today
    assert result.paper_national["municipality_code"] == "131016"
    assert any("転出証明書情報を取得" in step for step in result.steps)

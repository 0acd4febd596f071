"""住民記録の整合性検査: the current view rebuilt from history and compared item by item.

Task ③ of the city's assessment (keep the register accurate); std 1.2.1 (j200): the current
record is each person's latest history snapshot.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import StaffFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.register import crypto
from jumin.register.importer import import_register
from jumin.register.models import Resident, ResidentHistory
from jumin.register.tests import factories
from jumin.register.verify import FUNCTION, verify_register
from jumin.synth.generator import generate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    crypto.reset_keyring_cache()
    yield settings.KEY_FILE
    crypto.reset_keyring_cache()


@pytest.fixture
def imported(tmp_path):
    """A small synthetic city, imported."""
    generate(tmp_path / "city", 120, 3)
    admin = StaffFactory(roles=["administrator"])
    report = import_register(Actor.system("cli", "test"), tmp_path / "city", operator=admin)
    assert report.loaded
    return report


def raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_passes_after_an_import(imported):
    report = verify_register()
    assert report.ok, report.lines()
    assert report.residents == imported.residents
    assert report.history_rows == imported.history_rows
    assert report.persons == imported.residents
    assert "一致しています" in "\n".join(report.lines())


def test_verify_passes_after_procedures(imported):
    factories.family()
    _change, (person,) = factories.committed_move_in()
    report = verify_register()
    assert report.ok, report.lines()
    assert report.residents == imported.residents + 5
    assert Resident.objects.filter(atena_no=person.atena_no).exists()


def test_verify_passes_on_procedures_alone():
    factories.family()
    report = verify_register()
    assert report.ok and report.residents == 4 and report.history_rows == 4


def test_a_tampered_current_view_is_reported_field_by_field(imported):
    resident = Resident.objects.filter(status="resident").order_by("atena_no")[3]
    raw(
        "UPDATE register_resident SET family_name = %s WHERE atena_no = %s",
        ["改竄", resident.atena_no],
    )
    report = verify_register()
    assert not report.ok
    assert report.difference_count == 1
    (difference,) = report.differences
    assert difference.kind == "field"
    assert difference.atena_no == resident.atena_no
    assert difference.field == "family_name"
    assert (difference.current, difference.history) == ("改竄", resident.family_name)

    out = io.StringIO()
    with pytest.raises(CommandError, match="1 件の不一致"):
        call_command("register", "verify", stdout=out)
    text = out.getvalue()
    assert f"宛名番号 {resident.atena_no} family_name（氏）" in text
    assert "住民票「改竄」" in text


def test_a_changed_search_key_is_reported(imported):
    resident = Resident.objects.order_by("atena_no").first()
    assert resident is not None
    raw("UPDATE register_resident SET kana_key = 'X' WHERE atena_no = %s", [resident.atena_no])
    report = verify_register()
    assert [(d.atena_no, d.field) for d in report.differences] == [(resident.atena_no, "kana_key")]


def test_a_swapped_my_number_is_shown_by_row_id_never_by_number(imported, tmp_path):
    """Invariant 6: the check compares encrypted-row ids and never prints a number."""
    first, second = Resident.objects.order_by("atena_no")[:2]
    raw(
        "UPDATE register_resident SET my_number_id = %s WHERE atena_no = %s",
        [second.my_number_id, first.atena_no],
    )
    report = verify_register()
    (difference,) = report.differences
    assert difference.field == "my_number_id"
    assert (difference.current, difference.history) == (
        str(second.my_number_id),
        str(first.my_number_id),
    )
    text = "\n".join(report.lines())
    assert "個人番号（暗号化行のID）" in text
    numbers = {crypto.reveal_my_number(r.my_number) for r in (first, second) if r.my_number}
    assert numbers and not any(n in text for n in numbers)
    assert not re.search(r"\d{12}", text)


def test_a_deleted_resident_row_is_reported_missing(imported):
    resident = Resident.objects.order_by("-atena_no").first()
    assert resident is not None
    raw("DELETE FROM register_resident WHERE atena_no = %s", [resident.atena_no])
    report = verify_register()
    assert (report.missing, report.extra, report.difference_count) == (1, 0, 1)
    (difference,) = report.differences
    assert (difference.kind, difference.atena_no) == ("missing", resident.atena_no)
    assert "住民票（現在の記録）がありません" in difference.format()


def test_a_resident_row_without_history_is_reported_extra(imported):
    resident = Resident.objects.order_by("atena_no").first()
    assert resident is not None
    resident.pk = None
    resident.atena_no = "0000000000"  # sorts first: no history has it
    resident.save()
    report = verify_register()
    assert (report.extra, report.difference_count) == (1, 1)
    assert report.differences[0].atena_no == "0000000000"


def test_a_gap_in_history_numbers_is_reported(imported):
    latest = ResidentHistory.objects.order_by("atena_no", "-history_no").first()
    assert latest is not None
    number = latest.history_no
    latest.pk = None
    latest.history_no = number + 2  # append-only: an insert is possible, an update is not
    latest.save()
    report = verify_register()
    assert report.gaps == 1
    kinds = {(d.kind, d.field) for d in report.differences}
    assert ("gap", "") in kinds
    assert ("field", "history_no") in kinds  # the current view is no longer the latest


def test_the_check_is_logged_with_counts(imported):
    report = verify_register(Actor.system("cli", "test"))
    entry = OperationLogEntry.objects.filter(function=FUNCTION).get()
    assert entry.category == Category.EVENT
    assert entry.outcome == Outcome.SUCCESS
    assert entry.detail["residents"] == report.residents
    assert entry.detail["differences"] == 0
    assert not entry.my_number_accessed


def test_the_limit_keeps_the_count(imported):
    raw("UPDATE register_resident SET remarks = 'x'", [])
    report = verify_register(limit=3)
    assert report.difference_count == imported.residents
    assert len(report.differences) == 3
    assert "最初の 3 件を表示" in "\n".join(report.lines())

"""支援措置期間終了通知 (std 20.5.1, required by std 3.4 j440): an A4 PDF read back with
poppler — the applicant's name, the period and the extension window in 和暦, the persons
covered, 見本 in demo mode; never an address or the abuser."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from jumin.audit.models import OperationLogEntry
from jumin.core.findings import FindingsError
from jumin.register.tests import factories as f
from jumin.support import services
from jumin.support.models import SupportEvent
from jumin.support.schemas import ConfirmIn, TerminateIn
from jumin.support.tests import factories as sf

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pages(pdf, tmp_path):
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


@pytest.fixture
def family():
    _, members = f.family()
    return members


def test_the_notice_states_the_period_and_the_extension_window(family, monkeypatch, tmp_path):
    # std 20.5.1 / 3.4 (j440): それに先立ち支援措置期間終了通知を出力できること
    _, wife, son, _ = family
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2025, 4, 1))
    officer = sf.officer()
    measure = sf.active(
        wife, officer, start_on=dt.date(2025, 4, 1), covered=[{"atena_no": son.atena_no}]
    )
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 3, 2))
    pdf = services.notice_pdf(officer, measure.pk)
    assert pdf.startswith(b"%PDF")
    assert pages(pdf, tmp_path) == 1
    text = flat(pdf_text(pdf, tmp_path))
    assert "住民基本台帳事務における支援措置の期間終了について（通知）" in text
    assert flat(wife.name) + "様" in text
    assert "令和8年3月2日" in text  # issued on
    assert "令和7年4月1日" in text  # start
    assert "令和8年3月31日" in text  # end
    assert "令和8年2月28日から令和8年3月31日まで" in text  # the extension window
    assert flat(son.name) in text
    assert "神奈川県相模原市長" in text
    assert "見本" in text  # demo mode
    for secret in ("加害", "カガイ", "西新宿", flat(wife.address), "090-0000-0000"):
        assert secret not in text
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry.function == services.FUNCTION_NOTICE
    assert entry.detail["title"] == services.NOTICE_TITLE and entry.detail["pages"] == 1
    assert entry.detail["my_number_printed"] is False
    assert SupportEvent.objects.filter(measure=measure, action="notice").exists()


def test_no_sample_mark_in_production_mode(family, settings, tmp_path):
    settings.JUMIN = {**settings.JUMIN, "MODE": "production", "CERT_MAYOR_NAME": "本番　市長"}
    officer = sf.officer()
    measure = sf.active(family[1], officer)
    text = flat(pdf_text(services.notice_pdf(officer, measure.pk), tmp_path))
    assert "見本" not in text and "本番市長" in text


def test_only_for_a_measure_with_a_period(family):
    officer = sf.officer()
    measure = sf.provisional(family[1], officer)
    with pytest.raises(FindingsError) as exc:
        services.notice_pdf(officer, measure.pk)
    assert {x.code for x in exc.value.findings} == {"support.notice_not_applicable"}
    services.confirm(officer, measure.pk, ConfirmIn.model_validate({}))
    services.terminate(officer, measure.pk, TerminateIn(reason="requested"))
    with pytest.raises(FindingsError):
        services.notice_pdf(officer, measure.pk)


def test_rare_name_characters_are_embedded(family, tmp_path):
    # names print as written (IPAmj明朝 for characters IPAex lacks, e.g. 𠮷)
    _, [person] = f.committed_move_in(
        f.person(family_name="𠮷田", given_name="花子", name_kana="ヨシダ ハナコ")
    )
    officer = sf.officer()
    measure = sf.active(person, officer)
    pdf = services.notice_pdf(officer, measure.pk)
    assert "𠮷田" in flat(pdf_text(pdf, tmp_path))
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert fonts.count(" yes ") >= 2  # embedded (emb column)

"""Findings: errors block, alerts warn and need acknowledgement. std 11.1 (j1440)."""

import pytest

from jumin.core.errors import CoreError, IdentifierError
from jumin.core.findings import Finding, Findings, FindingsError, Severity, alert, error


def test_errors_block_and_alerts_need_acknowledgement():
    # std 11.1 (j1440)
    findings = Findings()
    assert not findings and len(findings) == 0
    assert not findings.blocks()
    findings.add(
        alert(
            "move_in.late", "届出が14日を過ぎています。", field="notified_on", remedy="理由を確認"
        )
    )
    assert findings.blocks()
    assert not findings.blocks(acknowledged=["move_in.late"])
    assert [f.code for f in findings.unacknowledged([])] == ["move_in.late"]
    findings.extend([error("name.empty", "氏名を入力してください。", field="name")])
    assert findings.has_errors
    assert findings.blocks(acknowledged=["move_in.late", "name.empty"])
    assert [f.code for f in findings.errors] == ["name.empty"]
    assert [f.code for f in findings.alerts] == ["move_in.late"]
    assert [f.code for f in findings.for_field("name")] == ["name.empty"]
    assert [f.code for f in findings] == ["move_in.late", "name.empty"]
    assert findings.as_list()[1] == {
        "code": "name.empty",
        "severity": "error",
        "message": "氏名を入力してください。",
        "field": "name",
        "remedy": "",
    }


def test_severity_labels_and_flags():
    assert Severity.ERROR.label == "エラー"
    assert Severity.ALERT.label == "アラート"
    assert error("a", "b").is_error
    assert not alert("a", "b").is_error


@pytest.mark.parametrize(("code", "message"), [("", "msg"), ("code", "")])
def test_a_finding_needs_code_and_message(code, message):
    with pytest.raises(ValueError, match="needs"):
        Finding(code, Severity.ERROR, message)


def test_findings_error_carries_the_findings():
    exc = FindingsError([error("name.empty", "氏名を入力してください。", field="name")])
    assert exc.findings.has_errors
    assert "name: 氏名を入力してください。" in str(exc)
    same = FindingsError(exc.findings)
    assert same.findings is exc.findings


def test_core_error_carries_code_and_message():
    exc = IdentifierError("my_number.length", "個人番号は12桁です。")
    assert isinstance(exc, CoreError) and isinstance(exc, ValueError)
    assert exc.code == "my_number.length"
    assert str(exc) == "個人番号は12桁です。 [my_number.length]"

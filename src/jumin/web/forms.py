from __future__ import annotations

from typing import Any

from django import forms

from jumin.accounts.selectors import terminal_list


class StaffLoginForm(forms.Form):
    """Step 1 of a login. The fields only; the check (lock, terminal, password, place) is
    ``jumin.authn.services.password_step``, which logs every refusal."""

    username = forms.CharField(
        label="職員ID",
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
        error_messages={"required": "職員IDを入力してください。"},
    )
    password = forms.CharField(
        label="パスワード",
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "パスワードを入力してください。"},
    )
    # a plain field: an id that is not a registered terminal is refused (and logged) by the
    # service, not silently by the form
    terminal = forms.CharField(
        label="端末",
        required=False,
        max_length=20,
        help_text="この端末の名前（設置場所）。操作ログと異動の記録に残ります。",
    )

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        super().__init__(*args, **kwargs)
        terminals = terminal_list().filter(is_active=True)
        self.terminal_choices: list[tuple[Any, str]] = [("", "（選択してください）")] + [
            (t.pk, f"{t.name}（{t.location}）") for t in terminals
        ]
        self.terminals_registered = len(self.terminal_choices) > 1

    def clean_terminal(self) -> str:
        value = str(self.cleaned_data.get("terminal") or "").strip()
        if not value and self.terminals_registered:
            raise forms.ValidationError(
                "端末を選択してください。一覧にない場合はシステム管理者に端末の登録を依頼してください。",
                code="required",
            )
        return value


class EnrolIdentifyForm(forms.Form):
    """The person who opened an enrolment link: staff id and password."""

    username = forms.CharField(
        label="職員ID",
        max_length=64,
        error_messages={"required": "職員IDを入力してください。"},
    )
    password = forms.CharField(
        label="パスワード",
        strip=False,
        max_length=256,
        widget=forms.PasswordInput,
        error_messages={"required": "パスワードを入力してください。"},
    )


class StaffIdForm(forms.Form):
    """An administrator names a member of staff (link, reset, unlock)."""

    ACTIONS = (
        ("issue", "登録用リンクを発行"),
        ("reset", "認証器をリセット（全削除＋リンク発行）"),
        ("unlock", "ロックを解除"),
    )

    staff_id = forms.CharField(
        label="職員ID", max_length=64, error_messages={"required": "職員IDを選んでください。"}
    )
    action = forms.ChoiceField(label="操作", choices=ACTIONS)
